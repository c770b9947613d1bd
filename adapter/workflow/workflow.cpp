#include "workflow/workflow.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "amqp/properties_json.hpp"
#include "common/ids.hpp"
#include "domain/commands.hpp"
#include "mapping/mapping.hpp"
#include "workflow/application_json.hpp"
#include "yaml/reader.hpp"

namespace nqs::workflow {
namespace {

std::string text_at(const boost::json::object& payload, std::string_view path) {
  const auto* value = mapping::find_path(payload, path);
  return value != nullptr && value->is_string() ? std::string(value->get_string()) : std::string();
}

std::optional<calendar::Date> date_at(const boost::json::object& payload, std::string_view path) {
  const auto parsed = yaml::parse_date(text_at(payload, path));
  if (!parsed) return std::nullopt;
  return calendar::Date{*parsed};
}

Rejection unknown(std::string detail) {
  return Rejection{Reason::domain_unknown_subject, std::move(detail)};
}

// Whether a stored stage is one of an application still on its way to a voucher.
bool on_its_way(std::string_view stage) {
  const auto named = domain::stage_named(stage);
  return named && domain::on_its_way(*named);
}

// Appends what `from` does to what `into` does: one input that moves several applications.
void absorb(Effects& into, Effects from) {
  for (const auto index : from.to_sign)
    into.to_sign.push_back(into.outbox.size() + index);
  for (auto& row : from.outbox)
    into.outbox.push_back(std::move(row));
  auto append = [](auto& to, auto& more) {
    for (auto& item : more)
      to.push_back(std::move(item));
  };
  auto& a = into.changes;
  auto& b = from.changes;
  append(a.applications, b.applications);
  append(a.allocations, b.allocations);
  append(a.reservations, b.reservations);
  append(a.unemployment, b.unemployment);
  append(a.timers, b.timers);
  append(a.cancelled_timers, b.cancelled_timers);
  append(a.closed_deadlines, b.closed_deadlines);
  append(a.opened_deadlines, b.opened_deadlines);
  append(a.marked_deadlines, b.marked_deadlines);
  append(into.late, from.late);
}

// One input that moves `n` applications (`decide(i)` each): their effects together, or the
// first rejection. n > 0.
template <typename Decide>
Result<Decided> together(std::size_t n, Decide decide) {
  std::optional<Effects> all;
  for (std::size_t i = 0; i < n; ++i) {
    BOOST_OUTCOME_TRY(auto decided, decide(i));
    auto* effects = std::get_if<Effects>(&decided);
    if (effects == nullptr) return decided;
    if (all) {
      absorb(*all, std::move(*effects));
    } else {
      all = std::move(*effects);
    }
  }
  return Decided{std::move(*all)};
}

store::ApplicationRow row_of(const domain::Application& application) {
  store::ApplicationRow row;
  row.application_id = application.application_id;
  row.iin = application.iin;
  row.quota_year = application.quota_year;
  row.region = application.region;
  row.stage = std::string(domain::stage_name(application.stage));
  row.voucher_id = application.voucher_id;
  row.act_number = application.act_number;
  if (application.issued_on) {
    row.voucher_year = static_cast<int>(date::year_month_day{*application.issued_on}.year());
  }
  row.state_json = boost::json::serialize(workflow::to_json(application));
  return row;
}

}  // namespace

bool takes_command(std::string_view command) {
  return std::find(kCommands.begin(), kCommands.end(), command) != kCommands.end();
}

store::OutboxMessage outbox_message(std::string key, std::string exchange, std::string routing_key,
                                    std::string content_type, std::string correlation_id,
                                    std::string body, Instant now) {
  amqp::Properties properties;
  properties.content_type = std::move(content_type);
  properties.message_id = key;
  properties.correlation_id = std::move(correlation_id);
  properties.type = routing_key;
  properties.persistent = true;
  properties.timestamp =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  store::OutboxMessage row;
  row.key = std::move(key);
  row.exchange = std::move(exchange);
  row.routing_key = std::move(routing_key);
  row.properties_json = amqp::properties_to_json(properties);
  row.body = std::move(body);
  row.created_at = now;
  return row;
}

Result<void> seal(const notify::NotificationBuilder& notifications,
                  std::vector<store::OutboxMessage>& rows,
                  const std::vector<std::size_t>& to_sign) {
  for (const auto index : to_sign) {
    auto& row = rows.at(index);
    auto signed_body = notifications.sign(row.body);
    if (!signed_body) {
      return make_error(fmt::format("the notification {} cannot be signed: {}", row.routing_key,
                                    signed_body.error().message),
                        Failure::permanent);
    }
    row.body = std::move(signed_body).value();
  }
  return outcome::success();
}

Workflow::Workflow(const calendar::WorkingCalendar& calendar, domain::MciTable mci,
                   std::shared_ptr<const notify::NotificationBuilder> notifications,
                   amqp::Names exchanges, domain::DeadlineTable deadlines, domain::Policy policy)
    : calendar_(calendar),
      mci_(std::move(mci)),
      policy_(policy),
      notifications_(std::move(notifications)),
      exchanges_(std::move(exchanges)),
      deadlines_(std::move(deadlines)) {}

Result<Decided> Workflow::effects_of(const domain::Application* before,
                                     const domain::Decision& decision, const std::string& causation,
                                     StateView& view, Instant now,
                                     const boost::json::object* payload) const {
  const auto& correlation = causation;
  Effects effects;
  const auto& next = decision.next;
  effects.subject = next.application_id;
  effects.stage = std::string(domain::stage_name(next.stage));
  effects.changes.applications.push_back(row_of(next));
  if (decision.quota_change != 0) {
    // The lifecycle says -1 for a unit taken from the allocation: one more reserved.
    // Of the oblast's allocation, whatever the level of the KATO applied to (audit point 3).
    effects.changes.reservations.push_back(
        {domain::oblast_of(next.region), next.quota_year, -decision.quota_change});
  }
  for (const auto& timer : decision.timers) {
    if (timer.due) {
      effects.changes.timers.push_back(
          {std::string(kVoucherExpiry), next.application_id, *timer.due, ""});
    } else {
      effects.changes.cancelled_timers.push_back(
          {std::string(kVoucherExpiry), next.application_id, std::nullopt});
    }
  }
  // messages.md "Commands to the AIS": the id is derived from the input, so a redelivered input
  // gives the same command id.
  for (const auto& command : decision.commands) {
    boost::json::object body;
    const auto id = domain::command_id_for(causation, command.type);
    body["commandId"] = id;
    body["type"] = command.type;
    body["issuedAt"] = to_utc_string(now);
    body["correlationId"] = next.application_id;
    body["causationId"] = causation;
    body["payload"] = command.payload;
    effects.outbox.push_back(outbox_message(id, exchanges_.ais_commands, command.type,
                                            "application/json", next.application_id,
                                            boost::json::serialize(body), now));
  }
  // Signed notifications to the government bus; correlationId in requestInfo: the input's id.
  for (const auto& notification : decision.notifications) {
    const auto id = uuid_for("notification:" + causation + ":" + notification.document);
    auto envelope = notifications_->compose(notification, id, correlation, now);
    if (!envelope) {
      return Decided{Rejection{
          Reason::domain_inconsistent,
          fmt::format("the notification {} for application {} cannot be built: {}",
                      notification.document, next.application_id, envelope.error().message)}};
    }
    effects.to_sign.push_back(effects.outbox.size());
    effects.outbox.push_back(outbox_message(id, exchanges_.gov_outbound, notification.document,
                                            "text/xml", next.application_id,
                                            std::move(envelope).value(), now));
  }
  BOOST_OUTCOME_TRY(auto problem, track_deadlines(before, next, effects, view, now, payload));
  if (problem) return Decided{std::move(*problem)};
  return Decided{std::move(effects)};
}

Result<std::optional<Rejection>> Workflow::track_deadlines(
    const domain::Application* before, const domain::Application& next, Effects& effects,
    StateView& view, Instant now, const boost::json::object* payload) const {
  const auto& id = next.application_id;
  for (const auto& rule : deadlines_.rules) {
    const bool was = before != nullptr && domain::covers(rule, before->stage);
    const bool is = domain::covers(rule, next.stage);
    const bool moved = was && is && rule.until_valid && before->valid_until != next.valid_until;
    if (was && (!is || moved)) {
      // Left its stages: the deadline is met, or late if its breach was already reported.
      BOOST_OUTCOME_TRY(auto row, view.deadline(id, rule.step));
      if (row && !row->closed && row->breached && !is) effects.late.push_back(rule.step);
      effects.changes.closed_deadlines.push_back({id, rule.step, now});
      for (const auto prefix : {kSlaWarning, kSlaBreach}) {
        effects.changes.cancelled_timers.push_back(
            {std::string(prefix) + rule.step, id, std::nullopt});
      }
    }
    if (!is || (was && !moved)) continue;
    std::optional<calendar::Date> from_date;
    if (!rule.from.empty() && payload != nullptr) from_date = date_at(*payload, rule.from);
    auto due = domain::due_of(rule, calendar_, now, from_date, next.valid_until);
    if (!due) {
      return std::optional<Rejection>{
          Rejection{Reason::domain_inconsistent,
                    fmt::format("the deadline {} of application {} cannot be computed: {}",
                                rule.step, id, due.error().message)}};
    }
    effects.changes.opened_deadlines.push_back(
        {id, rule.step, rule.responsible, rule.basis, now, due.value(), {}, {}, {}});
    boost::json::object facts;
    facts["step"] = rule.step;
    facts["responsible"] = rule.responsible;
    facts["basis"] = rule.basis;
    facts["started"] = to_utc_string(now);
    facts["due"] = to_utc_string(due.value());
    const auto facts_text = boost::json::serialize(facts);
    effects.changes.timers.push_back({std::string(kSlaWarning) + rule.step, id,
                                      domain::warning_of(deadlines_, calendar_, due.value()),
                                      facts_text});
    // The voucher's own end is its annulment (the voucher_expiry timer), not a breach.
    if (!rule.until_valid) {
      effects.changes.timers.push_back({std::string(kSlaBreach) + rule.step, id,
                                        due.value() + std::chrono::milliseconds{1}, facts_text});
    }
  }
  return std::optional<Rejection>{};
}

Result<Effects> Workflow::sla_fired(const store::TimerRow& timer, const std::string& causation,
                                    StateView& view, Instant now) const {
  Effects effects;
  effects.subject = timer.subject;
  const bool breach = timer.kind.starts_with(kSlaBreach);
  boost::system::error_code ec;
  auto parsed = boost::json::parse(timer.payload, ec);
  if (ec || !parsed.is_object()) {
    effects.note = "the timer's facts are unreadable: " + timer.payload;
    return effects;
  }
  const auto& facts = parsed.as_object();
  const auto step = text_at(facts, "step");
  const auto started = parse_instant(text_at(facts, "started"));
  BOOST_OUTCOME_TRY(auto row, view.deadline(timer.subject, step));
  if (!row || row->closed || !started || row->started != *started) {
    effects.note = fmt::format("the deadline {} was closed before its {}", step,
                               breach ? "breach" : "warning");
    return effects;
  }
  // messages.md: nqs.notifications, sla.warning.<step> / sla.breached.<step>, published once
  // (the firing is an input of its own: a second firing is a duplicate).
  const auto type = fmt::format("sla.{}.{}", breach ? "breached" : "warning", step);
  boost::json::object body;
  body["type"] = type;
  body["step"] = step;
  body["subject"] = timer.subject;
  body["responsible"] = row->responsible;
  body["basis"] = row->basis;
  body["started"] = to_utc_string(row->started);
  body["due"] = to_utc_string(row->due);
  body["now"] = to_utc_string(now);
  effects.outbox.push_back(outbox_message(uuid_for("sla:" + causation), exchanges_.notifications,
                                          type, "application/json", timer.subject,
                                          boost::json::serialize(body), now));
  effects.changes.marked_deadlines.push_back({timer.subject, step, row->started, breach, now});
  return effects;
}

Result<Decided> Workflow::step(const std::optional<store::ApplicationRow>& row,
                               const domain::Input& input, const std::string& causation,
                               StateView& view, Instant now,
                               const boost::json::object* payload) const {
  std::optional<domain::Application> current;
  if (row) {
    boost::system::error_code ec;
    auto json = boost::json::parse(row->state_json, ec);
    auto parsed = !ec && json.is_object() ? workflow::application_from_json(json.as_object())
                                          : Result<domain::Application>(make_error("not JSON"));
    if (!parsed) {
      // A row that cannot be read will not get better by retrying: say so on the input.
      return Decided{Rejection{Reason::domain_inconsistent,
                               fmt::format("the stored state of application {} is unreadable: {}",
                                           row->application_id, parsed.error().message)}};
    }
    current = std::move(parsed).value();
  }
  const domain::Context context{calendar_, mci_, deadlines_, policy_};
  auto decided = domain::decide(current ? &*current : nullptr, input, now, context);
  if (auto* rejection = std::get_if<Rejection>(&decided)) return Decided{std::move(*rejection)};
  BOOST_OUTCOME_TRY(auto effects,
                    effects_of(current ? &*current : nullptr, std::get<domain::Decision>(decided),
                               causation, view, now, payload));
  // Written only if the row is still the one decided on (optimistic concurrency).
  if (auto* done = std::get_if<Effects>(&effects)) {
    for (auto& written : done->changes.applications)
      written.version = row ? row->version : 0;
  }
  return effects;
}

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
  if (existing) return step(existing, form, causation, view, now, &payload);
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
  return step(std::nullopt, form, causation, view, now, &payload);
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
    return step(row, input, causation, view, now, &payload);
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
    return step(row, input, causation, view, now, &payload);
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
    return step(row, input, causation, view, now, &payload);
  }
  return Decided{Rejection{Reason::soap_unknown_document,
                           fmt::format("no workflow takes the command {}", type)}};
}

