#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string>

namespace nqs::intake {

// Checks one AIS event against the contract the AIS team is given,
// json-schema/ais-event.schema.json (compiled in; valijson, draft 7). Returns the first problem
// in words with where it is ("payload.decision: ... (given 'maybe')"), or nothing.
std::optional<std::string> ais_event_schema_problem(const boost::json::value& event);

}  // namespace nqs::intake
