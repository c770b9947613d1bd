#include "xml/canonical.hpp"

#include <libxml/uri.h>
#include <libxml/xmlIO.h>

#include <array>
#include <string>
#include <string_view>

#include "xml/xml.hpp"

namespace nqs::xml {
namespace {

// libxml2's output callback: appends to the string of the current call. No exception may cross
// its C frames.
int append(void* context, const char* bytes, int length) {
  try {
    auto* target = *static_cast<std::string**>(context);
    if (target == nullptr) return -1;
    target->append(bytes, static_cast<std::size_t>(length));
    return length;
  } catch (...) {
    return -1;
  }
}

// A thread's output buffer. Creating one allocates libxml2's 4 KB buffer and its structures,
// twice a document (the reference and ds:SignedInfo): in a profile of a new signer's intake that
// was a tenth of it, mostly fresh pages. A rendering that succeeded was flushed by
// xmlC14NExecute before it returned; after any other the buffer is dropped, so nothing of one
// call reaches the next.
class Output {
 public:
  Output() = default;
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;
  ~Output() { drop(); }

  xmlOutputBuffer* open(std::string* target) {
    if (buffer_ == nullptr) buffer_ = xmlOutputBufferCreateIO(append, nullptr, &target_, nullptr);
    if (buffer_ == nullptr) return nullptr;
    target_ = target;
    buffer_->written = 0;  // an int libxml2 only adds to
    return buffer_;
  }
  // After a call: keeps the buffer only when the rendering succeeded, saw no error and left
  // nothing unflushed.
  bool close(bool rendered) {
    target_ = nullptr;
    const bool clean = rendered && buffer_->error == 0 && xmlOutputBufferGetSize(buffer_) == 0;
    if (!clean) drop();
    return clean;
  }

 private:
  void drop() {
    if (buffer_ == nullptr) return;
    target_ = nullptr;  // what is still buffered goes nowhere
    xmlOutputBufferClose(buffer_);
    buffer_ = nullptr;
  }
  xmlOutputBuffer* buffer_ = nullptr;
  std::string* target_ = nullptr;
};

thread_local Output t_output;

// libxml2's test of a namespace URI (2.9.14's c14n.c, xmlC14NCheckForRelativeNamespaces): an
// empty one passes; one xmlParseURI cannot parse, and one without a scheme, are refused.
bool refused_by_libxml2(const xmlChar* href) {
  if (xmlStrlen(href) == 0) return false;
  xmlURIPtr uri = xmlParseURI(reinterpret_cast<const char*>(href));
  if (uri == nullptr) return true;
  const bool refused = xmlStrlen(reinterpret_cast<const xmlChar*>(uri->scheme)) == 0;
  xmlFreeURI(uri);
  return refused;
}

// The same answer, remembered by a thread for the last few URIs it gave: every message declares
// the same handful (SOAP's, SHEP's, the document's, XML-DSig's), and parsing each again was most
// of the look through the document.
bool refused_namespace(const xmlChar* href) {
  struct Answer {
    std::string uri;
    bool refused = false;
  };
  constexpr std::size_t kRemembered = 8;
  thread_local std::array<Answer, kRemembered> answers;
  thread_local std::size_t next = 0;
  const std::string_view uri = href == nullptr ? "" : reinterpret_cast<const char*>(href);
  for (const auto& answer : answers) {
    if (!answer.uri.empty() && answer.uri == uri) return answer.refused;
  }
  const bool refused = refused_by_libxml2(href);
  if (!uri.empty() && uri.size() <= 256) {  // a long one is unusual, and not kept
    answers[next] = Answer{std::string(uri), refused};
    next = (next + 1) % kRemembered;
  }
  return refused;
}

}  // namespace

bool canonicalize(xmlDoc* doc, const Canonicalization& how, std::string& out) {
  out.clear();
  xmlOutputBuffer* buffer = t_output.open(&out);
  if (buffer == nullptr) return false;
  if (how.apex != nullptr && (how.apex->doc != doc || how.apex->type != XML_ELEMENT_NODE)) {
    return t_output.close(false);
  }
  // xmlC14NExecute walks from doc->children (xmlC14NProcessNodeList, through each node's `next`).
  class FirstChild {
   public:
    explicit FirstChild(xmlDoc* of) : doc_(of), first_(of->children) {}
    FirstChild(const FirstChild&) = delete;
    FirstChild& operator=(const FirstChild&) = delete;
    ~FirstChild() { doc_->children = first_; }  // restored however the rendering ends

   private:
    xmlDoc* doc_;
    xmlNode* first_;
  } restored(doc);
  // The apex is only where the walk starts: libxml2 changes nothing of it.
  if (how.apex != nullptr) doc->children = const_cast<xmlNode*>(how.apex);
  const int rendered = xmlC14NExecute(doc, how.is_visible, how.visible_data, how.mode,
                                      how.inclusive_prefixes, how.comments ? 1 : 0, buffer);
  return t_output.close(rendered >= 0);
}

bool declares_relative_namespace(const xmlDoc* doc) {
  bool found = false;
  for_each_element<const xmlNode>(xmlDocGetRootElement(doc), [&](const xmlNode* element) {
    for (const xmlNs* ns = element->nsDef; ns != nullptr && !found; ns = ns->next)
      found = refused_namespace(ns->href);
  });
  return found;
}

}  // namespace nqs::xml