Result<Decided> Workflow::on_event(const domain::AisEvent& event, StateView& view,
                                   Instant now) const {
  const auto& causation = event.event_id;
  if (const auto* status = std::get_if<domain::UnemployedStatusChanged>(&event.payload)) {
    Effects effects;
    effects.subject = status->iin;
    effects.changes.unemployment.push_back({status->iin, status->registered, status->region,
                                            calendar::to_string(status->since), event.occurred_at});
    return Decided{std::move(effects)};
  }
  if (const auto* quota = std::get_if<domain::QuotaAllocated>(&event.payload)) {
    Effects effects;
    effects.subject = fmt::format("quota {}-{}", quota->period_start, quota->period_end);
    for (const auto& region : quota->regions) {
      BOOST_OUTCOME_TRY(auto problem,
                        allocate(domain::oblast_of(region.region), region, quota->period_start,
                                 quota->period_end, view, effects));
      if (problem) return Decided{std::move(*problem)};
    }
    return Decided{std::move(effects)};
  }

  // Events about an application, by its id.
  auto by_application = [&](const std::string& id, const domain::Input& input) -> Result<Decided> {
    BOOST_OUTCOME_TRY(auto row, view.application(id));
    if (!row) return Decided{unknown(fmt::format("no application {} is known", id))};
    return step(row, input, causation, view, now);
  };
  if (const auto* reviewed = std::get_if<domain::ApplicationReviewed>(&event.payload)) {
    return by_application(reviewed->application_id, *reviewed);
  }
  if (const auto* forwarded = std::get_if<domain::ApplicationForwarded>(&event.payload)) {
    return by_application(forwarded->application_id, *forwarded);
  }
  if (const auto* refused = std::get_if<domain::ApplicationRefused>(&event.payload)) {
    return by_application(refused->application_id, *refused);
  }
  if (const auto* issued = std::get_if<domain::VoucherIssued>(&event.payload)) {
    return voucher_issued(*issued, causation, view, now);
  }
  if (const auto* extended = std::get_if<domain::VoucherExtended>(&event.payload)) {
    BOOST_OUTCOME_TRY(auto row, view.application_by_voucher(extended->voucher_id));
    if (!row) return Decided{unknown(fmt::format("no voucher {} is known", extended->voucher_id))};
    return step(row, *extended, causation, view, now);
  }
  if (const auto* sheet = std::get_if<domain::SickLeaveRecorded>(&event.payload)) {
    BOOST_OUTCOME_TRY(auto row, view.application_by_voucher(sheet->voucher_id));
    if (!row) return Decided{unknown(fmt::format("no voucher {} is known", sheet->voucher_id))};
    // Art. 12, state integration: the AIS has the sheet; when it had it is when it was submitted.
    domain::SickLeaveSubmitted input{
        sheet->holder_iin, {sheet->from, sheet->to, sheet->sheet_number}, event.occurred_at, true};
    return step(row, input, causation, view, now);
  }
  return payment_made(std::get<domain::PaymentMade>(event.payload), causation, view, now);
}

