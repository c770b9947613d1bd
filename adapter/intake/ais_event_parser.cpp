#include "intake/ais_event_parser.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <map>
#include <set>

#include "common/identifiers.hpp"
#include "common/strict_json.hpp"
#include "domain/rules.hpp"
#include "intake/ais_event_schema.hpp"
#include "mapping/mapping.hpp"
#include "yaml/reader.hpp"

namespace nqs::intake {

using namespace domain;
namespace {

// Thrown inside the parser only, caught at its boundary: the first problem ends the parse.
struct Invalid {
  Reason reason;
  std::string detail;
};

[[noreturn]] void invalid(std::string detail) {
  throw Invalid{Reason::json_invalid, std::move(detail)};
}

// One object of an event that passed the schema: the fields are there and of their type, so
// reading them only converts (a value of another shape throws, and is refused at the boundary).
class Fields {
 public:
  Fields(const boost::json::value& value, std::string path)
      : object_(&value.as_object()), path_(std::move(path)) {}

  const boost::json::value* optional(std::string_view key) const {
    return object_->if_contains(key);
  }
  const boost::json::value& required(std::string_view key) const { return object_->at(key); }
  std::string text(std::string_view key) const { return std::string(required(key).as_string()); }
  bool flag(std::string_view key) const { return required(key).as_bool(); }
  std::int64_t integer(std::string_view key) const { return required(key).as_int64(); }
  std::string iin(std::string_view key) const {
    auto out = text(key);
    if (auto problem = check_iin_or_bin(out)) {
      throw Invalid{Reason::domain_invalid_identifier, fmt::format("{}: {}", at(key), *problem)};
    }
    return out;
  }
  // The schema gives the shape YYYY-MM-DD; the calendar says whether that day exists.
  calendar::Date date(std::string_view key) const {
    auto out = text(key);
    auto parsed = yaml::parse_date(out);
    if (!parsed) invalid(fmt::format("{}: '{}' is not a date YYYY-MM-DD", at(key), out));
    return calendar::Date{*parsed};
  }
  std::vector<std::string> texts(std::string_view key) const {
    std::vector<std::string> out;
    if (const auto* value = optional(key)) {
      for (const auto& item : value->as_array())
        out.emplace_back(item.as_string());
    }
    return out;
  }
  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] std::string at(std::string_view key) const {
    return path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
  }

