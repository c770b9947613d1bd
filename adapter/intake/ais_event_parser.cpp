#include "intake/ais_event_parser.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <map>
#include <regex>
#include <set>

#include "common/identifiers.hpp"
#include "common/strict_json.hpp"
#include "domain/rules.hpp"
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

bool is_uuid(std::string_view text) {
  static const std::regex kUuid(
      "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$");
  return std::regex_match(text.begin(), text.end(), kUuid);
}

bool is_digits(std::string_view text, std::size_t count) {
  return text.size() == count &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A JSON object read field by field; fields not read are reported as unknown.
class Fields {
 public:
  Fields(const boost::json::value& value, std::string path) : path_(std::move(path)) {
    if (!value.is_object()) invalid(fmt::format("{} must be an object", where()));
    object_ = &value.get_object();
  }

  const boost::json::value& required(std::string_view key) {
    read_.insert(std::string(key));
    const auto* value = object_->if_contains(key);
    if (value == nullptr) invalid(fmt::format("{} is missing", at(key)));
    return *value;
  }
  const boost::json::value* optional(std::string_view key) {
    read_.insert(std::string(key));
    return object_->if_contains(key);
  }

  std::string text(std::string_view key, std::size_t max_length = 256) {
    const auto& value = required(key);
    if (!value.is_string()) invalid(fmt::format("{} must be a string", at(key)));
    std::string out(value.get_string());
    if (out.empty() || out.size() > max_length) {
      invalid(fmt::format("{} must be 1 to {} characters", at(key), max_length));
    }
    return out;
  }
  std::string uuid(std::string_view key) {
    auto out = text(key, 36);
    if (!is_uuid(out)) invalid(fmt::format("{}: '{}' is not a UUID", at(key), out));
    return out;
  }
  std::string kato(std::string_view key) {
    auto out = text(key, 9);
    if (!is_digits(out, 9))
      invalid(fmt::format("{}: '{}' is not a KATO code (9 digits)", at(key), out));
    return out;
  }
  std::string iin(std::string_view key) {
    auto out = text(key, 12);
    if (!is_digits(out, 12)) invalid(fmt::format("{}: '{}' is not 12 digits", at(key), out));
    if (auto problem = check_iin_or_bin(out)) {
      throw Invalid{Reason::domain_invalid_identifier, fmt::format("{}: {}", at(key), *problem)};
    }
    return out;
  }
  bool flag(std::string_view key) {
    const auto& value = required(key);
    if (!value.is_bool()) invalid(fmt::format("{} must be true or false", at(key)));
    return value.get_bool();
  }
  std::int64_t integer(std::string_view key, std::int64_t min, std::int64_t max) {
    const auto& value = required(key);
    if (!value.is_int64() && !value.is_uint64())
      invalid(fmt::format("{} must be a whole number", at(key)));
    const auto number =
        value.is_int64() ? value.get_int64() : static_cast<std::int64_t>(value.get_uint64());
    if (number < min || number > max) {
      invalid(fmt::format("{}: {} is out of range [{}, {}]", at(key), number, min, max));
    }
    return number;
  }
  calendar::Date date(std::string_view key) {
    auto out = text(key, 10);
    auto parsed = yaml::parse_date(out);
    if (!parsed) invalid(fmt::format("{}: '{}' is not a date YYYY-MM-DD", at(key), out));
    return calendar::Date{*parsed};
  }
  std::string choice(std::string_view key, std::initializer_list<std::string_view> allowed) {
    auto out = text(key, 64);
    if (std::find(allowed.begin(), allowed.end(), out) == allowed.end()) {
      std::string list;
      for (auto item : allowed)
        list += (list.empty() ? "" : ", ") + std::string(item);
      invalid(fmt::format("{}: '{}' is not one of: {}", at(key), out, list));
    }
    return out;
  }
  std::vector<std::string> texts(std::string_view key) {
    const auto* value = optional(key);
    std::vector<std::string> out;
    if (value == nullptr) return out;
    if (!value->is_array()) invalid(fmt::format("{} must be an array of strings", at(key)));
    for (const auto& item : value->get_array()) {
      if (!item.is_string() || item.get_string().empty()) {
        invalid(fmt::format("{} must hold non-empty strings", at(key)));
      }
      out.emplace_back(item.get_string());
    }
    return out;
  }

  // Strict: a field nobody reads is an error, so a typo or a changed contract is seen at once.
  void finish() const {
    for (const auto& entry : *object_) {
      if (!read_.contains(std::string(entry.key()))) {
        invalid(fmt::format("{} is not a field of this event", at(entry.key())));
      }
    }
  }
  [[nodiscard]] std::string path() const { return where(); }
  [[nodiscard]] std::string at(std::string_view key) const {
    return path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
  }

 private:
  [[nodiscard]] std::string where() const { return path_.empty() ? "the event" : path_; }
  const boost::json::object* object_ = nullptr;
  std::string path_;
  std::set<std::string> read_;
};

UnemployedStatusChanged read_unemployed_status_changed(Fields& payload) {
  UnemployedStatusChanged out;
  out.iin = payload.iin("iin");
  out.registered = payload.flag("registered");
  out.region = payload.kato("region");
  out.since = payload.date("since");
  return out;
}

QuotaAllocated read_quota_allocated(Fields& payload) {
  QuotaAllocated out;
  out.period_start = static_cast<int>(payload.integer("periodStart", 2000, 2100));
  out.period_end = static_cast<int>(payload.integer("periodEnd", 2000, 2100));
  if (out.period_end < out.period_start) {
    invalid(fmt::format("payload.periodEnd {} is before periodStart {}", out.period_end,
                        out.period_start));
  }
  const auto& regions = payload.required("regions");
  if (!regions.is_array() || regions.get_array().empty()) {
    invalid("payload.regions must be a non-empty array");
  }
  std::set<std::string> seen;
  std::size_t index = 0;
  for (const auto& item : regions.get_array()) {
    Fields region(item, fmt::format("payload.regions[{}]", index++));
    QuotaRegion quota;
    quota.region = region.kato("region");
    // Audit point 4: `vouchers` for the period, and an optional breakdown `vouchersPerYear`
    // (one number for every year, or {year: n}); without it the years share the total.
    const int years = out.period_end - out.period_start + 1;
    std::optional<std::int64_t> total;
    if (region.optional("vouchers") != nullptr)
      total = region.integer("vouchers", 0, 1'000'000 * std::int64_t{years});
    const auto* breakdown = region.optional("vouchersPerYear");
    std::int64_t sum = 0;
    if (breakdown == nullptr) {
      if (!total) invalid(fmt::format("{}: give vouchers, vouchersPerYear or both", region.path()));
      quota.shared = *total;
    } else if (breakdown->is_object()) {
      Fields per_year(*breakdown, region.at("vouchersPerYear"));
      for (int year = out.period_start; year <= out.period_end; ++year) {
        const auto n = per_year.integer(std::to_string(year), 0, 1'000'000);
        quota.by_year[year] = n;
        sum += n;
      }
      per_year.finish();  // a year outside the period is refused
    } else {
      quota.vouchers_per_year = region.integer("vouchersPerYear", 0, 1'000'000);
      sum = quota.vouchers_per_year * years;
    }
    if (breakdown != nullptr && total && *total != sum) {
      invalid(fmt::format("{}: vouchersPerYear adds up to {} for {}-{}, vouchers says {}",
                          region.path(), sum, out.period_start, out.period_end, *total));
    }
    region.finish();
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
  out.application_id = payload.uuid("applicationId");
  out.forward = payload.choice("decision", {"forward", "refuse"}) == "forward";
  out.reasons = payload.texts("reasons");
  // Rules 380 art. 8: a refusal is motivated, on the grounds art. 8 gives (audit point 9).
  if (!out.forward && out.reasons.empty())
    invalid("payload.reasons is required when the decision is refuse");
  for (std::size_t i = 0; i < out.reasons.size(); ++i) {
    const auto& reason = out.reasons[i];
    if (std::find(std::begin(kCareerCenterReasons), std::end(kCareerCenterReasons), reason) ==
        std::end(kCareerCenterReasons)) {
      invalid(
          fmt::format("payload.reasons[{}]: '{}' is not one of: incomplete_documents, "
                      "application_incorrect, requirements_not_met",
                      i, reason));
    }
  }
  if (payload.optional("comment") != nullptr) out.comment = payload.text("comment", 2000);
  if (payload.optional("profile") != nullptr) {
    if (!out.forward) invalid("payload.profile is given only with the decision forward");
    out.profile = payload.choice("profile", {"technical", "social_humanitarian"});
  }
  return out;
}

ApplicationForwarded read_application_forwarded(Fields& payload) {
  return ApplicationForwarded{payload.uuid("applicationId")};
}

ApplicationRefused read_application_refused(Fields& payload) {
  ApplicationRefused out;
  out.application_id = payload.uuid("applicationId");
  out.reasons = payload.texts("reasons");
  if (out.reasons.empty()) invalid("payload.reasons is required");
  return out;
}

VoucherIssued read_voucher_issued(Fields& payload) {
  VoucherIssued out;
  out.voucher_id = payload.uuid("voucherId");
  out.application_id = payload.uuid("applicationId");
  out.issued_on = payload.date("issuedOn");
  return out;
}

VoucherExtended read_voucher_extended(Fields& payload) {
  VoucherExtended out;
  out.voucher_id = payload.uuid("voucherId");
  out.sheet_number = payload.text("sheetNumber", 128);
  out.valid_until = payload.date("validUntil");
  return out;
}

SickLeaveRecorded read_sick_leave_recorded(Fields& payload) {
  SickLeaveRecorded out;
  out.voucher_id = payload.uuid("voucherId");
  out.holder_iin = payload.iin("holderIin");
  out.sheet_number = payload.text("sheetNumber", 128);
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
  out.act_number = payload.text("actNumber", 128);
  out.to_center = payload.choice("payee", {"center", "holder"}) == "center";
  const auto amount = payload.text("amount", 20);
  auto tiyn = mapping::parse_money_tiyn(amount);
  if (!tiyn) {
    invalid(fmt::format("payload.amount: '{}' is not an amount of tenge with at most 2 decimals",
                        amount));
  }
  out.amount_tiyn = *tiyn;
  out.paid_on = payload.date("paidOn");
  if (payload.optional("voucherId") != nullptr) {
    if (out.to_center) invalid("payload.voucherId names a holder: the center is paid per act");
    out.voucher_id = payload.uuid("voucherId");
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
  try {
    Fields event(value, "");
    AisEvent out;
    out.event_id = event.uuid("eventId");
    out.type = event.text("type", 64);
    const auto occurred = event.text("occurredAt", 40);
    auto instant = parse_instant(occurred);
    if (!instant)
      invalid(fmt::format("occurredAt: '{}' is not an instant with an offset", occurred));
    out.occurred_at = *instant;
    Fields payload(event.required("payload"), "payload");
    out.payload = parse_payload(out.type, payload);
    payload.finish();
    event.finish();
    return out;
  } catch (const Invalid& problem) {
    return Rejection{problem.reason, problem.detail};
  }
}

}  // namespace nqs::intake