Result<Decided> Workflow::service_act(const intake::Accepted& document, StateView& view,
                                      Instant now) const {
  const auto& payload = document.payload;
  const auto& causation = document.envelope.message_id;
  const auto act_number = text_at(payload, "actNumber");
  const auto act_date = date_at(payload, "actDate");
  const auto* total = payload.if_contains("totalTiyn");
  if (!act_date || total == nullptr || !total->is_int64()) {
    return Decided{Rejection{Reason::schema_invalid, "ActDate or Total is missing"}};
  }
  // Appendix 2: one person (the whole total theirs) or the list of persons, each with its amount
  // (audit point 12); caps and assistance are computed per person.
  struct Person {
    std::string voucher;
    std::string iin;  // empty for the one person of an act by VoucherId
    std::int64_t amount = 0;
    boost::json::object payload;  // the act as it concerns this person
  };
  std::vector<Person> persons;
  const auto* listed = payload.if_contains("persons");
  if (listed != nullptr && listed->is_array() && !listed->get_array().empty()) {
    for (const auto& item : listed->get_array()) {
      const auto& person = item.as_object();
      const auto* amount = person.if_contains("amountTiyn");
      if (amount == nullptr || !amount->is_int64()) {
        return Decided{Rejection{Reason::schema_invalid, "a person's Amount is missing"}};
      }
      auto own = payload;
      own.erase("persons");
      own["voucherId"] = text_at(person, "voucherId");
      own["holderIin"] = text_at(person, "holderIin");
      own["amountTiyn"] = amount->as_int64();
      own["personsInAct"] = static_cast<std::int64_t>(listed->get_array().size());
      persons.push_back(
          {text_at(person, "voucherId"), text_at(person, "holderIin"), amount->as_int64(), own});
    }
  } else {
    persons.push_back({text_at(payload, "voucherId"), "", total->as_int64(), payload});
  }
  std::vector<store::ApplicationRow> rows;
  std::string oblast;
  for (const auto& person : persons) {
    BOOST_OUTCOME_TRY(auto row, view.application_by_voucher(person.voucher));
    if (!row) return Decided{unknown(fmt::format("no voucher {} is known", person.voucher))};
    for (const auto& seen : rows) {
      if (seen.application_id == row->application_id) {
        return Decided{
            Rejection{Reason::domain_inconsistent,
                      fmt::format("act {} lists voucher {} twice", act_number, person.voucher)}};
      }
    }
    if (!person.iin.empty() && person.iin != row->iin) {
      return Decided{
          Rejection{Reason::domain_inconsistent,
                    fmt::format("act {} lists voucher {} for IIN {}, but its holder is IIN {}",
                                act_number, person.voucher, person.iin, row->iin)}};
    }
    // All persons of one act belong to one LMC: the oblast of their applications.
    const auto own = domain::oblast_of(row->region);
    if (!oblast.empty() && own != oblast) {
      return Decided{
          Rejection{Reason::domain_inconsistent,
                    fmt::format("act {} lists vouchers of oblasts {} and {}; an act is to one LMC",
                                act_number, oblast, own)}};
    }
    oblast = own;
    rows.push_back(std::move(*row));
  }
  // An act number is one act's.
  BOOST_OUTCOME_TRY(auto registered, view.applications_by_act(act_number));
  for (const auto& other : registered) {
    const bool listed_here =
        std::any_of(rows.begin(), rows.end(), [&](const store::ApplicationRow& row) {
          return row.application_id == other.application_id;
        });
    if (!listed_here) {
      return Decided{Rejection{Reason::domain_inconsistent,
                               fmt::format("act {} was already registered for voucher {}",
                                           act_number, other.voucher_id)}};
    }
  }
  // Audit point 12: the act's customer is the LMC of the vouchers' oblast, when configured.
  if (const auto lmc = policy_.lmc_bins.find(oblast); lmc != policy_.lmc_bins.end()) {
    const auto customer = text_at(payload, "customer.bin");
    if (customer != lmc->second) {
      return Decided{
          Rejection{Reason::domain_inconsistent,
                    fmt::format("act {} names customer BIN {}, but the LMC of oblast {} is BIN {} "
                                "(domain.lmc_bins)",
                                act_number, customer, oblast, lmc->second)}};
    }
  }
  const int act_year = static_cast<int>(date::year_month_day{*act_date}.year());
  const bool several = persons.size() > 1;
  return together(persons.size(), [&](std::size_t i) {
    const domain::ActReceived input{text_at(payload, "executor.bin"), act_number, act_year,
                                    persons[i].amount, persons[i].payload};
    // Each person's command has an id of its own, derived from the act and the application.
    const auto cause = several ? causation + ":" + rows[i].application_id : causation;
    return step(rows[i], input, cause, view, now, &payload);
  });
}

