#pragma once

#include <boost/json/object.hpp>

#include "common/result.hpp"
#include "domain/lifecycle.hpp"

namespace nqs::workflow {

// The Application aggregate as the store keeps it: a JSON object with every field, stages and
// profiles by name, dates YYYY-MM-DD, money in integer tiyn. from_json refuses anything that
// to_json would not have written (a corrupt row is an error, not a default).
boost::json::object to_json(const domain::Application& application);
Result<domain::Application> application_from_json(const boost::json::object& json);

}  // namespace nqs::workflow
