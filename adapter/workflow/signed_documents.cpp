#include <fmt/format.h>

#include <boost/json.hpp>

#include "workflow/workflow.hpp"
#include "workflow/workflow_internal.hpp"

// The signed documents from the government bus: a voucher application, the recognition center's
// decision, the holder's sick-leave sheet and the recognition outcome (the service act has a file
// of its own: acts_and_payments.cpp).
namespace nqs::workflow {

using detail::date_at;
using detail::text_at;
using detail::unknown;

namespace {

// The application's fields, read once from the mapped document (mappings/voucher-application.yaml).
domain::Submitted submitted_form(const boost::json::object& payload) {
  domain::Submitted form;
  form.application_id = text_at(payload, "applicationId");
  form.iin = text_at(payload, "applicant.iin");
  form.region = text_at(payload, "region");
  form.permanent_region = text_at(payload, "applicant.permanentRegion");
  form.profile = text_at(payload, "profession.profile") == "social_humanitarian"
                     ? domain::Profile::social_humanitarian
                     : domain::Profile::technical;
  form.center_bin = text_at(payload, "recognitionCenter.bin");
  form.center_name = text_at(payload, "recognitionCenter.name");
  form.submitted_at = parse_instant(text_at(payload, "submittedAt"));
  form.payload = payload;
  return form;
}

}  // namespace

Result<Decided> Workflow::submitted(const intake::Accepted& document, StateView& view,
                                    Instant now) const {
  const auto& payload = document.payload;
  const auto& causation = document.envelope.message_id;
  auto form = submitted_form(payload);
  BOOST_OUTCOME_TRY(auto existing, view.application(form.application_id));
  if (existing) return step(existing, std::move(form), causation, view, now, &document);
  // Art. 3: the facts the automatic checks need, as known now (the quota year is the year of the
  // local date of submission).
  const auto& iin = form.iin;
  const auto& region = form.region;
  const auto submitted_at = form.submitted_at.value_or(now);
  const int year =
      static_cast<int>(date::year_month_day{calendar_.local_date(submitted_at)}.year());
  auto& facts = form.facts;
  BOOST_OUTCOME_TRY(auto unemployment, view.unemployment(iin));
  if (unemployment) facts.registered_unemployed = unemployment->registered;
  BOOST_OUTCOME_TRY(auto quota, view.quota(domain::oblast_of(region), year));
  facts.quota_left = quota ? quota->allocated - quota->reserved : 0;
  // Ground (c): a voucher *issued* this calendar year (audit point 1), whichever year its
  // application was submitted in. Other applications still on their way are no ground.
  for (const int in_year : {year - 1, year}) {
    BOOST_OUTCOME_TRY(auto rows, view.applications_of(iin, in_year));
    for (const auto& row : rows) {
      if (row.voucher_year == year) facts.voucher_received_this_year = true;
    }
  }
  return step(std::nullopt, std::move(form), causation, view, now, &document);
}

Result<Decided> Workflow::on_document(const intake::Accepted& document, StateView& view,
                                      Instant now) const {
  const auto& payload = document.payload;
  const auto& causation = document.envelope.message_id;
  const auto& type = document.command_type;
  if (type == "SubmitVoucherApplication") return submitted(document, view, now);

  if (type == "RecordRecognitionCenterDecision") {
    const auto id = text_at(payload, "applicationId");
    BOOST_OUTCOME_TRY(auto row, view.application(id));
    if (!row) return Decided{unknown(fmt::format("no application {} is known", id))};
    domain::CenterDecided input{text_at(payload, "recognitionCenterBin"),
                                text_at(payload, "decision") == "accepted",
                                text_at(payload, "reason")};
    return step(row, input, causation, view, now, &document);
  }

  if (type == "RegisterServiceAct") return service_act(document, view, now);

  // The voucher's documents: the sick-leave sheet and the outcome.
  const auto voucher = text_at(payload, "voucherId");
  BOOST_OUTCOME_TRY(auto row, view.application_by_voucher(voucher));
  if (!row) return Decided{unknown(fmt::format("no voucher {} is known", voucher))};
  if (type == "RecordSickLeaveNotice") {
    const auto from = date_at(payload, "from");
    const auto to = date_at(payload, "to");
    const auto submitted_at = parse_instant(text_at(payload, "submittedAt"));
    if (!from || !to || !submitted_at) {
      return Decided{Rejection{Reason::schema_invalid, "From, To or SubmittedAt is missing"}};
    }
    domain::SickLeaveSubmitted input{text_at(payload, "holderIin"),
                                     {*from, *to, text_at(payload, "sheetNumber")},
                                     *submitted_at,
                                     false};
    return step(row, input, causation, view, now, &document);
  }
  if (type == "RecordRecognitionOutcome") {
    const auto exam = date_at(payload, "examDate");
    const auto protocol = date_at(payload, "protocolSignedOn");
    if (!exam || !protocol) {
      return Decided{Rejection{Reason::schema_invalid, "ExamDate or ProtocolSignedOn is missing"}};
    }
    domain::OutcomeRecorded input{text_at(payload, "recognitionCenterBin"),
                                  text_at(payload, "region"),
                                  text_at(payload, "result") == "passed",
                                  *exam,
                                  *protocol,
                                  date_at(payload, "appealDecidedOn"),
                                  payload};
    return step(row, input, causation, view, now, &document);
  }
  return Decided{Rejection{Reason::soap_unknown_document,
                           fmt::format("no workflow takes the command {}", type)}};
}

}  // namespace nqs::workflow