 private:
  const boost::json::object* object_;
  std::string path_;
};

UnemployedStatusChanged read_unemployed_status_changed(Fields& payload) {
  UnemployedStatusChanged out;
  out.iin = payload.iin("iin");
  out.registered = payload.flag("registered");
  out.region = payload.text("region");
  out.since = payload.date("since");
  return out;
}

QuotaAllocated read_quota_allocated(Fields& payload) {
  QuotaAllocated out;
  out.period_start = static_cast<int>(payload.integer("periodStart"));
  out.period_end = static_cast<int>(payload.integer("periodEnd"));
  if (out.period_end < out.period_start) {
    invalid(fmt::format("payload.periodEnd {} is before periodStart {}", out.period_end,
                        out.period_start));
  }
  std::set<std::string> seen;
  std::size_t index = 0;
  for (const auto& item : payload.required("regions").as_array()) {
    Fields region(item, fmt::format("payload.regions[{}]", index++));
    QuotaRegion quota;
    quota.region = region.text("region");
    // Audit point 4: `vouchers` for the period, and an optional breakdown `vouchersPerYear`
    // (one number for every year, or {year: n}); without it the years share the total.
    const int years = out.period_end - out.period_start + 1;
    std::optional<std::int64_t> total;
    if (region.optional("vouchers") != nullptr) {
      total = region.integer("vouchers");
      if (*total > 1'000'000 * std::int64_t{years}) {
        invalid(fmt::format("{}.vouchers: {} is more than 1000000 a year", region.path(), *total));
      }
    }
    const auto* breakdown = region.optional("vouchersPerYear");
    std::int64_t sum = 0;
    if (breakdown == nullptr) {
      if (!total) invalid(fmt::format("{}: give vouchers, vouchersPerYear or both", region.path()));
      quota.shared = *total;
    } else if (breakdown->is_object()) {
      // Every year of the period, and no other.
      const auto& per_year = breakdown->as_object();
      for (int year = out.period_start; year <= out.period_end; ++year) {
        const auto* n = per_year.if_contains(std::to_string(year));
        if (n == nullptr)
          invalid(fmt::format("{}.{} is missing", region.at("vouchersPerYear"), year));
        quota.by_year[year] = n->as_int64();
        sum += n->as_int64();
      }
      for (const auto& entry : per_year) {
        if (!quota.by_year.contains(std::stoi(std::string(entry.key())))) {
          invalid(fmt::format("{}.{}: the year is outside the period {}-{}",
                              region.at("vouchersPerYear"), entry.key(), out.period_start,
                              out.period_end));
        }
      }
    } else {
      quota.vouchers_per_year = region.integer("vouchersPerYear");
      sum = quota.vouchers_per_year * years;
    }
    if (breakdown != nullptr && total && *total != sum) {
      invalid(fmt::format("{}: vouchersPerYear adds up to {} for {}-{}, vouchers says {}",
                          region.path(), sum, out.period_start, out.period_end, *total));
    }
    // Taken at oblast level (audit point 3): one entry an oblast.
    if (!seen.insert(oblast_of(quota.region)).second) {
      invalid(fmt::format("payload.regions: region {} is in oblast {}, given already", quota.region,
                          oblast_of(quota.region)));
    }
    out.regions.push_back(quota);
  }
  return out;
}

ApplicationReviewed read_application_reviewed(Fields& payload) {
  ApplicationReviewed out;
  out.application_id = payload.text("applicationId");
  out.forward = payload.text("decision") == "forward";
  out.reasons = payload.texts("reasons");
  // Rules 380 art. 8: a refusal is motivated, on the grounds art. 8 gives (audit point 9).
  if (!out.forward && out.reasons.empty())
    invalid("payload.reasons is required when the decision is refuse");
  if (payload.optional("comment") != nullptr) out.comment = payload.text("comment");
  if (payload.optional("profile") != nullptr) {
    if (!out.forward) invalid("payload.profile is given only with the decision forward");
    out.profile = payload.text("profile");
  }
  return out;
}

ApplicationForwarded read_application_forwarded(Fields& payload) {
  return ApplicationForwarded{payload.text("applicationId")};
}

ApplicationRefused read_application_refused(Fields& payload) {
  ApplicationRefused out;
  out.application_id = payload.text("applicationId");
  out.reasons = payload.texts("reasons");
  return out;
}

VoucherIssued read_voucher_issued(Fields& payload) {
  VoucherIssued out;
  out.voucher_id = payload.text("voucherId");
  out.application_id = payload.text("applicationId");
  out.issued_on = payload.date("issuedOn");
  return out;
}

VoucherExtended read_voucher_extended(Fields& payload) {
  VoucherExtended out;
  out.voucher_id = payload.text("voucherId");
  out.sheet_number = payload.text("sheetNumber");
  out.valid_until = payload.date("validUntil");
  return out;
}

SickLeaveRecorded read_sick_leave_recorded(Fields& payload) {
  SickLeaveRecorded out;
  out.voucher_id = payload.text("voucherId");
  out.holder_iin = payload.iin("holderIin");
  out.sheet_number = payload.text("sheetNumber");
  out.from = payload.date("from");
  out.to = payload.date("to");
  if (out.to < out.from) {
    invalid(fmt::format("payload.to {} is before payload.from {}", calendar::to_string(out.to),
                        calendar::to_string(out.from)));
  }
  return out;
}

PaymentMade read_payment_made(Fields& payload) {
  PaymentMade out;
  out.act_number = payload.text("actNumber");
  out.to_center = payload.text("payee") == "center";
  const auto amount = payload.text("amount");
  auto tiyn = mapping::parse_money_tiyn(amount);
  if (!tiyn) {
    invalid(fmt::format("payload.amount: '{}' is not an amount of tenge with at most 2 decimals",
                        amount));
  }
  out.amount_tiyn = *tiyn;
  out.paid_on = payload.date("paidOn");
  if (payload.optional("voucherId") != nullptr) {
    if (out.to_center) invalid("payload.voucherId names a holder: the center is paid per act");
    out.voucher_id = payload.text("voucherId");
  }
  return out;
}

// Each event type and its reader.
using PayloadReader = AisPayload (*)(Fields&);
const std::map<std::string_view, PayloadReader>& payload_readers() {
  static const std::map<std::string_view, PayloadReader> readers{
      {"UnemployedStatusChanged",
       [](Fields& payload) -> AisPayload { return read_unemployed_status_changed(payload); }},
      {"QuotaAllocated",
       [](Fields& payload) -> AisPayload { return read_quota_allocated(payload); }},
      {"ApplicationReviewed",
       [](Fields& payload) -> AisPayload { return read_application_reviewed(payload); }},
      {"ApplicationForwarded",
       [](Fields& payload) -> AisPayload { return read_application_forwarded(payload); }},
      {"ApplicationRefused",
       [](Fields& payload) -> AisPayload { return read_application_refused(payload); }},
      {"VoucherIssued", [](Fields& payload) -> AisPayload { return read_voucher_issued(payload); }},
      {"VoucherExtended",
       [](Fields& payload) -> AisPayload { return read_voucher_extended(payload); }},
      {"SickLeaveRecorded",
       [](Fields& payload) -> AisPayload { return read_sick_leave_recorded(payload); }},
      {"PaymentMade", [](Fields& payload) -> AisPayload { return read_payment_made(payload); }},
  };
  return readers;
}

AisPayload parse_payload(const std::string& type, Fields& payload) {
  const auto& readers = payload_readers();
  const auto reader = readers.find(type);
  if (reader == readers.end())
    invalid(fmt::format("type: '{}' is not an AIS event this adapter knows", type));
  return reader->second(payload);
}

}  // namespace

