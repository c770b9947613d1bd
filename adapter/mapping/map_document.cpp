#include <fmt/format.h>
#include <libxml/xpathInternals.h>

#include <optional>
#include <string_view>
#include <vector>

#include "mapping/field_values.hpp"
#include "mapping/mapping.hpp"
#include "mapping/rules.hpp"
#include "xml/xml.hpp"

namespace nqs::mapping {
namespace {

struct XPathContextFree {
  void operator()(xmlXPathContext* context) const { xmlXPathFreeContext(context); }
};
struct XPathObjectFree {
  void operator()(xmlXPathObject* object) const { xmlXPathFreeObject(object); }
};

// Whether `node` is `ancestor` or under it. An attribute's parent is its element (xmlAttr keeps
// it where xmlNode does); a namespace node of XPath's is a copy, of no element of the document.
bool is_inside(const xmlNode* node, const xmlNode* ancestor) {
  if (node == nullptr || node->type == XML_NAMESPACE_DECL) return false;
  for (const xmlNode* at = node; at != nullptr; at = at->parent) {
    if (at == ancestor) return true;
  }
  return false;
}

// An XPath context for the mapping of one document. A new context registers all of XPath's
// functions in a hash of its own (a sixth of a document's mapping), so each thread keeps one and
// lends it to one mapping at a time; only the document and the mapping's namespaces change.
class LentContext {
 public:
  LentContext(const DocumentMapping& mapping, xmlDoc* doc) {
    thread_local std::unique_ptr<xmlXPathContext, XPathContextFree> kept(
        xmlXPathNewContext(nullptr));
    thread_local bool lent = false;
    if (!lent && kept) {
      context_ = kept.get();
      lent_ = &lent;
      lent = true;
      xmlXPathRegisteredNsCleanup(context_);
      context_->doc = doc;
    } else {  // a mapping within a mapping: a context of its own
      owned_.reset(xmlXPathNewContext(doc));
      context_ = owned_.get();
    }
    if (context_ == nullptr) return;
    for (const auto& [prefix, uri] : mapping.namespaces) {
      xmlXPathRegisterNs(context_, xml::as_xml(prefix.c_str()), xml::as_xml(uri.c_str()));
    }
  }
  ~LentContext() {
    if (lent_ == nullptr) return;
    context_->doc = nullptr;
    context_->node = nullptr;
    *lent_ = false;
  }
  LentContext(const LentContext&) = delete;
  LentContext& operator=(const LentContext&) = delete;
  xmlXPathContext* get() const { return context_; }

 private:
  xmlXPathContext* context_ = nullptr;
  bool* lent_ = nullptr;
  std::unique_ptr<xmlXPathContext, XPathContextFree> owned_;
};

class Mapper {
 public:
  Mapper(const DocumentMapping& mapping, xmlNode* document, const MappingOptions& options)
      : mapping_(mapping), document_(document), options_(options) {}

  std::optional<Rejection> read_object(const std::vector<FieldSpec>& fields, xmlNode* context_node,
                                       const FieldPath& path, boost::json::object& out) {
    for (const auto& field : fields) {
      if (auto rejection = read_field(field, context_node, FieldPath(path, field.name), out))
        return rejection;
    }
    return std::nullopt;
  }

 private:
  // An element child of a context node, its name and namespace measured once.
  struct Child {
    std::string_view ns;
    std::string_view name;
    xmlNode* node;
  };

  // The element children of `context_node`, kept while the fields read from it (most of a
  // document's are read from the document element): every field's first step looked through all
  // of them, text between them included, comparing names as C strings (keeping them saved 0.9% of
  // a new signer's intake).
  const std::vector<Child>& children_of(xmlNode* context_node) {
    if (context_node != children_parent_) {
      children_.clear();
      children_parent_ = context_node;
      for (xmlNode* child = context_node->children; child != nullptr; child = child->next) {
        if (child->type != XML_ELEMENT_NODE) continue;
        children_.push_back(Child{xml::namespace_of(child), xml::as_view(child->name), child});
      }
    }
    return children_;
  }

  // The children of `context_node` along `steps`, in document order: XPath's node set for a path
  // of child steps.
  std::vector<xmlNode*> walk(const std::vector<std::pair<std::string, std::string>>& steps,
                             xmlNode* context_node) {
    if (steps.empty()) return {context_node};
    std::vector<xmlNode*> nodes;
    const auto& [first_ns, first_name] = steps.front();
    for (const Child& child : children_of(context_node)) {
      if (child.name == first_name && child.ns == first_ns) nodes.push_back(child.node);
    }
    // Each later step's parents are the step before's nodes.
    std::vector<xmlNode*> next;
    for (std::size_t step = 1; step < steps.size(); ++step) {
      next.clear();
      for (const xmlNode* parent : nodes) {
        for (xmlNode* child = parent->children; child != nullptr; child = child->next) {
          if (xml::is_element(child, steps[step].first, steps[step].second)) next.push_back(child);
        }
      }
      nodes.swap(next);
    }
    return nodes;
  }

