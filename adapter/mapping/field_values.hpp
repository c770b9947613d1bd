#pragma once

#include <boost/json/value.hpp>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "common/reason.hpp"
#include "mapping/mapping.hpp"

namespace nqs::mapping {

// Where a field stands in the command ("applicant.iin", "attachments[1].uri"), written as text
// only when a message names it: a document's thirty fields each made their path before.
class FieldPath {
 public:
  FieldPath() = default;
  // `name` inside `parent`, or item `index` of the list `parent`; `parent` outlives it.
  FieldPath(const FieldPath& parent, std::string_view name) : parent_(&parent), name_(name) {}
  FieldPath(const FieldPath& parent, std::size_t index) : parent_(&parent), index_(index) {}

  [[nodiscard]] std::string text() const;

 private:
  const FieldPath* parent_ = nullptr;
  std::string_view name_;
  std::optional<std::size_t> index_;
};

// Turns the text of one element into the JSON value of a scalar field of type `type` (not a list
// or an object), checking its identifier if the field asks for it. A value that does not fit is
// schema.invalid, a wrong identifier domain.invalid_identifier; `path` names the field in the
// detail.
std::variant<boost::json::value, Rejection> convert_field_value(const FieldSpec& field,
                                                                FieldType type,
                                                                const std::string& text,
                                                                const FieldPath& path,
                                                                const MappingOptions& options);

}  // namespace nqs::mapping
