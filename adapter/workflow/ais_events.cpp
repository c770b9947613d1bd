#include <fmt/format.h>

#include "workflow/workflow.hpp"
#include "workflow/workflow_internal.hpp"

// The AIS's events: a person's unemployment, the quota allocated, an application reviewed,
// forwarded or refused, a voucher issued or extended, a sick leave recorded (a payment: see
// acts_and_payments.cpp).
namespace nqs::workflow {

using detail::absorb;
using detail::unknown;

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
      if (in_year != year || !domain::on_its_way(sibling.stage)) continue;
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

}  // namespace nqs::workflow
