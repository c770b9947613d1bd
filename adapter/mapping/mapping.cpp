#include "mapping/mapping.hpp"

#include <fmt/format.h>
#include <libxml/xpathInternals.h>

#include <algorithm>
#include <charconv>

#include "common/identifiers.hpp"
#include "common/instant.hpp"
#include "xml/xml.hpp"

namespace nqs::mapping {
namespace {

using yaml::Diagnostics;
using yaml::Reader;

struct TypeName {
  std::string_view name;
  FieldType type;
};
constexpr TypeName kTypes[] = {
    {"string", FieldType::string},   {"date", FieldType::date},
    {"instant", FieldType::instant}, {"money", FieldType::money},
    {"decimal", FieldType::decimal}, {"integer", FieldType::integer},
    {"bool", FieldType::boolean},    {"enum", FieldType::enumeration},
    {"list", FieldType::list},
};

std::optional<FieldType> type_named(std::string_view name) {
  for (const auto& entry : kTypes) {
    if (entry.name == name) return entry.type;
  }
  return std::nullopt;
}

// Mappings read only below the signed element: no absolute paths, no way up or sideways, no id().
std::optional<std::string> relative_xpath_problem(std::string_view text) {
  if (text.empty()) return "the XPath is empty";
  if (text.front() == '/') return "the XPath must be relative to the document element";
  for (std::string_view forbidden :
       {"..", "ancestor", "parent::", "preceding", "following", "id(", "namespace::"}) {
    if (text.find(forbidden) != std::string_view::npos) {
      return fmt::format("the XPath may not use '{}': it must stay inside the document element",
                         forbidden);
    }
  }
  return std::nullopt;
}

std::optional<FieldType> read_type(Reader& spec) {
  auto field = spec.required("type");
  if (!field) return std::nullopt;
  auto name = field->as_choice(
      {"string", "date", "instant", "money", "decimal", "integer", "bool", "enum", "list"});
  return name ? type_named(*name) : std::nullopt;
}

std::vector<FieldSpec> read_fields(Reader section, Diagnostics& diagnostics);

std::optional<FieldSpec> read_field(const std::string& name, Reader spec,
                                    Diagnostics& diagnostics) {
  FieldSpec field;
  field.name = name;
  // A mapping without xpath/type is a nested object whose fields read from the same element.
  if (!spec.has("xpath") && !spec.has("type")) {
    field.type = FieldType::object;
    field.children = read_fields(spec, diagnostics);
    return field;
  }
  const auto problems_before = diagnostics.problems().size();
  if (auto xpath = spec.required("xpath")) {
    if (auto text = xpath->as_text()) {
      if (auto problem = relative_xpath_problem(*text)) {
        xpath->problem(*problem);
      } else {
        auto compiled = std::make_shared<const CompiledXPath>(*text);
        if (!compiled->ok()) {
          xpath->problem(fmt::format("'{}' is not a valid XPath 1.0 expression", *text));
        }
        field.xpath = std::move(compiled);
      }
    }
  }
  field.type = read_type(spec).value_or(FieldType::string);
  field.optional = spec.flag("optional", false);
  if (auto values = spec.field("values")) {
    for (auto& value : spec.list("values")) {
      if (auto text = value.as_text()) field.values.push_back(*text);
    }
  }
  if (field.type == FieldType::enumeration && field.values.empty()) {
    spec.problem("an enum needs its values");
  }
  const auto check = spec.choice("check", {"iin", "bin", "iban", "certificate_number"}, "");
  if (check == "iin") field.check = IdentifierCheck::iin;
  if (check == "bin") field.check = IdentifierCheck::bin;
  if (check == "iban") field.check = IdentifierCheck::iban;
  if (check == "certificate_number") field.check = IdentifierCheck::certificate_number;
  if (auto items = spec.field("items")) {
    if (field.type != FieldType::list) items->problem("only a list has items");
    if (items->is_scalar()) {
      const auto scalar = items->as_text().value_or("");
      auto type = type_named(scalar);
      if (!type || *type == FieldType::list || *type == FieldType::enumeration) {
        items->problem(fmt::format("'{}' is not a type a list can hold", scalar));
      } else {
        field.item_type = *type;
      }
    } else if (items->is_mapping() && !items->has("xpath")) {
      field.item_type = FieldType::object;
      field.children = read_fields(*items, diagnostics);
    } else {
      items->problem("items is a type name or a mapping of fields");
    }
  } else if (field.type == FieldType::list) {
    spec.problem("a list needs items");
  }
  spec.finish();
  if (diagnostics.problems().size() != problems_before) return std::nullopt;
  return field;
}

std::vector<FieldSpec> read_fields(Reader section, Diagnostics& diagnostics) {
  std::vector<FieldSpec> fields;
  for (auto& [name, spec] : section.entries()) {
    if (auto field = read_field(name, spec, diagnostics)) fields.push_back(std::move(*field));
  }
  return fields;
}

struct XPathContextFree {
  void operator()(xmlXPathContext* context) const { xmlXPathFreeContext(context); }
};
struct XPathObjectFree {
  void operator()(xmlXPathObject* object) const { xmlXPathFreeObject(object); }
};

bool is_inside(const xmlNode* node, const xmlNode* ancestor) {
  for (const xmlNode* at = node; at != nullptr; at = at->parent) {
    if (at == ancestor) return true;
    if (at->type == XML_ATTRIBUTE_NODE) at = at->parent;  // an attribute's parent is its element
    if (at == nullptr) break;
  }
  return false;
}

class Mapper {
 public:
  Mapper(const DocumentMapping& mapping, xmlNode* document, const MappingOptions& options)
      : document_(document), options_(options) {
    context_.reset(xmlXPathNewContext(document->doc));
    for (const auto& [prefix, uri] : mapping.namespaces) {
      xmlXPathRegisterNs(context_.get(), xml::as_xml(prefix.c_str()), xml::as_xml(uri.c_str()));
    }
  }

