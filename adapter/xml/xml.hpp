#pragma once

#include <libxml/tree.h>

#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/reason.hpp"
#include "xml/xml_limits.hpp"

namespace nqs::xml {

struct XmlDocFree {
  void operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }
};
using XmlDoc = std::unique_ptr<xmlDoc, XmlDocFree>;

// Parses bytes from the bus as hostile XML (libxml2): at most `max_bytes`, checked before any
// parsing (xml.too_large); within `limits`, checked by a linear scan before the parser does any
// work that grows faster (xml.too_complex); UTF-8 only and well-formed (xml.malformed); no DTD, no
// entity other than the five predefined ones and character references, no network, no XInclude
// (xml.forbidden_construct: such constructs are refused when met, never expanded or fetched).
std::variant<XmlDoc, Rejection> parse_hostile_xml(std::string_view bytes, std::size_t max_bytes,
                                                  const XmlLimits& limits = {});

// Small DOM helpers over libxml2 nodes.
inline std::string_view as_view(const xmlChar* text) {
  return text == nullptr ? std::string_view{}
                         : std::string_view(reinterpret_cast<const char*>(text));
}
inline const xmlChar* as_xml(const char* text) {
  return reinterpret_cast<const xmlChar*>(text);
}
bool is_element(const xmlNode* node, std::string_view ns, std::string_view local_name);
std::string_view namespace_of(const xmlNode* node);
// The element children of `parent`, in order.
std::vector<xmlNode*> element_children(const xmlNode* parent);
// Calls `visit` with each element of `node` and its following siblings, and of their subtrees, in
// document order (Node: xmlNode or const xmlNode). It recurses: a message's depth is bounded by the
// structure scan before it is parsed, and a document the adapter builds is of its own making.
template <typename Node, typename Visit>
void for_each_element(Node* node, const Visit& visit) {
  for (Node* child = node; child != nullptr; child = child->next) {
    if (child->type != XML_ELEMENT_NODE) continue;
    visit(child);
    for_each_element<Node>(child->children, visit);
  }
}
// The first element child named {ns}local_name, or nullptr; ns empty means no namespace.
xmlNode* child_element(const xmlNode* parent, std::string_view ns, std::string_view local_name);
// The text content of a node.
std::string text_of(const xmlNode* node);
// "{namespace}local" for messages.
std::string qualified_name(const xmlNode* node);
// The value of an attribute without namespace, if present.
std::optional<std::string> attribute(const xmlNode* node, const char* name);

}  // namespace nqs::xml