  // XPath's node set for the field's xpath, or nullopt when it is not one.
  std::optional<std::vector<xmlNode*>> evaluate(const FieldSpec& field, xmlNode* context_node) {
    if (!field.child_steps.empty()) return walk(field.child_steps, context_node);
    if (!context_) context_.emplace(mapping_, document_->doc);
    xmlXPathContext* context = context_->get();
    if (context == nullptr) return std::nullopt;
    context->node = context_node;
    std::unique_ptr<xmlXPathObject, XPathObjectFree> result(
        xmlXPathCompiledEval(field.xpath->get(), context));
    if (!result || result->type != XPATH_NODESET) return std::nullopt;
    std::vector<xmlNode*> nodes;
    if (result->nodesetval != nullptr) {
      nodes.assign(result->nodesetval->nodeTab,
                   result->nodesetval->nodeTab + result->nodesetval->nodeNr);
    }
    return nodes;
  }

  std::variant<std::vector<xmlNode*>, Rejection> select(const FieldSpec& field,
                                                        xmlNode* context_node,
                                                        const FieldPath& path) {
    auto nodes = evaluate(field, context_node);
    if (!nodes) {
      return Rejection{Reason::schema_invalid,
                       fmt::format("{}: the mapping's XPath '{}' does not select elements",
                                   path.text(), field.xpath->text())};
    }
    // The mapper reads only what the verified reference covers.
    for (const xmlNode* node : *nodes) {
      if (!is_inside(node, document_)) {
        return Rejection{
            Reason::signature_reference_mismatch,
            fmt::format("{}: the mapping read outside the signed element", path.text())};
      }
    }
    return std::move(*nodes);
  }

  std::optional<Rejection> read_field(const FieldSpec& field, xmlNode* context_node,
                                      const FieldPath& path, boost::json::object& out) {
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

    if (field.type == FieldType::list) return read_list(field, nodes, path, out);
    if (nodes.empty()) {
      if (field.optional) return std::nullopt;
      return Rejection{Reason::schema_invalid, fmt::format("{}: required element {} is missing",
                                                           path.text(), field.xpath->text())};
    }
    if (nodes.size() > 1) {
      return Rejection{Reason::schema_invalid,
                       fmt::format("{}: {} elements match {}; exactly one is expected", path.text(),
                                   nodes.size(), field.xpath->text())};
    }
    auto value =
        convert_field_value(field, field.type, xml::text_of(nodes.front()), path, options_);
    if (auto* rejection = std::get_if<Rejection>(&value)) return *rejection;
    out[field.name] = std::move(std::get<boost::json::value>(value));
    return std::nullopt;
  }

  std::optional<Rejection> read_list(const FieldSpec& field, const std::vector<xmlNode*>& nodes,
                                     const FieldPath& path, boost::json::object& out) {
    boost::json::array items;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      const FieldPath item_path(path, i);
      if (field.item_type == FieldType::object) {
        boost::json::object item;
        if (auto rejection = read_object(field.children, nodes[i], item_path, item)) {
          return rejection;
        }
        items.emplace_back(std::move(item));
      } else {
        auto value = convert_field_value(field, field.item_type, xml::text_of(nodes[i]), item_path,
                                         options_);
        if (auto* rejection = std::get_if<Rejection>(&value)) return *rejection;
        items.emplace_back(std::move(std::get<boost::json::value>(value)));
      }
    }
    out[field.name] = std::move(items);
    return std::nullopt;
  }

  const DocumentMapping& mapping_;
  xmlNode* document_;
  const MappingOptions& options_;
  std::optional<LentContext> context_;  // lent at the first XPath evaluated
  const xmlNode* children_parent_ = nullptr;
  std::vector<Child> children_;  // children_parent_'s
};

}  // namespace

std::variant<boost::json::object, Rejection> map_document(const DocumentMapping& mapping,
                                                          xmlNode* document,
                                                          const MappingOptions& options) {
  Mapper mapper(mapping, document, options);
  boost::json::object payload;
  if (auto rejection = mapper.read_object(mapping.fields, document, FieldPath(), payload))
    return *rejection;
  for (const auto& rule : mapping.rules) {
    if (auto rejection = apply_rule(rule, payload)) return *rejection;
  }
  return payload;
}

}  // namespace nqs::mapping
