#pragma once

#include <boost/json/value.hpp>
#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

namespace nqs {

// JSON from outside, read strictly: besides what Boost.JSON refuses, an object that gives the
// same key twice is refused (Boost.JSON would keep the last value silently: {"iin": "A",
// "iin": "B"} must not mean B to the adapter and A to whoever checked it). Returns the value, or
// the problem in words with where it is ("the key 'iin' is given twice in payload").
std::variant<boost::json::value, std::string> parse_strict_json(std::string_view text,
                                                                std::size_t max_depth);

}  // namespace nqs
