#pragma once

#include <libxml/tree.h>
#include <libxml/xpath.h>

#include <boost/json/object.hpp>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/reason.hpp"
#include "mapping/amounts.hpp"
#include "xml/schema_set.hpp"
#include "yaml/reader.hpp"

namespace nqs::mapping {

// A compiled XPath expression, relative to the signed document element.
class CompiledXPath {
 public:
  explicit CompiledXPath(std::string text);
  ~CompiledXPath();
  CompiledXPath(const CompiledXPath&) = delete;
  CompiledXPath& operator=(const CompiledXPath&) = delete;
  [[nodiscard]] bool ok() const { return compiled_ != nullptr; }
  [[nodiscard]] const std::string& text() const { return text_; }
  [[nodiscard]] xmlXPathCompExprPtr get() const { return compiled_; }

 private:
  std::string text_;
  xmlXPathCompExprPtr compiled_ = nullptr;
};

enum class FieldType {
  string,
  date,
  instant,
  money,
  decimal,
  integer,
  boolean,
  enumeration,
  list,
  object
};
enum class IdentifierCheck { none, iin, bin, iban, certificate_number };

// One field of a command: where it is in the document and what it becomes in JSON.
struct FieldSpec {
  std::string name;
  FieldType type = FieldType::string;
  std::shared_ptr<const CompiledXPath> xpath;  // none for a plain nested object
  // The xpath when it only steps to child elements by qualified name (v:Applicant/v:IIN): each
  // step's namespace URI and local name, selected by walking the tree (XPath's answer, without
  // evaluating it: a tenth of a document's intake). Empty: XPath evaluates it.
  std::vector<std::pair<std::string, std::string>> child_steps;
  bool optional = false;
  std::vector<std::string> values;  // enumeration
  IdentifierCheck check = IdentifierCheck::none;
  FieldType item_type = FieldType::string;  // list of scalars
  std::vector<FieldSpec> children;          // object, or list of objects
};

// A cross-field rule; a broken one is domain.inconsistent.
struct RuleSpec {
  std::string kind;  // required_when, not_before, line_amounts, total
  std::map<std::string, std::string, std::less<>> arguments;
};

enum class KeyHolder { individual, organisation };

// Who must have signed, and which field of the command names them.
struct SignerRule {
  KeyHolder holder = KeyHolder::individual;
  bool by_bin = false;             // compare the certificate's BIN, else its IIN
  std::string field;               // dotted path in the command, e.g. applicant.iin
  std::vector<std::string> roles;  // EKU OIDs, any of which is required (empty: any)
};

// mappings/<document>.yaml, loaded and compiled.
struct DocumentMapping {
  std::filesystem::path source;
  std::string ns;
  std::string element;
  std::shared_ptr<const xml::Schema> schema;
  std::vector<std::pair<std::string, std::string>> namespaces;  // prefix, URI
  std::string command;
  SignerRule signer;
  std::vector<FieldSpec> fields;
  std::vector<RuleSpec> rules;

  [[nodiscard]] std::string document_type() const { return element; }
};

// The header every mapping file starts with, inbound or outbound: `document` (namespace and
// element: the qualified name it is about) and `schema` (compiled). Problems are recorded.
struct DocumentHeader {
  std::string ns;
  std::string element;
  std::shared_ptr<const xml::Schema> schema;
};
DocumentHeader read_document_header(yaml::Reader& root);

// Reads a mapping file, compiling its schema and XPaths; problems are recorded and give nothing.
std::shared_ptr<const DocumentMapping> load_mapping(const std::filesystem::path& file,
                                                    yaml::Diagnostics& diagnostics);

struct MappingOptions {
  bool strict_identifiers = true;  // IIN/BIN check digits
};

// Reads the command out of the signed document element: only nodes inside `document` are ever
// read. Returns the command's payload, or a rejection (schema.invalid for a value that does not
// fit, domain.invalid_identifier, domain.inconsistent).
std::variant<boost::json::object, Rejection> map_document(const DocumentMapping& mapping,
                                                          xmlNode* document,
                                                          const MappingOptions& options);

// Reads a dotted path (applicant.iin) from a command payload.
const boost::json::value* find_path(const boost::json::object& payload, std::string_view path);

}  // namespace nqs::mapping
