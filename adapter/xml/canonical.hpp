#pragma once
// Canonical XML (libxml2's xmlC14NExecute) rendered into a string through one output buffer a
// thread keeps.
#include <libxml/c14n.h>
#include <libxml/tree.h>

#include <string>

namespace nqs::xml {

// What to render: xmlC14NExecute's arguments (mode: XML_C14N_1_0 or XML_C14N_EXCLUSIVE_1_0;
// `inclusive_prefixes` null-terminated, or null).
//
// `apex`, when set, is an element of the document whose subtree holds every node `is_visible`
// accepts. libxml2 walks every node of the document from its first child, asking of each and
// building lists of its namespaces and attributes, whether or not it is rendered: for a small
// subtree such as ds:SignedInfo that walk was nearly all the work. With an apex the walk starts
// there instead, and goes on through the apex's following siblings. What is rendered is the same:
// the nodes before the apex and its ancestors are never rendered and leave nothing behind them in
// libxml2's state, and what the apex inherits (namespaces in scope, xml:* attributes) libxml2
// reads through parent links, not from its walk. One thing differs: what libxml2 refuses in any
// node it walks (a namespace URI it judges relative, an entity reference) is not looked for
// outside the walk. A caller that wants the whole walk's verdict calls
// declares_relative_namespace first (canonicalize does not); a message read here has no entity
// reference (no DOCTYPE is parsed). An apex of another document is refused.
struct Canonicalization {
  xmlC14NIsVisibleCallback is_visible = nullptr;
  void* visible_data = nullptr;
  int mode = XML_C14N_1_0;
  xmlChar** inclusive_prefixes = nullptr;
  bool comments = false;
  const xmlNode* apex = nullptr;
};

// Renders `doc` canonically into `out` (cleared first, its capacity kept); false when libxml2
// refuses (then `out` holds no meaning). A thread's output buffer is reused from one call to the
// next; it is dropped after a failure. With an apex, `doc` is changed while libxml2 renders (its
// first child is the apex) and restored before this returns: no other thread may use it meanwhile.
bool canonicalize(xmlDoc* doc, const Canonicalization& how, std::string& out);

// Whether an element of `doc` declares a namespace whose URI libxml2's canonicalization judges
// relative (2.9.14's c14n.c, xmlC14NCheckForRelativeNamespaces): not empty, and either not parsed
// by xmlParseURI or parsed without a scheme.
// The walk through the whole document refuses such a document wherever the declaration stands; a
// walk from an apex sees only the subtrees of the apex and of its following siblings.
bool declares_relative_namespace(const xmlDoc* doc);

}  // namespace nqs::xml
