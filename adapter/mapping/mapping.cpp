#include "mapping/mapping.hpp"

#include <fmt/format.h>

#include <algorithm>

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

// An ASCII NCName (letters, digits, '_', '-', '.', not starting with a digit, '-' or '.'); a name
// beyond ASCII is left to XPath.
bool is_plain_name(std::string_view name) {
  auto letter = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
  auto other = [&](char c) { return letter(c) || (c >= '0' && c <= '9') || c == '-' || c == '.'; };
  return !name.empty() && letter(name.front()) && std::all_of(name.begin() + 1, name.end(), other);
}

// `text` as steps to child elements (prefix:name/prefix:name...), each prefix one of the
// mapping's; empty when it is anything more (predicates, axes, functions, spaces, no prefix).
std::vector<std::pair<std::string, std::string>> child_steps_of(
    std::string_view text, const std::vector<std::pair<std::string, std::string>>& namespaces) {
  std::vector<std::pair<std::string, std::string>> steps;
  for (std::size_t at = 0; at <= text.size();) {
    const auto end = std::min(text.find('/', at), text.size());
    const auto step = text.substr(at, end - at);
    const auto colon = step.find(':');
    if (colon == std::string_view::npos) return {};
    const auto prefix = step.substr(0, colon);
    const auto name = step.substr(colon + 1);
    const auto bound = std::find_if(namespaces.begin(), namespaces.end(),
                                    [&](const auto& entry) { return entry.first == prefix; });
    if (!is_plain_name(prefix) || !is_plain_name(name) || bound == namespaces.end()) return {};
    steps.emplace_back(bound->second, std::string(name));
    at = end + 1;
  }
  return steps;
}

void resolve_child_steps(std::vector<FieldSpec>& fields,
                         const std::vector<std::pair<std::string, std::string>>& namespaces) {
  for (auto& field : fields) {
    if (field.xpath) field.child_steps = child_steps_of(field.xpath->text(), namespaces);
    resolve_child_steps(field.children, namespaces);
  }
}

std::optional<FieldType> read_type(Reader& spec) {
  auto field = spec.required("type");
  if (!field) return std::nullopt;
  auto name = field->as_choice(
      {"string", "date", "instant", "money", "decimal", "integer", "bool", "enum", "list"});
  return name ? type_named(*name) : std::nullopt;
}

// The field's xpath, compiled; problems are recorded on the spec.
void read_xpath(Reader& spec, FieldSpec& field) {
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
}

void read_check(Reader& spec, FieldSpec& field) {
  const auto check = spec.choice("check", {"iin", "bin", "iban", "certificate_number"}, "");
  if (check == "iin") field.check = IdentifierCheck::iin;
  if (check == "bin") field.check = IdentifierCheck::bin;
  if (check == "iban") field.check = IdentifierCheck::iban;
  if (check == "certificate_number") field.check = IdentifierCheck::certificate_number;
}

std::vector<FieldSpec> read_fields(Reader section, Diagnostics& diagnostics);

// What a list holds: a type name (scalars) or a mapping of fields (objects).
void read_items(Reader& spec, FieldSpec& field, Diagnostics& diagnostics) {
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
}

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
  read_xpath(spec, field);
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
  read_check(spec, field);
  read_items(spec, field, diagnostics);
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

SignerRule read_signer(Reader signer) {
  SignerRule rule;
  rule.holder =
      signer.choice("holder", {"individual", "organisation"}, "individual") == "organisation"
          ? KeyHolder::organisation
          : KeyHolder::individual;
  rule.by_bin = signer.choice("identifier", {"iin", "bin"}, "iin") == "bin";
  if (auto field = signer.required("field")) rule.field = field->as_text().value_or("");
  for (auto& role : signer.list("roles")) {
    if (auto text = role.as_text()) rule.roles.push_back(*text);
  }
  signer.finish();
  return rule;
}

RuleSpec read_rule(Reader& entry) {
  RuleSpec rule;
  auto kind = entry.required("rule");
  rule.kind =
      kind ? kind->as_choice({"required_when", "not_before", "line_amounts", "total"}).value_or("")
           : "";
  for (auto& [name, value] : entry.entries()) {
    if (name == "rule") continue;
    if (auto text = value.as_text()) rule.arguments.emplace(name, *text);
  }
  return rule;
}

}  // namespace

CompiledXPath::CompiledXPath(std::string text)
    : text_(std::move(text)), compiled_(xmlXPathCompile(xml::as_xml(text_.c_str()))) {}

CompiledXPath::~CompiledXPath() {
  if (compiled_ != nullptr) xmlXPathFreeCompExpr(compiled_);
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
  mapping->signer = read_signer(root->section("signer"));

  const auto problems_before_fields = diagnostics.problems().size();
  mapping->fields = read_fields(root->section("fields"), diagnostics);
  if (mapping->fields.empty() && diagnostics.problems().size() == problems_before_fields) {
    root->problem("fields: a mapping needs at least one field");
  }
  for (auto& entry : root->list("rules")) {
    mapping->rules.push_back(read_rule(entry));
  }
  root->finish();
  if (diagnostics.problems().size() != problems_before) return nullptr;
  resolve_child_steps(mapping->fields, mapping->namespaces);
  return mapping;
}

}  // namespace nqs::mapping
