#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/result.hpp"
#include "store/store.hpp"

namespace nqs::workflow {

// The domain's state as the next input must see it: the store, with the changes of the inputs
// decided before it in the same batch laid over it (they are committed together, later). Inputs
// about the same application or the same person in one batch are thus decided in order, as if
// each had been committed on its own.
class StateView {
 public:
  explicit StateView(store::Store& store) : store_(store) {}

  Result<std::optional<store::ApplicationRow>> application(const std::string& application_id);
  Result<std::optional<store::ApplicationRow>> application_by_voucher(const std::string& voucher);
  Result<std::vector<store::ApplicationRow>> applications_by_act(const std::string& act_number);
  Result<std::vector<store::ApplicationRow>> applications_of(const std::string& iin, int year);
  Result<std::optional<store::Quota>> quota(const std::string& region, int year);
  Result<std::optional<store::UnemploymentRecord>> unemployment(const std::string& iin);
  // A deadline as committed (the batch's own changes to deadlines are not laid over: a deadline
  // opened earlier in the batch cannot have been warned or breached yet).
  Result<std::optional<store::DeadlineRow>> deadline(const std::string& application_id,
                                                     const std::string& step) {
    return store_.deadline(application_id, step);
  }
  // Whether an input key is in the inbox or was taken by an earlier input of this batch.
  Result<bool> key_taken(const std::string& key);

  // Lays an input's changes and key over the store.
  void apply(const std::string& key, const store::StateChanges& changes);
  // The batch was committed or abandoned: read the store alone again.
  void clear();

  [[nodiscard]] store::Store& store() { return store_; }

 private:
  using RegionYear = std::pair<std::string, int>;
  // The overlay's version of a row read from the store (applications it changed win).
  store::ApplicationRow newest(store::ApplicationRow row) const;

  store::Store& store_;
  std::map<std::string, store::ApplicationRow> applications_;  // by application id
  std::map<RegionYear, store::QuotaAllocation> allocated_;     // replaced allocations
  std::map<RegionYear, std::int64_t> reserved_delta_;
  std::map<std::string, store::UnemploymentRecord> unemployment_;
  std::set<std::string> keys_;
};

}  // namespace nqs::workflow
