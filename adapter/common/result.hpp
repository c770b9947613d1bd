#pragma once

#include <boost/outcome/result.hpp>
#include <boost/outcome/try.hpp>
#include <string>
#include <utility>

namespace nqs {

namespace outcome = boost::outcome_v2;

// What a failure asks of whoever meets it.
enum class Failure {
  transient,  // the same later may succeed (a store busy or unreachable): retry after a while
  conflict,   // another writer came first (a version or unique key): decide again, now
  permanent,  // the same will fail the same way every time (a constraint, bad data): never retry
};

// A failure that a caller reports to a person as it is: what went wrong, in words, and what kind.
struct Error {
  std::string message;
  Failure kind = Failure::transient;
};

inline Error make_error(std::string message, Failure kind = Failure::transient) {
  return Error{std::move(message), kind};
}

// Results that can fail are returned, not thrown; reading a value that is not there terminates,
// because that is a bug in the caller, not an input problem.
template <class T>
using Result = outcome::result<T, Error, outcome::policy::terminate>;

}  // namespace nqs
