#include "xml/schema_set.hpp"

#include <fmt/format.h>

#include "xml/xml.hpp"

namespace nqs::xml {
namespace {

// Keeps the first error of a parse or validation, as "line N: message".
struct FirstError {
  std::string message;

  static void collect(void* context, xmlErrorPtr error) {
    auto* self = static_cast<FirstError*>(context);
    if (!self->message.empty() || error == nullptr || error->message == nullptr) return;
    std::string text = error->message;
    while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
      text.pop_back();
    self->message = error->line > 0 ? fmt::format("line {}: {}", error->line, text) : text;
  }
};

}  // namespace

std::shared_ptr<const Schema> Schema::load(const std::filesystem::path& file,
                                           std::string& problem) {
  FirstError first;
  xmlSchemaParserCtxtPtr parser = xmlSchemaNewParserCtxt(file.c_str());
  if (parser == nullptr) {
    problem = fmt::format("cannot read schema {}", file.string());
    return nullptr;
  }
  xmlSchemaSetParserStructuredErrors(parser, FirstError::collect, &first);
  xmlSchemaPtr schema = xmlSchemaParse(parser);
  xmlSchemaFreeParserCtxt(parser);
  if (schema == nullptr) {
    problem = fmt::format("schema {} does not compile: {}", file.string(),
                          first.message.empty() ? "unknown error" : first.message);
    return nullptr;
  }
  return std::shared_ptr<const Schema>(new Schema(file, schema));
}

Schema::~Schema() {
  xmlSchemaFree(schema_);
}

std::optional<std::string> Schema::validate(xmlDoc* doc, xmlNode* element) const {
  FirstError first;
  xmlSchemaValidCtxtPtr context = xmlSchemaNewValidCtxt(schema_);
  if (context == nullptr) return std::string("cannot create a validation context");
  xmlSchemaSetValidStructuredErrors(context, FirstError::collect, &first);
  const int result = element == nullptr ? xmlSchemaValidateDoc(context, doc)
                                        : xmlSchemaValidateOneElement(context, element);
  xmlSchemaFreeValidCtxt(context);
  if (result == 0) return std::nullopt;
  return first.message.empty() ? std::string("not valid") : first.message;
}

std::optional<std::string> Schema::validate_document(xmlDoc* doc) const {
  return validate(doc, nullptr);
}

std::optional<std::string> Schema::validate_element(xmlNode* element) const {
  return validate(element->doc, element);
}

}  // namespace nqs::xml
