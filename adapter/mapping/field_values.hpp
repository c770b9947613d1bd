#pragma once

#include <boost/json/value.hpp>
#include <string>
#include <variant>

#include "common/reason.hpp"
#include "mapping/mapping.hpp"

namespace nqs::mapping {

// Turns the text of one element into the JSON value of a scalar field (not a list or an object),
// checking its identifier if the field asks for it. A value that does not fit is schema.invalid, a
// wrong identifier domain.invalid_identifier; `path` names the field in the detail.
std::variant<boost::json::value, Rejection> convert_field_value(const FieldSpec& field,
                                                                const std::string& text,
                                                                const std::string& path,
                                                                const MappingOptions& options);

}  // namespace nqs::mapping
