#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "calendar/working_calendar.hpp"
#include "common/result.hpp"

namespace nqs::domain {

// --- Money (Rules 380 art. 14-15; domain.md "Money"). Integer tiyn, no floating point. --------

enum class Profile { technical, social_humanitarian };

// The monthly calculation index of each financial year, in tenge (configuration).
using MciTable = std::map<int, std::int64_t>;

struct Reimbursement {
  std::int64_t center_tiyn = 0;           // to the recognition center: min(actual cost, cap)
  std::int64_t holder_tiyn = 0;           // material assistance to the holder
  std::int64_t applicant_share_tiyn = 0;  // what the applicant pays: actual cost - center
  std::int64_t cap_tiyn = 0;
};

// Art. 14: the center is reimbursed the actual cost, capped at 3 MCI for a social-humanitarian
// profession and 7 MCI for a technical one, MCI of the act's financial year; art. 15: the holder
// receives 6 MCI when the recognition took place outside the region of permanent registration
// (regions compared by the oblast part of the KATO code, its first two digits); the applicant
// pays the difference between the actual cost and the reimbursement.
Result<Reimbursement> reimbursement(Profile profile, std::int64_t actual_cost_tiyn, int act_year,
                                    std::string_view exam_region, std::string_view permanent_region,
                                    const MciTable& mci);

// Tiyn as a decimal amount of tenge with two decimals: 2752400 -> "27524.00".
std::string format_tenge(std::int64_t tiyn);

// --- Voucher validity (art. 10-12) ------------------------------------------------------------

// A sick-leave sheet: its days of temporary incapacity, both ends included (art. 12).
struct SickLeave {
  calendar::Date from;
  calendar::Date to;
};

// Art. 10: valid 60 calendar days after the day of issue; art. 12: extended by the period of
// temporary incapacity on each sick-leave sheet. The last valid local date.
calendar::Date valid_until(calendar::Date issued_on, const std::vector<SickLeave>& sick_leaves);

// --- Automatic checks on a new application (art. 3) -------------------------------------------

// What is known when an application arrives, from the AIS events and the adapter's own records.
struct ApplicantFacts {
  std::optional<bool> registered_unemployed;  // unknown counts as not registered
  std::int64_t quota_left = 0;                // vouchers left for the region and year
  bool voucher_received_this_year = false;
  bool application_in_progress = false;
};

// The refusal reason codes of the automatic stage (wire contract of ApplicationRefused).
inline constexpr std::string_view kDeadlinePassed = "deadline_passed";
inline constexpr std::string_view kNotRegisteredUnemployed = "not_registered_unemployed";
inline constexpr std::string_view kNoQuotaLeft = "no_quota_left";
inline constexpr std::string_view kVoucherAlreadyReceivedThisYear =
    "voucher_already_received_this_year";
inline constexpr std::string_view kApplicationInProgress = "application_in_progress";

// Every reason the application fails the automatic checks, in a fixed order; empty if it passes.
// Art. 3: submitted no later than 15 October of its year (the local date of SubmittedAt), by a
// person registered as unemployed, with vouchers left in the region's allocation, who has not
// received a voucher this year; and the adapter adds: with no other application in progress.
std::vector<std::string> automatic_refusals(calendar::Date submitted_local_date,
                                            const ApplicantFacts& facts);

}  // namespace nqs::domain
