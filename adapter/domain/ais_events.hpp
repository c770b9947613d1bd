#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "calendar/working_calendar.hpp"
#include "common/instant.hpp"
#include "common/reason.hpp"

namespace nqs::domain {

// The events of the AIS (messages.md, "Events from the AIS"), typed: intake/ais_event_parser
// reads them from their JSON.

struct UnemployedStatusChanged {
  std::string iin;
  bool registered = false;
  std::string region;  // KATO
  calendar::Date since;
};
// One region's allocation for the period (art. 18; audit point 4): a number a year, or a period
// total its years share.
struct QuotaRegion {
  std::string region;
  std::int64_t vouchers_per_year = 0;   // the same each year (vouchersPerYear: n) ...
  std::map<int, std::int64_t> by_year;  // ... or one a year (vouchersPerYear: {year: n})
  std::int64_t shared = -1;  // no breakdown: the period total (vouchers) the years share; else -1

  [[nodiscard]] std::int64_t for_year(int year) const {
    if (by_year.empty()) return vouchers_per_year;
    const auto found = by_year.find(year);
    return found == by_year.end() ? 0 : found->second;
  }
};
// Rules 380 art. 18: vouchers are allocated among regions for a 3-year period.
struct QuotaAllocated {
  int period_start = 0;
  int period_end = 0;
  std::vector<QuotaRegion> regions;
};
// The career center's refusal grounds (art. 8; audit point 9): a closed list.
inline constexpr std::string_view kCareerCenterReasons[] = {
    "incomplete_documents", "application_incorrect", "requirements_not_met"};

struct ApplicationReviewed {
  std::string application_id;
  bool forward = false;
  std::vector<std::string> reasons;  // required when refused: kCareerCenterReasons
  std::string comment;               // optional free text with the reasons
  // On forward, optional: the profile of the profession in the register of professions, as the
  // career center confirmed it (technical | social_humanitarian; audit point 8).
  std::string profile;
};
struct ApplicationForwarded {
  std::string application_id;
};
struct ApplicationRefused {
  std::string application_id;
  std::vector<std::string> reasons;
};
struct VoucherIssued {
  std::string voucher_id;
  std::string application_id;
  calendar::Date issued_on;
};
struct VoucherExtended {
  std::string voucher_id;
  std::string sheet_number;
  calendar::Date valid_until;
};
// A sick-leave sheet the AIS received through state integration (art. 12: the holder uploads
// one only when there is none).
struct SickLeaveRecorded {
  std::string voucher_id;
  std::string holder_iin;
  std::string sheet_number;
  calendar::Date from;
  calendar::Date to;
};
struct PaymentMade {
  std::string act_number;
  bool to_center = true;  // payee: center | holder
  std::int64_t amount_tiyn = 0;
  calendar::Date paid_on;
  // The holder paid, when the act covers several persons (audit point 12); empty otherwise.
  std::string voucher_id;
};

using AisPayload = std::variant<UnemployedStatusChanged, QuotaAllocated, ApplicationReviewed,
                                ApplicationForwarded, ApplicationRefused, VoucherIssued,
                                VoucherExtended, SickLeaveRecorded, PaymentMade>;

struct AisEvent {
  std::string event_id;
  std::string type;
  Instant occurred_at{};
  AisPayload payload;
};

}  // namespace nqs::domain