Result<Decided> Workflow::payment_made(const domain::PaymentMade& payment,
                                       const std::string& causation, StateView& view,
                                       Instant now) const {
  BOOST_OUTCOME_TRY(auto rows, view.applications_by_act(payment.act_number));
  if (rows.empty()) return Decided{unknown(fmt::format("no act {} is known", payment.act_number))};
  if (!payment.to_center) {
    // A holder's assistance: the person named, or the act's only one.
    if (payment.voucher_id.empty()) {
      if (rows.size() > 1) {
        return Decided{
            Rejection{Reason::json_invalid,
                      fmt::format("payload.voucherId is required: act {} covers {} persons",
                                  payment.act_number, rows.size())}};
      }
      return step(rows.front(), payment, causation, view, now);
    }
    for (const auto& row : rows) {
      if (row.voucher_id == payment.voucher_id) return step(row, payment, causation, view, now);
    }
    return Decided{Rejection{
        Reason::domain_inconsistent,
        fmt::format("voucher {} is not one of act {}", payment.voucher_id, payment.act_number)}};
  }
  if (rows.size() == 1) return step(rows.front(), payment, causation, view, now);
  // The center is paid once for the act: the sum of its persons' center amounts.
  std::vector<std::int64_t> shares;
  std::int64_t due = 0;
  for (const auto& row : rows) {
    boost::system::error_code ec;
    auto json = boost::json::parse(row.state_json, ec);
    auto parsed = !ec && json.is_object() ? workflow::application_from_json(json.as_object())
                                          : Result<domain::Application>(make_error("not JSON"));
    if (!parsed || !parsed.value().reimbursement) {
      return Decided{
          Rejection{Reason::domain_invalid_transition,
                    fmt::format("application {} of act {} has no reimbursement computed (stage {})",
                                row.application_id, payment.act_number, row.stage)}};
    }
    shares.push_back(parsed.value().reimbursement->center_tiyn);
    due += shares.back();
  }
  if (payment.amount_tiyn != due) {
    return Decided{Rejection{
        Reason::domain_inconsistent,
        fmt::format(
            "payment of {} tiyn to the center for act {}; {} tiyn is due for its {} persons",
            payment.amount_tiyn, payment.act_number, due, rows.size())}};
  }
  return together(rows.size(), [&](std::size_t i) {
    auto share = payment;
    share.amount_tiyn = shares[i];
    return step(rows[i], share, causation + ":" + rows[i].application_id, view, now);
  });
}

