#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "calendar/working_calendar.hpp"
#include "common/instant.hpp"
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

// The oblast-level unit (oblast, city of republican significance, capital: appendix 1) of a
// KATO code, as a KATO code: its first two digits and zeros ("751110000" -> "750000000"). The
// quota and art. 14 2) compare regions at this level (audit point 3).
std::string oblast_of(std::string_view kato);

// Tiyn as a decimal amount of tenge with two decimals: 2752400 -> "27524.00".
std::string format_tenge(std::int64_t tiyn);

// --- Voucher validity (art. 10-12) ------------------------------------------------------------

// A sick-leave sheet: its days of temporary incapacity, both ends included (art. 12).
struct SickLeave {
  calendar::Date from;
  calendar::Date to;
  std::string sheet_number;
  // A sheet waiting for the LMC: when the adapter received it (art. 13 counts the LMC's working
  // day from it). Unknown for sheets stored before it was kept.
  std::optional<Instant> received_at{};
};

// Art. 10: valid 60 calendar days after the day of issue; art. 12: extended by the period of
// temporary incapacity on the sick-leave sheets. A day counts once, however many sheets cover
// it, and only on or after the day of issue; days after the last valid day count too (audit
// point 7). The last valid local date.
calendar::Date valid_until(calendar::Date issued_on, const std::vector<SickLeave>& sick_leaves);

// Rules 374 art. 17: the commission's protocol within 2 working days after the procedure.
inline constexpr int kProtocolWorkingDays = 2;

// --- Automatic checks on a new application (art. 3) -------------------------------------------

// What is known when an application arrives, from the AIS events and the adapter's own records.
struct ApplicantFacts {
  // What the AIS last said of the person's registration; nothing if it never said anything:
  // missing data is not a refusal (domain.md, audit point 2), the career center reviews it.
  std::optional<bool> registered_unemployed;
  std::int64_t quota_left = 0;              // vouchers left for the region and year
  bool voucher_received_this_year = false;  // a voucher issued to the person this calendar year
};

// The last day of each year on which an application may be submitted, included
// (domain.application_deadline; art. 3 "до 15 октября", read as inclusive).
struct MonthDay {
  unsigned month = 10;
  unsigned day = 15;
};

// What the Rules leave open, as configured (domain.md, "Readings settled by the audit").
// What the Rules leave open, each a configuration key with the audit's default (domain.md,
// "Readings settled by the audit").
struct Policy {
  MonthDay application_deadline;  // domain.application_deadline (point 5)
  // domain.annulment_grace (point 6): working days after the last valid day before an unused
  // voucher is annulled, for an exam on the last day whose protocol follows it (Rules 374
  // art. 17).
  int annulment_grace = 3;
  // domain.release_quota_on_annulment (point 4): an annulled voucher's unit returns to the
  // region's allocation.
  bool release_quota_on_annulment = true;
  // domain.lmc_bins (point 12): the BIN of each oblast's LMC (by its oblast KATO), the customer
  // of an act for a voucher of that oblast; an oblast not listed is not checked.
  std::map<std::string, std::string> lmc_bins;
};

// The refusal reason codes of the automatic stage (wire contract of ApplicationRefused): the
// deadline of art. 3 and its three grounds, nothing else.
inline constexpr std::string_view kDeadlinePassed = "deadline_passed";
inline constexpr std::string_view kNotRegisteredUnemployed = "not_registered_unemployed";
inline constexpr std::string_view kNoQuotaLeft = "no_quota_left";
inline constexpr std::string_view kVoucherAlreadyReceivedThisYear =
    "voucher_already_received_this_year";

// Every reason the application fails the automatic checks, in a fixed order; empty if it passes.
// Art. 3: submitted no later than the deadline of its year (the local date of SubmittedAt), and
// its three grounds: the person is registered as unemployed (refused only when the AIS said the
// person is not), the region's allocation has vouchers left, the person has not received a
// voucher this year. Another application in progress is not a ground (audit point 1).
std::vector<std::string> automatic_refusals(calendar::Date submitted_local_date,
                                            const ApplicantFacts& facts, MonthDay deadline = {});

}  // namespace nqs::domain