  std::optional<Rejection> read_object(const std::vector<FieldSpec>& fields, xmlNode* context_node,
                                       const std::string& path, boost::json::object& out) {
    for (const auto& field : fields) {
      const std::string field_path = path.empty() ? field.name : path + "." + field.name;
      if (auto rejection = read_field(field, context_node, field_path, out)) return rejection;
    }
    return std::nullopt;
  }

 private:
  std::variant<std::vector<xmlNode*>, Rejection> select(const FieldSpec& field,
                                                        xmlNode* context_node,
                                                        const std::string& path) {
    context_->node = context_node;
    std::unique_ptr<xmlXPathObject, XPathObjectFree> result(
        xmlXPathCompiledEval(field.xpath->get(), context_.get()));
    std::vector<xmlNode*> nodes;
    if (!result || result->type != XPATH_NODESET) {
      return Rejection{Reason::schema_invalid,
                       fmt::format("{}: the mapping's XPath '{}' does not select elements", path,
                                   field.xpath->text())};
    }
    if (result->nodesetval != nullptr) {
      for (int i = 0; i < result->nodesetval->nodeNr; ++i) {
        xmlNode* node = result->nodesetval->nodeTab[i];
        // The mapper reads only what the verified reference covers.
        if (!is_inside(node, document_)) {
          return Rejection{Reason::signature_reference_mismatch,
                           fmt::format("{}: the mapping read outside the signed element", path)};
        }
        nodes.push_back(node);
      }
    }
    return nodes;
  }