Result<std::optional<Rejection>> Workflow::allocate(const std::string& oblast,
                                                    const domain::QuotaRegion& region, int first,
                                                    int last, StateView& view,
                                                    Effects& effects) const {
  // Art. 18: an oblast's vouchers for a period (audit points 3 and 4), over what is known.
  std::vector<std::optional<store::Quota>> known;
  for (int year = first; year <= last; ++year) {
    BOOST_OUTCOME_TRY(auto row, view.quota(oblast, year));
    if (row && row->pool_start != 0 && (row->pool_start != first || row->pool_end != last)) {
      return std::optional<Rejection>{Rejection{
          Reason::domain_inconsistent,
          fmt::format("{} for {}-{} overlaps the period {}-{} whose total its years share", oblast,
                      first, last, row->pool_start, row->pool_end)}};
    }
    known.push_back(std::move(row));
  }
  if (region.shared >= 0) {
    // No breakdown: the years share the total; what the period has reserved is carried.
    std::int64_t reserved = 0;
    for (const auto& row : known) {
      if (!row) continue;
      reserved = row->pool_start != 0 ? row->reserved : reserved + row->reserved;
    }
    if (reserved > region.shared) {
      return std::optional<Rejection>{Rejection{
          Reason::domain_inconsistent,
          fmt::format("region {} is allocated {} vouchers for {}-{}, but {} are already reserved",
                      oblast, region.shared, first, last, reserved)}};
    }
    for (int year = first; year <= last; ++year) {
      effects.changes.allocations.push_back({oblast, year, region.shared, first, last, reserved});
    }
    return std::optional<Rejection>{};
  }
  for (int year = first; year <= last; ++year) {
    const auto& row = known[static_cast<std::size_t>(year - first)];
    const auto vouchers = region.for_year(year);
    if (row && row->pool_start != 0 && row->reserved > 0) {
      // Units taken from a shared total cannot be told apart by year.
      return std::optional<Rejection>{Rejection{
          Reason::domain_inconsistent,
          fmt::format("region {} shares {} vouchers over {}-{} and {} are reserved: a breakdown "
                      "by year cannot replace it",
                      oblast, row->allocated, first, last, row->reserved)}};
    }
    if (row && row->pool_start == 0 && row->reserved > vouchers) {
      return std::optional<Rejection>{Rejection{
          Reason::domain_inconsistent,
          fmt::format("region {} is allocated {} vouchers for {}, but {} are already reserved",
                      oblast, vouchers, year, row->reserved)}};
    }
    effects.changes.allocations.push_back(
        {oblast, year, vouchers, 0, 0, row && row->pool_start != 0 ? 0 : -1});
  }
  return std::optional<Rejection>{};
}

