#pragma once

#include <boost/json/object.hpp>
#include <optional>

#include "common/reason.hpp"
#include "mapping/mapping.hpp"

namespace nqs::mapping {

// Checks one cross-field rule against the command's payload; a broken one is
// domain.inconsistent. An unknown rule, or one whose fields are absent, checks nothing.
std::optional<Rejection> apply_rule(const RuleSpec& rule, const boost::json::object& payload);

}  // namespace nqs::mapping
