#include "intake/ais_event_schema.hpp"

#include <fmt/format.h>

#include <charconv>
#include <memory>
#include <stdexcept>
#include <valijson/adapters/boost_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "ais_event_schema_text.hpp"  // generated: k_ais_event_schema
#include "common/strict_json.hpp"

namespace nqs::intake {
namespace {

const valijson::Schema& schema() {
  static const std::unique_ptr<valijson::Schema> parsed = [] {
    auto text = parse_strict_json(k_ais_event_schema, 32);
    const auto* document = std::get_if<boost::json::value>(&text);
    if (document == nullptr) {
      throw std::logic_error("json-schema/ais-event.schema.json: " + std::get<std::string>(text));
    }
    auto out = std::make_unique<valijson::Schema>();
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    parser.populateSchema(valijson::adapters::BoostJsonAdapter(*document), *out);
    return out;
  }();
  return *parsed;
}

// valijson names a place as {"<root>", "[payload]", "[reasons]", "[1]"}; the event's own value
// says which steps are keys and which are indexes: "payload.reasons[1]".
struct Place {
  std::string path;
  const boost::json::value* value = nullptr;
};

Place place_of(const std::vector<std::string>& context, const boost::json::value& event) {
  Place out{"", &event};
  for (std::size_t i = 1; i < context.size(); ++i) {
    const auto& step = context[i];
    if (step.size() < 2 || step.front() != '[' || step.back() != ']') break;
    const auto name = step.substr(1, step.size() - 2);
    const auto* here = out.value;
    out.value = nullptr;
    if (here != nullptr && here->is_array()) {
      out.path += step;
      // Never throws: a step that is not an index names no value.
      std::size_t index = 0;
      const auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), index);
      if (ec == std::errc{} && end == name.data() + name.size() && index < here->get_array().size())
        out.value = &here->get_array()[index];
    } else {
      out.path += (out.path.empty() ? "" : ".") + name;
      if (here != nullptr && here->is_object()) out.value = here->get_object().if_contains(name);
    }
  }
  if (out.path.empty()) out.path = "the event";
  return out;
}

// The value that failed, when it is short enough to say; never more than 64 characters of it.
std::string given(const boost::json::value* value) {
  if (value == nullptr || value->is_object() || value->is_array()) return "";
  auto text =
      value->is_string() ? std::string(value->get_string()) : boost::json::serialize(*value);
  if (text.size() > 64) text = text.substr(0, 64) + "...";
  return fmt::format(" (given '{}')", text);
}

}  // namespace

std::optional<std::string> ais_event_schema_problem(const boost::json::value& event) {
  // One validator a thread: it keeps the schema's compiled patterns.
  thread_local valijson::Validator validator(valijson::Validator::kStrongTypes);
  valijson::ValidationResults results;
  if (validator.validate(schema(), valijson::adapters::BoostJsonAdapter(event), &results)) {
    return std::nullopt;
  }
  // The first error is the deepest: the field itself, before the objects that hold it.
  valijson::ValidationResults::Error error;
  results.popError(error);
  const auto where = place_of(error.context, event);
  return fmt::format("{}: {}{}", where.path, error.description, given(where.value));
}

}  // namespace nqs::intake