Result<Decided> Workflow::voucher_issued(const domain::VoucherIssued& issued,
                                         const std::string& causation, StateView& view,
                                         Instant now) const {
  BOOST_OUTCOME_TRY(auto other, view.application_by_voucher(issued.voucher_id));
  if (other && other->application_id != issued.application_id) {
    return Decided{Rejection{Reason::domain_inconsistent,
                             fmt::format("voucher {} was already issued for application {}",
                                         issued.voucher_id, other->application_id)}};
  }
  BOOST_OUTCOME_TRY(auto row, view.application(issued.application_id));
  if (!row)
    return Decided{unknown(fmt::format("no application {} is known", issued.application_id))};
  BOOST_OUTCOME_TRY(auto decided, step(row, issued, causation, view, now));
  auto* effects = std::get_if<Effects>(&decided);
  if (effects == nullptr) return decided;
  // Art. 3 (c), one voucher a person and calendar year: a second one is the AIS's mistake
  // (audit point 1); the person's other applications of that year still on their way fail
  // ground (c) now, with the usual refusals, and release their units (details of point 1).
  const int year = static_cast<int>(date::year_month_day{issued.issued_on}.year());
  for (const int in_year : {year - 1, year}) {
    BOOST_OUTCOME_TRY(auto rows, view.applications_of(row->iin, in_year));
    for (const auto& sibling : rows) {
      if (sibling.application_id == row->application_id) continue;
      if (sibling.voucher_year == year) {
        return Decided{Rejection{
            Reason::domain_inconsistent,
            fmt::format("IIN {} already received voucher {} in {} (application {}); art. 3 gives "
                        "one voucher a year",
                        row->iin, sibling.voucher_id, year, sibling.application_id)}};
      }
      if (in_year != year || !on_its_way(sibling.stage)) continue;
      BOOST_OUTCOME_TRY(
          auto refused,
          step(sibling, domain::VoucherIssuedToPerson{issued.voucher_id, issued.issued_on},
               causation + ":" + sibling.application_id, view, now));
      if (auto* more = std::get_if<Effects>(&refused)) {
        absorb(*effects, std::move(*more));
      } else {
        return refused;
      }
    }
  }
  return decided;
}

