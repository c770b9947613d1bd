#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace nqs::xml {

// How much structure a message may have (intake.limits). libxml2 checks an element's attributes
// for duplicates in quadratic time, and inclusive c14n works through every namespace declaration
// in scope of every element: a document of a megabyte can cost seconds in either. Real SHEP
// documents stay far below these defaults.
struct XmlLimits {
  std::size_t max_depth = 64;
  std::size_t max_elements = 10000;
  std::size_t max_attributes = 64;              // on one element, namespace declarations included
  std::size_t max_attributes_total = 1024;      // in the message
  std::size_t max_namespace_declarations = 16;  // on one element
  std::size_t max_namespaces_in_scope = 32;     // declared on an element and its ancestors
  std::size_t max_text_bytes = 65536;           // one text node, attribute value, comment or PI
};

// A linear scan of the raw bytes, before any parser sees them: what limit the message exceeds,
// and where, or nothing. It judges structure only; what is not well-formed it leaves to the
// parser (which refuses it as xml.malformed), and it stops at the first limit exceeded.
std::optional<std::string> exceeds_limits(std::string_view bytes, const XmlLimits& limits);

}  // namespace nqs::xml