  std::optional<Rejection> read_field(const FieldSpec& field, xmlNode* context_node,
                                      const std::string& path, boost::json::object& out) {
    if (field.type == FieldType::object) {
      boost::json::object nested;
      if (auto rejection = read_object(field.children, context_node, path, nested))
        return rejection;
      out[field.name] = std::move(nested);
      return std::nullopt;
    }
    auto selected = select(field, context_node, path);
    if (auto* rejection = std::get_if<Rejection>(&selected)) return *rejection;
    auto& nodes = std::get<std::vector<xmlNode*>>(selected);

    if (field.type == FieldType::list) {
      boost::json::array items;
      for (std::size_t i = 0; i < nodes.size(); ++i) {
        const std::string item_path = fmt::format("{}[{}]", path, i);
        if (field.item_type == FieldType::object) {
          boost::json::object item;
          if (auto rejection = read_object(field.children, nodes[i], item_path, item)) {
            return rejection;
          }
          items.emplace_back(std::move(item));
        } else {
          FieldSpec scalar = field;
          scalar.type = field.item_type;
          auto value = convert(scalar, xml::text_of(nodes[i]), item_path);
          if (auto* rejection = std::get_if<Rejection>(&value)) return *rejection;
          items.emplace_back(std::move(std::get<boost::json::value>(value)));
        }
      }
      out[field.name] = std::move(items);
      return std::nullopt;
    }
    if (nodes.empty()) {
      if (field.optional) return std::nullopt;
      return Rejection{Reason::schema_invalid, fmt::format("{}: required element {} is missing",
                                                           path, field.xpath->text())};
    }
    if (nodes.size() > 1) {
      return Rejection{Reason::schema_invalid,
                       fmt::format("{}: {} elements match {}; exactly one is expected", path,
                                   nodes.size(), field.xpath->text())};
    }
    auto value = convert(field, xml::text_of(nodes.front()), path);
    if (auto* rejection = std::get_if<Rejection>(&value)) return *rejection;
    out[field.name] = std::move(std::get<boost::json::value>(value));
    return std::nullopt;
  }