Result<Effects> Workflow::on_timer(const store::TimerRow& timer, const std::string& causation,
                                   StateView& view, Instant now) const {
  Effects effects;
  effects.subject = timer.subject;
  Decided decided = Rejection{Reason::domain_invalid_transition,
                              fmt::format("no workflow takes the timer {}", timer.kind)};
  if (timer.kind.starts_with(kSlaWarning) || timer.kind.starts_with(kSlaBreach)) {
    BOOST_OUTCOME_TRY(effects, sla_fired(timer, causation, view, now));
    decided = Decided{Effects{}};
  } else if (timer.kind == kVoucherExpiry) {
    BOOST_OUTCOME_TRY(auto row, view.application(timer.subject));
    if (!row) {
      decided = unknown(fmt::format("no application {} is known", timer.subject));
    } else {
      BOOST_OUTCOME_TRY(decided, step(row, domain::VoucherExpired{}, causation, view, now));
    }
  }
  if (auto* done = std::get_if<Effects>(&decided);
      done != nullptr && timer.kind == kVoucherExpiry) {
    effects = std::move(*done);
  }
  if (const auto* rejection = std::get_if<Rejection>(&decided)) effects.note = rejection->detail;
  // The timer that fired goes in the same transaction, unless it was moved meanwhile.
  effects.changes.cancelled_timers.insert(effects.changes.cancelled_timers.begin(),
                                          {timer.kind, timer.subject, timer.due});
  return effects;
}

}  // namespace nqs::workflow
