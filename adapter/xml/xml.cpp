#include "xml/xml.hpp"

#include <fmt/format.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>

#include <algorithm>
#include <cstring>

namespace nqs::xml {
namespace {

// What the SAX hooks saw that is refused outright.
struct ForbiddenSeen {
  std::string what;
};

ForbiddenSeen* forbidden_of(void* context) {
  auto* parser = static_cast<xmlParserCtxtPtr>(context);
  return static_cast<ForbiddenSeen*>(parser->_private);
}

void refuse(void* context, std::string what) {
  auto* seen = forbidden_of(context);
  if (seen->what.empty()) seen->what = std::move(what);
  xmlStopParser(static_cast<xmlParserCtxtPtr>(context));
}

// A DOCTYPE is where DTDs, entity declarations and external subsets start: refuse it on sight.
void on_internal_subset(void* context, const xmlChar* name, const xmlChar*, const xmlChar*) {
  refuse(context, fmt::format("a DOCTYPE declaration (<!DOCTYPE {}>)", as_view(name)));
}
void on_external_subset(void* context, const xmlChar* name, const xmlChar*, const xmlChar*) {
  refuse(context, fmt::format("an external DTD subset ({})", as_view(name)));
}
void on_entity_declaration(void* context, const xmlChar* name, int, const xmlChar*, const xmlChar*,
                           xmlChar*) {
  refuse(context, fmt::format("an entity declaration (<!ENTITY {}>)", as_view(name)));
}
// Called for every entity reference other than the five predefined ones (&lt; &gt; &amp; &apos;
// &quot;), which libxml2 resolves before asking.
xmlEntityPtr on_get_entity(void* context, const xmlChar* name) {
  refuse(context, fmt::format("an entity reference (&{};)", as_view(name)));
  return nullptr;
}
xmlEntityPtr on_get_parameter_entity(void* context, const xmlChar* name) {
  refuse(context, fmt::format("a parameter entity reference (%{};)", as_view(name)));
  return nullptr;
}

bool starts_with_bytes(std::string_view bytes, std::string_view prefix) {
  return bytes.size() >= prefix.size() && bytes.substr(0, prefix.size()) == prefix;
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

struct ParserFree {
  void operator()(xmlParserCtxt* parser) const { xmlFreeParserCtxt(parser); }
};

// A thread's parser, reused from one message to the next (xmlCtxtReadMemory resets it): creating
// one (its dictionary, stacks and SAX handler) cost about a tenth of parsing a signed application.
// The dictionary of names is kept and shared by reference with every document parsed, so it
// grows with the names (and namespace URIs, and Id values) the thread has seen, and libxml2 stops
// adding to it at 10 MB (XML_MAX_DICTIONARY_LIMIT: then every new name fails). A message can bring
// new ones (hostile: thousands, or a few of 50,000 bytes), so the parser is replaced after any
// message it refused and whenever its dictionary holds more than kMaxNames names or kMaxNameBytes
// bytes: each message starts with room for all it may bring. A document shares its thread's
// dictionary: use and free it on the thread that parsed it.
constexpr int kMaxNames = 20000;
constexpr std::size_t kMaxNameBytes = 1024 * 1024;
thread_local std::unique_ptr<xmlParserCtxt, ParserFree> t_parser;

xmlParserCtxt* reused_parser() {
  if (!t_parser) {
    t_parser.reset(xmlNewParserCtxt());
    if (!t_parser) return nullptr;
    // The hooks stay through every reset; only `_private` is set per message.
    xmlSAXHandler* sax = t_parser->sax;
    sax->internalSubset = on_internal_subset;
    sax->externalSubset = on_external_subset;
    sax->entityDecl = on_entity_declaration;
    sax->getEntity = on_get_entity;
    sax->getParameterEntity = on_get_parameter_entity;
    // Errors are kept in the context (xmlCtxtGetLastError) and never printed.
    sax->serror = [](void*, xmlErrorPtr) {};
  }
  return t_parser.get();
}

// After a parse: a parser that refused the message, or whose dictionary has grown past
// kMaxNames or kMaxNameBytes, is not kept.
struct ParserKept {
  explicit ParserKept(xmlParserCtxt* kept) : parser(kept) {}
  ParserKept(const ParserKept&) = delete;
  ParserKept& operator=(const ParserKept&) = delete;
  ~ParserKept() {
    if (!accepted || parser->dict == nullptr || xmlDictSize(parser->dict) > kMaxNames ||
        xmlDictGetUsage(parser->dict) > kMaxNameBytes) {
      t_parser.reset();
    }
  }
  xmlParserCtxt* parser;
  bool accepted = false;
};

}  // namespace

std::variant<XmlDoc, Rejection> parse_hostile_xml(std::string_view bytes, std::size_t max_bytes,
                                                  const XmlLimits& limits) {
  if (bytes.size() > max_bytes) {
    return Rejection{Reason::xml_too_large,
                     fmt::format("the message is {} bytes; the limit (intake.max_message_bytes) "
                                 "is {} bytes",
                                 bytes.size(), max_bytes)};
  }
  if (bytes.empty()) return Rejection{Reason::xml_malformed, "the message is empty"};
  // UTF-16 and UTF-32 (with or without a byte order mark) start with a NUL byte or a BOM.
  if (starts_with_bytes(bytes, "\xFE\xFF") || starts_with_bytes(bytes, "\xFF\xFE") ||
      bytes.find('\0') != std::string_view::npos) {
    return Rejection{Reason::xml_malformed, "the message is not UTF-8"};
  }
  if (auto problem = exceeds_limits(bytes, limits)) {
    return Rejection{Reason::xml_too_complex, "the message exceeds intake.limits: " + *problem};
  }

  xmlParserCtxt* parser = reused_parser();
  if (parser == nullptr) return Rejection{Reason::xml_malformed, "the XML parser could not start"};
  ForbiddenSeen forbidden;
  parser->_private = &forbidden;
  // No network, no DTD loading or defaulting, no entity substitution (these are the defaults, set
  // here so that no global default can change them), errors collected instead of printed; and
  // without XML_PARSE_HUGE, libxml2 keeps its limits on depth and node sizes. Short text nodes
  // are kept inside their node (XML_PARSE_COMPACT: one allocation fewer each, read-only).
  XmlDoc parsed(xmlCtxtReadMemory(
      parser, bytes.data(), static_cast<int>(bytes.size()), nullptr, nullptr,
      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_COMPACT));
  parser->_private = nullptr;
  ParserKept kept{parser};
  if (!forbidden.what.empty()) {
    return Rejection{
        Reason::xml_forbidden_construct,
        fmt::format("the message contains {}; DTDs and entities are not accepted", forbidden.what)};
  }
  if (parser->wellFormed == 0 || !parsed) {
    const xmlError* error = xmlCtxtGetLastError(parser);
    std::string message =
        error != nullptr && error->message != nullptr ? error->message : "not well-formed";
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
      message.pop_back();
    }
    const int line = error != nullptr ? error->line : 0;
    return Rejection{Reason::xml_malformed,
                     fmt::format("not well-formed XML at line {}: {}", line, message)};
  }
  XmlDoc doc = std::move(parsed);
  // libxml2 transcodes a declared legacy encoding; the contract is UTF-8 only.
  if (doc->encoding != nullptr) {
    const auto declared = lowercase(as_view(doc->encoding));
    if (declared != "utf-8" && declared != "utf8") {
      return Rejection{Reason::xml_malformed,
                       fmt::format("the message declares encoding {}; only UTF-8 is accepted",
                                   as_view(doc->encoding))};
    }
  }
  kept.accepted = true;
  return doc;
}

namespace {

// Whether the NUL-terminated `text` is `view`, read no further than the first byte that differs
// (as_view would measure the whole text first: the mappings and the profile checks ask of every
// child of an element).
bool same_text(const xmlChar* text, std::string_view view) {
  if (text == nullptr) return view.empty();
  std::size_t at = 0;
  for (; at < view.size(); ++at) {
    if (text[at] == '\0' || text[at] != static_cast<unsigned char>(view[at])) return false;
  }
  return text[at] == '\0';
}

}  // namespace

bool is_element(const xmlNode* node, std::string_view ns, std::string_view local_name) {
  return node != nullptr && node->type == XML_ELEMENT_NODE && same_text(node->name, local_name) &&
         (node->ns == nullptr ? ns.empty() : same_text(node->ns->href, ns));
}

std::string_view namespace_of(const xmlNode* node) {
  return node->ns == nullptr ? std::string_view{} : as_view(node->ns->href);
}

std::vector<xmlNode*> element_children(const xmlNode* parent) {
  std::vector<xmlNode*> out;
  for (xmlNode* child = parent->children; child != nullptr; child = child->next) {
    if (child->type == XML_ELEMENT_NODE) out.push_back(child);
  }
  return out;
}

xmlNode* child_element(const xmlNode* parent, std::string_view ns, std::string_view local_name) {
  for (xmlNode* child = parent->children; child != nullptr; child = child->next) {
    if (is_element(child, ns, local_name)) return child;
  }
  return nullptr;
}

std::string text_of(const xmlNode* node) {
  // An element of one text node, as nearly every one of a document is: that text, without the
  // buffer xmlNodeGetContent makes and copies out.
  if (node != nullptr && node->type == XML_ELEMENT_NODE && node->children != nullptr &&
      node->children->next == nullptr && node->children->type == XML_TEXT_NODE) {
    return std::string(as_view(node->children->content));
  }
  xmlChar* content = xmlNodeGetContent(node);
  std::string out(as_view(content));
  xmlFree(content);
  return out;
}

std::string qualified_name(const xmlNode* node) {
  const auto ns = namespace_of(node);
  if (ns.empty()) return std::string(as_view(node->name));
  return fmt::format("{{{}}}{}", ns, as_view(node->name));
}

std::optional<std::string> attribute(const xmlNode* node, const char* name) {
  xmlChar* value = xmlGetNoNsProp(node, as_xml(name));
  if (value == nullptr) return std::nullopt;
  std::string out(as_view(value));
  xmlFree(value);
  return out;
}

}  // namespace nqs::xml
