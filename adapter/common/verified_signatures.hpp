#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_set>

namespace nqs {

// Signatures that verified, each named by everything its verification depends on (the
// algorithm, the whole public key, the digest or data signed, the signature): OpenSSL verifies
// every link of every chain again for each new signer's certificate, though the issuing CA's
// certificate is the same for thousands of them (CRLs, whose digest alone costs more, remember
// theirs before this is asked: revocation/crl_signatures.hpp). What
// verified once verifies again; only successes are kept, so nothing a sender presents can make a
// failure stick or a forgery pass. A name must be unambiguous: parts of varying length carry
// their length. Bounded, oldest out (a link still in use is verified again and comes back).
// Thread-safe.
class VerifiedSignatures {
 public:
  explicit VerifiedSignatures(std::size_t capacity) : capacity_(capacity) {}

  // Whether `name` verified before (counted as remembered when it did).
  bool contains(const std::string& name) {
    std::lock_guard lock(mutex_);
    if (!set_.contains(name)) return false;
    ++remembered_;
    return true;
  }

  void insert(std::string name) {
    std::lock_guard lock(mutex_);
    const auto [at, inserted] = set_.insert(std::move(name));
    if (!inserted) return;
    order_.push_back(&*at);  // the set's elements stay where they are until erased
    if (order_.size() > capacity_) {
      set_.erase(set_.find(*order_.front()));
      order_.pop_front();
    }
  }

  // How many verifications were answered from memory.
  std::uint64_t remembered() {
    std::lock_guard lock(mutex_);
    return remembered_;
  }

 private:
  const std::size_t capacity_;
  std::mutex mutex_;
  std::unordered_set<std::string> set_;
  std::deque<const std::string*> order_;  // oldest first
  std::uint64_t remembered_ = 0;
};

}  // namespace nqs
