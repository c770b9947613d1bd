#include "workflow/workflow.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "amqp/properties_json.hpp"
#include "common/ids.hpp"
#include "domain/commands.hpp"
#include "mapping/mapping.hpp"
#include "store/evidence.hpp"
#include "workflow/application_json.hpp"
#include "workflow/workflow_internal.hpp"
#include "yaml/reader.hpp"

namespace nqs::workflow {
namespace detail {

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

}  // namespace detail

namespace {

store::ApplicationRow row_of(const domain::Application& application) {
  store::ApplicationRow row;
  row.application_id = application.application_id;
  row.iin = application.iin;
  row.quota_year = application.quota_year;
  row.region = application.region;
  row.stage = application.stage;
  row.voucher_id = application.voucher_id;
  row.act_number = application.act_number;
  if (application.issued_on) {
    row.voucher_year = static_cast<int>(date::year_month_day{*application.issued_on}.year());
  }
  row.state_json = boost::json::serialize(workflow::to_json(application));
  return row;
}

}  // namespace

namespace {
constexpr std::string_view kVoucherExpiry = "voucher_expiry";
constexpr std::string_view kSlaWarning = "sla.warning.";
constexpr std::string_view kSlaBreach = "sla.breach.";
}  // namespace

std::string timer_kind_text(const TimerKind& kind) {
  switch (kind.type) {
    case TimerKind::Type::voucher_expiry:
      return std::string(kVoucherExpiry);
    case TimerKind::Type::sla_warning:
      return std::string(kSlaWarning) + kind.step;
    case TimerKind::Type::sla_breach:
      return std::string(kSlaBreach) + kind.step;
  }
  return {};
}

std::optional<TimerKind> timer_kind_of(std::string_view text) {
  if (text == kVoucherExpiry) return TimerKind{TimerKind::Type::voucher_expiry, {}};
  for (const auto& [prefix, type] : {std::pair{kSlaWarning, TimerKind::Type::sla_warning},
                                     std::pair{kSlaBreach, TimerKind::Type::sla_breach}}) {
    if (text.starts_with(prefix) && text.size() > prefix.size()) {
      return TimerKind{type, std::string(text.substr(prefix.size()))};
    }
  }
  return std::nullopt;
}

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

void archive_sent(store::InputLog::Input& input, const std::vector<std::size_t>& to_sign,
                  const std::string& application_id, const Workflow& workflow) {
  const auto& calendar = workflow.calendar();
  for (const auto index : to_sign) {
    const auto& row = input.outbox.at(index);
    store::EvidenceRecord record;
    record.evidence_id = store::sent_evidence_id(row.key);
    record.day = calendar::to_string(calendar.local_date(row.created_at));
    record.direction = "sent";
    record.outcome = "sent";
    record.input_key = input.entry.key;
    record.message_id = row.key;
    record.document_type = row.routing_key;
    record.application_id = application_id;
    record.signer_json = workflow.sent_by().signer_json;
    record.chain_pem = workflow.sent_by().chain_pem;
    record.verified_at = row.created_at;
    record.body = row.body;
    input.evidence.push_back(std::move(record));
  }
}

Workflow::Workflow(const calendar::WorkingCalendar& calendar, domain::MciTable mci,
                   std::shared_ptr<const notify::NotificationBuilder> notifications,
                   amqp::Names exchanges, domain::DeadlineTable deadlines, domain::Policy policy)
    : calendar_(calendar),
      mci_(std::move(mci)),
      policy_(policy),
      notifications_(std::move(notifications)),
      exchanges_(std::move(exchanges)),
      deadlines_(std::move(deadlines)) {
  if (notifications_) sent_by_ = notify::signer_evidence(notifications_->signer());
}

Result<Decided> Workflow::effects_of(const domain::Application* before, domain::Decision decision,
                                     const std::string& causation, StateView& view, Instant now,
                                     const intake::Accepted* document) const {
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
      effects.changes.timers.push_back({timer_kind_text({TimerKind::Type::voucher_expiry, {}}),
                                        next.application_id, *timer.due, ""});
    } else {
      effects.changes.cancelled_timers.push_back(
          {timer_kind_text({TimerKind::Type::voucher_expiry, {}}), next.application_id,
           std::nullopt});
    }
  }
  // messages.md "Commands to the AIS": the id is derived from the input, so a redelivered input
  // gives the same command id; a command a signed document causes links its archived original.
  boost::json::object evidence;
  if (document != nullptr) {
    evidence = {{"id", store::received_evidence_id(document->envelope.message_id)},
                {"sha256", document->evidence.body_sha256}};
  }
  for (auto& command : decision.commands) {
    boost::json::object body;
    const auto id = domain::command_id_for(causation, command.type);
    body["commandId"] = id;
    body["type"] = command.type;
    body["issuedAt"] = to_utc_string(now);
    body["correlationId"] = next.application_id;
    body["causationId"] = causation;
    body["payload"] = std::move(command.payload);
    if (document != nullptr) body["evidence"] = evidence;
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
  BOOST_OUTCOME_TRY(auto problem, track_deadlines(before, next, effects, view, now, document));
  if (problem) return Decided{std::move(*problem)};
  return Decided{std::move(effects)};
}

Result<Decided> Workflow::step(const std::optional<store::ApplicationRow>& row,
                               const domain::Input& input, const std::string& causation,
                               StateView& view, Instant now,
                               const intake::Accepted* document) const {
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
  BOOST_OUTCOME_TRY(auto effects, effects_of(current ? &*current : nullptr,
                                             std::move(std::get<domain::Decision>(decided)),
                                             causation, view, now, document));
  // Written only if the row is still the one decided on (optimistic concurrency).
  if (auto* done = std::get_if<Effects>(&effects)) {
    for (auto& written : done->changes.applications)
      written.version = row ? row->version : 0;
  }
  return effects;
}

}  // namespace nqs::workflow