  std::variant<boost::json::value, Rejection> convert(const FieldSpec& field,
                                                      const std::string& text,
                                                      const std::string& path) const {
    auto invalid = [&](std::string_view what) {
      return Rejection{Reason::schema_invalid, fmt::format("{}: '{}' is not {}", path, text, what)};
    };
    switch (field.type) {
      case FieldType::string:
        if (auto rejection = check_identifier(field.check, text, path)) return *rejection;
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

  std::optional<Rejection> check_identifier(IdentifierCheck check, const std::string& text,
                                            const std::string& path) const {
    std::optional<std::string> problem;
    switch (check) {
      case IdentifierCheck::none:
        return std::nullopt;
      case IdentifierCheck::iin:
      case IdentifierCheck::bin:
        // intake.strict_identifiers off accepts a wrong check digit, never a wrong shape.
        problem = check_iin_or_bin(text);
        if (problem && !options_.strict_identifiers && text.size() == 12 &&
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
    return Rejection{Reason::domain_invalid_identifier, fmt::format("{}: {}", path, *problem)};
  }

  xmlNode* document_;
  const MappingOptions& options_;
  std::unique_ptr<xmlXPathContext, XPathContextFree> context_;
};

std::string argument(const RuleSpec& rule, std::string_view name) {
  auto found = rule.arguments.find(name);
  return found == rule.arguments.end() ? std::string() : found->second;
}

// Quantity with at most 3 fraction digits, in thousandths.
std::optional<std::int64_t> parse_thousandths(std::string_view text) {
  std::int64_t whole = 0;
  std::int64_t fraction = 0;
  std::size_t fraction_digits = 0;
  bool in_fraction = false;
  for (char c : text) {
    if (c == '.') {
      if (in_fraction) return std::nullopt;
      in_fraction = true;
      continue;
    }
    if (c < '0' || c > '9') return std::nullopt;
    if (in_fraction) {
      if (++fraction_digits > 3) return std::nullopt;
      fraction = fraction * 10 + (c - '0');
    } else {
      whole = whole * 10 + (c - '0');
      if (whole > 1'000'000'000'000) return std::nullopt;
    }
  }
  while (fraction_digits++ < 3)
    fraction *= 10;
  return whole * 1000 + fraction;
}

std::optional<Rejection> apply_rule(const RuleSpec& rule, const boost::json::object& payload) {
  auto inconsistent = [](std::string detail) {
    return Rejection{Reason::domain_inconsistent, std::move(detail)};
  };
  if (rule.kind == "required_when") {
    const auto field = argument(rule, "field");
    const auto* when = find_path(payload, argument(rule, "when"));
    if (when != nullptr && when->is_string() && when->get_string() == argument(rule, "equals") &&
        find_path(payload, field) == nullptr) {
      return inconsistent(fmt::format("{} is required when {} is {}", field, argument(rule, "when"),
                                      argument(rule, "equals")));
    }
    return std::nullopt;
  }
  if (rule.kind == "not_before") {
    const auto* field = find_path(payload, argument(rule, "field"));
    const auto* other = find_path(payload, argument(rule, "other"));
    // Dates are YYYY-MM-DD: their text order is their time order.
    if (field != nullptr && other != nullptr && field->is_string() && other->is_string() &&
        field->get_string() < other->get_string()) {
      return inconsistent(fmt::format("{} ({}) is before {} ({})", argument(rule, "field"),
                                      field->get_string().c_str(), argument(rule, "other"),
                                      other->get_string().c_str()));
    }
    return std::nullopt;
  }
  const auto* list = find_path(payload, argument(rule, "list"));
  // An empty list has nothing to check (an optional list; a required one is the schema's).
  if (list == nullptr || !list->is_array() || list->get_array().empty()) return std::nullopt;
  if (rule.kind == "line_amounts") {
    // Amount = Quantity x UnitPrice exactly: in thousandths of a tiyn, no rounding.
    std::size_t index = 0;
    for (const auto& line : list->get_array()) {
      const auto& item = line.get_object();
      const auto* quantity = find_path(item, argument(rule, "quantity"));
      const auto* price = find_path(item, argument(rule, "price"));
      const auto* amount = find_path(item, argument(rule, "amount"));
      if (quantity == nullptr || price == nullptr || amount == nullptr) continue;
      const auto thousandths = parse_thousandths(quantity->get_string());
      // Both sides in thousandths of a tiyn; amounts fit (at most 10^15 tiyn, 10^18 here), so a
      // product that overflows cannot equal one.
      std::int64_t product = 0;
      std::int64_t expected = 0;
      if (!thousandths || __builtin_mul_overflow(*thousandths, price->get_int64(), &product) ||
          __builtin_mul_overflow(amount->get_int64(), std::int64_t{1000}, &expected) ||
          product != expected) {
        return inconsistent(
            fmt::format("{}[{}]: amount {} tiyn is not quantity {} x unit price {} tiyn",
                        argument(rule, "list"), index, amount->get_int64(),
                        quantity->get_string().c_str(), price->get_int64()));
      }
      ++index;
    }
    return std::nullopt;
  }
  if (rule.kind == "total") {
    // At most 100 lines of at most 10^15 tiyn each: the sum fits.
    std::int64_t sum = 0;
    for (const auto& line : list->get_array()) {
      if (const auto* amount = find_path(line.get_object(), argument(rule, "amount"))) {
        sum += amount->get_int64();
      }
    }
    const auto* total = find_path(payload, argument(rule, "total"));
    if (total != nullptr && total->get_int64() != sum) {
      return inconsistent(
          fmt::format("total {} tiyn is not the sum of the amounts of the {}, {} tiyn",
                      total->get_int64(), argument(rule, "list"), sum));
    }
    return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

CompiledXPath::CompiledXPath(std::string text)
    : text_(std::move(text)), compiled_(xmlXPathCompile(xml::as_xml(text_.c_str()))) {}

CompiledXPath::~CompiledXPath() {
  if (compiled_ != nullptr) xmlXPathFreeCompExpr(compiled_);
}

std::optional<std::int64_t> parse_money_tiyn(std::string_view text) {
  std::int64_t tenge = 0;
  std::int64_t tiyn = 0;
  std::size_t fraction_digits = 0;
  bool in_fraction = false;
  std::size_t whole_digits = 0;
  for (char c : text) {
    if (c == '.') {
      if (in_fraction || whole_digits == 0) return std::nullopt;
      in_fraction = true;
      continue;
    }
    if (c < '0' || c > '9') return std::nullopt;
    if (in_fraction) {
      if (++fraction_digits > 2) return std::nullopt;
      tiyn = tiyn * 10 + (c - '0');
    } else {
      if (++whole_digits > 15) return std::nullopt;
      tenge = tenge * 10 + (c - '0');
    }
  }
  if (whole_digits == 0 || (in_fraction && fraction_digits == 0)) return std::nullopt;
  if (fraction_digits == 1) tiyn *= 10;
  return tenge * 100 + tiyn;
}

const boost::json::value* find_path(const boost::json::object& payload, std::string_view path) {
  const boost::json::object* current = &payload;
  while (true) {
    const auto dot = path.find('.');
    const auto key = path.substr(0, dot);
    const auto* value = current->if_contains(key);
    if (value == nullptr || dot == std::string_view::npos) return value;
    if (!value->is_object()) return nullptr;
    current = &value->get_object();
    path.remove_prefix(dot + 1);
  }
}

DocumentHeader read_document_header(Reader& root) {
  DocumentHeader header;
  auto document = root.section("document");
  if (auto ns = document.required("namespace")) header.ns = ns->as_text().value_or("");
  if (auto element = document.required("element")) header.element = element->as_text().value_or("");
  document.finish();
  if (auto schema = root.required("schema")) {
    if (auto path = schema->as_existing_file()) {
      std::string problem;
      header.schema = xml::Schema::load(*path, problem);
      if (!header.schema) schema->problem(problem);
    }
  }
  return header;
}

std::shared_ptr<const DocumentMapping> load_mapping(const std::filesystem::path& file,
                                                    Diagnostics& diagnostics) {
  auto root = Reader::open(file, diagnostics);
  if (!root) return nullptr;
  const auto problems_before = diagnostics.problems().size();
  auto mapping = std::make_shared<DocumentMapping>();
  mapping->source = file;

  auto header = read_document_header(*root);
  mapping->ns = std::move(header.ns);
  mapping->element = std::move(header.element);
  mapping->schema = std::move(header.schema);
  for (auto& [prefix, uri] : root->section("namespaces").entries()) {
    if (auto text = uri.as_text()) mapping->namespaces.emplace_back(prefix, *text);
  }
  if (auto command = root->required("command")) mapping->command = command->as_text().value_or("");

  auto signer = root->section("signer");
  mapping->signer.holder =
      signer.choice("holder", {"individual", "organisation"}, "individual") == "organisation"
          ? KeyHolder::organisation
          : KeyHolder::individual;
  mapping->signer.by_bin = signer.choice("identifier", {"iin", "bin"}, "iin") == "bin";
  if (auto field = signer.required("field")) mapping->signer.field = field->as_text().value_or("");
  for (auto& role : signer.list("roles")) {
    if (auto text = role.as_text()) mapping->signer.roles.push_back(*text);
  }
  signer.finish();

  const auto problems_before_fields = diagnostics.problems().size();
  mapping->fields = read_fields(root->section("fields"), diagnostics);
  if (mapping->fields.empty() && diagnostics.problems().size() == problems_before_fields) {
    root->problem("fields: a mapping needs at least one field");
  }
  for (auto& entry : root->list("rules")) {
    RuleSpec rule;
    auto kind = entry.required("rule");
    rule.kind =
        kind
            ? kind->as_choice({"required_when", "not_before", "line_amounts", "total"}).value_or("")
            : "";
    for (auto& [name, value] : entry.entries()) {
      if (name == "rule") continue;
      if (auto text = value.as_text()) rule.arguments.emplace(name, *text);
    }
    mapping->rules.push_back(std::move(rule));
  }
  root->finish();
  if (diagnostics.problems().size() != problems_before) return nullptr;
  return mapping;
}

std::variant<boost::json::object, Rejection> map_document(const DocumentMapping& mapping,
                                                          xmlNode* document,
                                                          const MappingOptions& options) {
  Mapper mapper(mapping, document, options);
  boost::json::object payload;
  if (auto rejection = mapper.read_object(mapping.fields, document, "", payload)) return *rejection;
  for (const auto& rule : mapping.rules) {
    if (auto rejection = apply_rule(rule, payload)) return *rejection;
  }
  return payload;
}

}  // namespace nqs::mapping
