#include "workflow/state_view.hpp"

namespace nqs::workflow {

store::ApplicationRow StateView::newest(store::ApplicationRow row) const {
  const auto found = applications_.find(row.application_id);
  return found != applications_.end() ? found->second : row;
}

Result<std::optional<store::ApplicationRow>> StateView::application(
    const std::string& application_id) {
  if (const auto found = applications_.find(application_id); found != applications_.end()) {
    return std::optional<store::ApplicationRow>{found->second};
  }
  return store_.find_application(application_id);
}

Result<std::optional<store::ApplicationRow>> StateView::application_by_voucher(
    const std::string& voucher) {
  for (const auto& [id, row] : applications_) {
    if (row.voucher_id == voucher) return std::optional<store::ApplicationRow>{row};
  }
  BOOST_OUTCOME_TRY(auto stored, store_.find_application_by_voucher(voucher));
  // A row the batch changed is judged by its new version (which may no longer match).
  if (stored && applications_.contains(stored->application_id)) {
    return std::optional<store::ApplicationRow>{};
  }
  return stored;
}

Result<std::vector<store::ApplicationRow>> StateView::applications_by_act(
    const std::string& act_number) {
  BOOST_OUTCOME_TRY(auto stored, store_.find_applications_by_act(act_number));
  std::map<std::string, store::ApplicationRow> rows;  // by id: in id order, the overlay winning
  for (auto& row : stored) {
    if (!applications_.contains(row.application_id)) rows.emplace(row.application_id, row);
  }
  for (const auto& [id, row] : applications_) {
    if (!act_number.empty() && row.act_number == act_number) rows.emplace(id, row);
  }
  std::vector<store::ApplicationRow> out;
  for (auto& [id, row] : rows)
    out.push_back(std::move(row));
  return out;
}

Result<std::vector<store::ApplicationRow>> StateView::applications_of(const std::string& iin,
                                                                      int year) {
  BOOST_OUTCOME_TRY(auto stored, store_.applications_of(iin, year));
  std::vector<store::ApplicationRow> rows;
  std::set<std::string> seen;
  for (auto& row : stored) {
    seen.insert(row.application_id);
    auto current = newest(std::move(row));
    if (current.iin == iin && current.quota_year == year) rows.push_back(std::move(current));
  }
  for (const auto& [id, row] : applications_) {
    if (!seen.contains(id) && row.iin == iin && row.quota_year == year) rows.push_back(row);
  }
  return rows;
}

Result<std::optional<store::Quota>> StateView::quota(const std::string& region, int year) {
  BOOST_OUTCOME_TRY(auto stored, store_.quota(region, year));
  const RegionYear key{region, year};
  const auto allocated = allocated_.find(key);
  if (!stored && allocated == allocated_.end()) return stored;
  store::Quota quota = stored.value_or(store::Quota{});
  if (allocated != allocated_.end()) {
    const auto& allocation = allocated->second;
    quota.allocated = allocation.allocated;
    quota.pool_start = allocation.pool_start;
    quota.pool_end = allocation.pool_end;
    if (allocation.reserved >= 0) quota.reserved = allocation.reserved;
  }
  // As the store counts them: a unit reserved in any year of a shared period is in each row.
  const int first = quota.pool_start != 0 ? quota.pool_start : year;
  const int last = quota.pool_start != 0 ? quota.pool_end : year;
  for (int in_year = first; in_year <= last; ++in_year) {
    if (const auto delta = reserved_delta_.find({region, in_year}); delta != reserved_delta_.end())
      quota.reserved += delta->second;
  }
  return std::optional<store::Quota>{quota};
}

Result<std::optional<store::UnemploymentRecord>> StateView::unemployment(const std::string& iin) {
  BOOST_OUTCOME_TRY(auto stored, store_.unemployment(iin));
  const auto found = unemployment_.find(iin);
  if (found == unemployment_.end()) return stored;
  // As the store keeps it: an older event never overwrites a newer one.
  if (stored && stored->occurred_at > found->second.occurred_at) return stored;
  return std::optional<store::UnemploymentRecord>{found->second};
}

Result<bool> StateView::key_taken(const std::string& key) {
  if (keys_.contains(key)) return true;
  BOOST_OUTCOME_TRY(auto entry, store_.find_input(key));
  return entry.has_value();
}

void StateView::apply(const std::string& key, const store::StateChanges& changes) {
  keys_.insert(key);
  for (const auto& row : changes.applications) {
    // As it will be once written: the next input of the batch writes from this version.
    auto& laid = applications_[row.application_id] = row;
    laid.version = row.version + 1;
  }
  for (const auto& allocation : changes.allocations) {
    allocated_[{allocation.region, allocation.year}] = allocation;
    // Written with its reserved units: what the batch reserved before is in them.
    if (allocation.reserved >= 0) reserved_delta_.erase({allocation.region, allocation.year});
  }
  for (const auto& reservation : changes.reservations)
    reserved_delta_[{reservation.region, reservation.year}] += reservation.delta;
  for (const auto& record : changes.unemployment) {
    auto [it, inserted] = unemployment_.emplace(record.iin, record);
    if (!inserted && record.occurred_at >= it->second.occurred_at) it->second = record;
  }
}

void StateView::clear() {
  applications_.clear();
  allocated_.clear();
  reserved_delta_.clear();
  unemployment_.clear();
  keys_.clear();
}

}  // namespace nqs::workflow
