#include "domain/rules.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <utility>

namespace nqs::domain {

Result<Reimbursement> reimbursement(Profile profile, std::int64_t actual_cost_tiyn, int act_year,
                                    std::string_view exam_region, std::string_view permanent_region,
                                    const MciTable& mci) {
  const auto found = mci.find(act_year);
  if (found == mci.end()) {
    return make_error(fmt::format("no MCI is configured for {} (domain.mci)", act_year));
  }
  if (actual_cost_tiyn < 0) return make_error("the actual cost is negative");
  const std::int64_t mci_tiyn = found->second * 100;
  Reimbursement out;
  out.cap_tiyn = (profile == Profile::technical ? 7 : 3) * mci_tiyn;
  out.center_tiyn = std::min(actual_cost_tiyn, out.cap_tiyn);
  out.applicant_share_tiyn = actual_cost_tiyn - out.center_tiyn;
  const bool elsewhere = exam_region.size() < 2 || permanent_region.size() < 2 ||
                         oblast_of(exam_region) != oblast_of(permanent_region);
  out.holder_tiyn = elsewhere ? 6 * mci_tiyn : 0;
  return out;
}

calendar::Date valid_until(calendar::Date issued_on, const std::vector<SickLeave>& sick_leaves) {
  // The union of the sheets' days on or after the day of issue, counted once.
  std::vector<std::pair<calendar::Date, calendar::Date>> periods;
  for (const auto& sheet : sick_leaves) {
    const auto from = std::max(sheet.from, issued_on);
    if (sheet.to >= from) periods.emplace_back(from, sheet.to);
  }
  std::sort(periods.begin(), periods.end());
  date::days counted{0};
  std::optional<calendar::Date> covered_to;  // the last day already counted
  for (const auto& [from, to] : periods) {
    const auto start = covered_to && *covered_to >= from ? *covered_to + date::days{1} : from;
    if (to >= start) counted += (to - start) + date::days{1};
    if (!covered_to || to > *covered_to) covered_to = to;
  }
  return issued_on + date::days{60} + counted;
}

std::vector<std::string> automatic_refusals(calendar::Date submitted_local_date,
                                            const ApplicantFacts& facts, MonthDay deadline) {
  std::vector<std::string> reasons;
  const date::year_month_day submitted{submitted_local_date};
  const calendar::Date last_day{submitted.year() / date::month{deadline.month} /
                                date::day{deadline.day}};
  if (submitted_local_date > last_day) reasons.emplace_back(kDeadlinePassed);
  if (facts.registered_unemployed == false) reasons.emplace_back(kNotRegisteredUnemployed);
  if (facts.quota_left <= 0) reasons.emplace_back(kNoQuotaLeft);
  if (facts.voucher_received_this_year) reasons.emplace_back(kVoucherAlreadyReceivedThisYear);
  return reasons;
}

std::string oblast_of(std::string_view kato) {
  if (kato.size() < 2) return std::string(kato);
  return std::string(kato.substr(0, 2)) + "0000000";
}

std::string format_tenge(std::int64_t tiyn) {
  const char* sign = tiyn < 0 ? "-" : "";
  const auto magnitude =
      tiyn < 0 ? -static_cast<std::uint64_t>(tiyn) : static_cast<std::uint64_t>(tiyn);
  return fmt::format("{}{}.{:02d}", sign, magnitude / 100, magnitude % 100);
}

}  // namespace nqs::domain
