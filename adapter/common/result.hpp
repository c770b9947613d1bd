#pragma once

#include <boost/outcome/result.hpp>
#include <boost/outcome/try.hpp>
#include <string>
#include <utility>

namespace nqs {

namespace outcome = boost::outcome_v2;

// A failure that a caller reports to a person as it is: what went wrong, in words.
struct Error {
  std::string message;
};

inline Error make_error(std::string message) {
  return Error{std::move(message)};
}

// Results that can fail are returned, not thrown; reading a value that is not there terminates,
// because that is a bug in the caller, not an input problem.
template <class T>
using Result = outcome::result<T, Error, outcome::policy::terminate>;

}  // namespace nqs
