#pragma once
// Canonical XML (libxml2's xmlC14NExecute) rendered into a string through one output buffer a
// thread keeps.
#include <libxml/c14n.h>
#include <libxml/tree.h>

#include <string>

namespace nqs::xml {

// What to render: xmlC14NExecute's arguments (mode: XML_C14N_1_0 or XML_C14N_EXCLUSIVE_1_0;
// `inclusive_prefixes` null-terminated, or null).
struct Canonicalization {
  xmlC14NIsVisibleCallback is_visible = nullptr;
  void* visible_data = nullptr;
  int mode = XML_C14N_1_0;
  xmlChar** inclusive_prefixes = nullptr;
  bool comments = false;
};

// Renders `doc` canonically into `out` (cleared first, its capacity kept); false when libxml2
// refuses (then `out` holds no meaning). A thread's output buffer is reused from one call to the
// next; it is dropped after a failure.
bool canonicalize(xmlDoc* doc, const Canonicalization& how, std::string& out);

}  // namespace nqs::xml