std::variant<domain::AisEvent, Rejection> parse_ais_event(std::string_view body,
                                                          std::size_t max_bytes) {
  if (body.size() > max_bytes) {
    return Rejection{
        Reason::json_invalid,
        fmt::format("the event is {} bytes; at most {} are accepted", body.size(), max_bytes)};
  }
  auto parsed = parse_strict_json(body, 16);
  if (auto* problem = std::get_if<std::string>(&parsed)) {
    return Rejection{Reason::json_invalid, std::move(*problem)};
  }
  const auto& value = std::get<boost::json::value>(parsed);
  if (auto problem = ais_event_schema_problem(value)) {
    return Rejection{Reason::json_invalid, std::move(*problem)};
  }
  try {
    Fields event(value, "");
    AisEvent out;
    out.event_id = event.text("eventId");
    out.type = event.text("type");
    const auto occurred = event.text("occurredAt");
    auto instant = parse_instant(occurred);
    if (!instant)
      invalid(fmt::format("occurredAt: '{}' is not an instant with an offset", occurred));
    out.occurred_at = *instant;
    Fields payload(event.required("payload"), "payload");
    out.payload = parse_payload(out.type, payload);
    return out;
  } catch (const Invalid& problem) {
    return Rejection{problem.reason, problem.detail};
  } catch (const std::exception& wrong_shape) {  // only if the schema and the readers disagree
    return Rejection{
        Reason::json_invalid,
        fmt::format("the event does not have the shape of its schema: {}", wrong_shape.what())};
  }
}

}  // namespace nqs::intake
