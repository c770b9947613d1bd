#include "mapping/field_values.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "common/identifiers.hpp"
#include "common/instant.hpp"
#include "mapping/amounts.hpp"
#include "yaml/reader.hpp"

namespace nqs::mapping {
namespace {

std::optional<Rejection> check_identifier(IdentifierCheck check, const std::string& text,
                                          const FieldPath& path, const MappingOptions& options) {
  std::optional<std::string> problem;
  switch (check) {
    case IdentifierCheck::none:
      return std::nullopt;
    case IdentifierCheck::iin:
    case IdentifierCheck::bin:
      // intake.strict_identifiers off accepts a wrong check digit, never a wrong shape.
      problem = check_iin_or_bin(text);
      if (problem && !options.strict_identifiers && text.size() == 12 &&
          std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        problem.reset();
      }
      break;
    case IdentifierCheck::iban:
      problem = check_iban(text);
      break;
    case IdentifierCheck::certificate_number:
      problem = check_certificate_number(text);
      break;
  }
  if (!problem) return std::nullopt;
  return Rejection{Reason::domain_invalid_identifier, fmt::format("{}: {}", path.text(), *problem)};
}

}  // namespace

std::string FieldPath::text() const {
  if (parent_ == nullptr) return std::string(name_);
  auto out = parent_->text();
  if (index_) return fmt::format("{}[{}]", out, *index_);
  if (!out.empty()) out += '.';
  out += name_;
  return out;
}

std::variant<boost::json::value, Rejection> convert_field_value(const FieldSpec& field,
                                                                FieldType type,
                                                                const std::string& text,
                                                                const FieldPath& path,
                                                                const MappingOptions& options) {
  auto invalid = [&](std::string_view what) {
    return Rejection{Reason::schema_invalid,
                     fmt::format("{}: '{}' is not {}", path.text(), text, what)};
  };
  switch (type) {
    case FieldType::string:
      if (auto rejection = check_identifier(field.check, text, path, options)) return *rejection;
      return boost::json::value(text);
    case FieldType::date:
      if (!yaml::parse_date(text)) return invalid("a date YYYY-MM-DD");
      return boost::json::value(text);
    case FieldType::instant: {
      auto instant = parse_instant(text);
      if (!instant) return invalid("an instant with an offset");
      return boost::json::value(to_utc_string(*instant));
    }
    case FieldType::money: {
      auto tiyn = parse_money_tiyn(text);
      if (!tiyn) return invalid("an amount of tenge with at most 2 fraction digits");
      return boost::json::value(*tiyn);
    }
    case FieldType::decimal: {
      const bool ok = !text.empty() &&
                      std::all_of(text.begin(), text.end(),
                                  [](char c) { return (c >= '0' && c <= '9') || c == '.'; }) &&
                      std::count(text.begin(), text.end(), '.') <= 1 && text.front() != '.' &&
                      text.back() != '.';
      if (!ok) return invalid("a decimal number");
      return boost::json::value(text);
    }
    case FieldType::integer: {
      std::int64_t number = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
      if (ec != std::errc{} || end != text.data() + text.size()) return invalid("a whole number");
      return boost::json::value(number);
    }
    case FieldType::boolean:
      if (text == "true" || text == "1") return boost::json::value(true);
      if (text == "false" || text == "0") return boost::json::value(false);
      return invalid("true or false");
    case FieldType::enumeration:
      if (std::find(field.values.begin(), field.values.end(), text) == field.values.end()) {
        return invalid("one of the values the mapping allows");
      }
      return boost::json::value(text);
    case FieldType::list:
    case FieldType::object:
      break;
  }
  return invalid("a scalar value");
}

}  // namespace nqs::mapping
