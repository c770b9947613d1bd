// The verification of the profiles' signatures (signature_profile.cpp, transport_signature.cpp)
// once their shape is checked, and the signing of the adapter's own (signature.cpp) the same way:
// one same-document reference, to an element the profile found itself (never looked up by its
// ID), enveloped-signature at most, then one canonicalization. libxml2 canonicalizes, OpenSSL and
// the GOST back ends digest, sign and verify (signature_values.cpp); what is left is the choice of
// nodes, which is xmlsec's own (src/nodeset.c, src/transforms.c): a reference by ID or to the
// whole document leaves out comments, enveloped-signature leaves out the ds:Signature,
// ds:SignedInfo is its own subtree. xmlsec's transform chain built the same through XPath node
// sets, transform and key contexts for every document: a third of a new signer's intake, and a
// tenth of a notification's signing (its key matched to the method by reading the key's
// parameters back from OpenSSL, every time).
#include <fmt/format.h>
#include <libxml/c14n.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/base64.hpp"
#include "gost/backend.hpp"
#include "xml/canonical.hpp"
#include "xml/xml.hpp"
#include "xmldsig/signature_internal.hpp"
#include "xmldsig/signature_values.hpp"

namespace nqs::xmldsig::detail {
namespace {

constexpr std::string_view kExclusiveC14nNs = "http://www.w3.org/2001/10/xml-exc-c14n#";

std::string algorithm_of(const xmlNode* node) {
  return node == nullptr ? std::string() : xml::attribute(node, "Algorithm").value_or("");
}

// --- which nodes are rendered ---

// What is known of a node libxml2 gave as a parent (an element, or the document node): whether it
// is `root` or below it, and whether it is `left_out` or below it.
struct ParentFacts {
  const xmlNode* node = nullptr;
  bool under_root = false;
  bool under_left_out = false;
};

// What a canonicalization renders: the subtree of `root` (every node of the document when null),
// less the subtree of `left_out` (when not null), less comments unless `comments`.
struct NodeSet {
  const xmlNode* root = nullptr;
  const xmlNode* left_out = nullptr;
  bool comments = false;
  // libxml2 walks in document order, and asks about every attribute and namespace in scope of an
  // element, and about each of its children, with that element as `parent`; it also asks about
  // ancestors out of that order (an element's own parent for inclusive c14n's xml:* attributes,
  // the element that declared a namespace for exclusive c14n). The parents along the walk's path
  // are kept, each the parent of the next: a new one is known from its own parent, and one asked
  // about again is found there, instead of looking up through its ancestors.
  static constexpr std::size_t kKeptDepth = 64;
  mutable std::array<ParentFacts, kKeptDepth> path{};
  mutable std::size_t depth = 0;
};

// Whether `parent` or one of its element ancestors is `tree`.
bool under(const xmlNode* tree, const xmlNode* parent) {
  for (const xmlNode* at = parent; at != nullptr && at->type == XML_ELEMENT_NODE; at = at->parent) {
    if (at == tree) return true;
  }
  return false;
}

// The facts of `parent` (not null), from the path kept in `set`.
ParentFacts facts_of(const NodeSet& set, const xmlNode* parent) {
  auto& path = set.path;
  auto& depth = set.depth;
  // One asked about again, the last or an ancestor of it: the path is left as it is.
  for (std::size_t at = depth; at > 0; --at) {
    if (path[at - 1].node == parent) return path[at - 1];
  }
  // A new one: the path is cut back to its parent, when that is kept.
  while (depth > 0 && path[depth - 1].node != parent->parent)
    --depth;
  ParentFacts facts{parent};
  if (depth > 0) {  // the last one kept is its parent
    const bool element = parent->type == XML_ELEMENT_NODE;
    facts.under_root = element && (parent == set.root || path[depth - 1].under_root);
    facts.under_left_out = element && (parent == set.left_out || path[depth - 1].under_left_out);
  } else {
    facts.under_root = under(set.root, parent);
    facts.under_left_out = under(set.left_out, parent);
  }
  if (depth == NodeSet::kKeptDepth) depth = 0;  // deeper than kept: a new path starts here
  path[depth++] = facts;
  return facts;
}

// xmlsec's test of a tree node set: the node itself, then its parent and the parent's element
// ancestors (for an attribute or a namespace node, `parent` is its element).
int is_visible(void* data, xmlNodePtr node, xmlNodePtr parent) {
  const auto* set = static_cast<const NodeSet*>(data);
  if (node == nullptr) return 0;
  if (!set->comments && node->type == XML_COMMENT_NODE) return 0;
  const ParentFacts facts = parent != nullptr ? facts_of(*set, parent) : ParentFacts{};
  const bool in_root = node == set->root || set->root == nullptr || facts.under_root;
  return in_root && node != set->left_out && !facts.under_left_out ? 1 : 0;
}

// --- canonicalization ---

struct C14nMethod {
  int mode = XML_C14N_1_0;
  bool comments = false;
  std::vector<std::string> inclusive_prefixes;  // exclusive c14n's InclusiveNamespaces
};

// The method of a ds:CanonicalizationMethod or ds:Transform element: exclusive c14n with at most
// its ec:InclusiveNamespaces, or inclusive c14n with nothing inside.
std::optional<C14nMethod> c14n_method(const xmlNode* element) {
  const auto uri = algorithm_of(element);
  C14nMethod method;
  if (uri == kExclusiveC14n || uri == kExclusiveC14nWithComments) {
    method.mode = XML_C14N_EXCLUSIVE_1_0;
  } else if (uri != kInclusiveC14n && uri != kInclusiveC14nWithComments) {
    return std::nullopt;
  }
  method.comments = uri == kExclusiveC14nWithComments || uri == kInclusiveC14nWithComments;
  const auto children = xml::element_children(element);
  if (children.empty()) return method;
  if (method.mode != XML_C14N_EXCLUSIVE_1_0 || children.size() > 1 ||
      !xml::is_element(children.front(), kExclusiveC14nNs, "InclusiveNamespaces")) {
    return std::nullopt;
  }
  // Split as xmlsec splits it, at each space: "a  b" names a, the default namespace ("") and b.
  const auto list = xml::attribute(children.front(), "PrefixList");
  if (!list) return std::nullopt;
  for (std::size_t at = 0; at < list->size();) {
    const auto space = std::min(list->find(' ', at), list->size());
    method.inclusive_prefixes.push_back(list->substr(at, space - at));
    at = space + 1;
  }
  return method;
}

// Renders into `out`, one of a thread's strings below; libxml2's walk starts at `apex` when it is
// set (xml::Canonicalization), which must then hold `nodes.root`'s whole subtree.
bool canonical(xmlDoc* doc, const NodeSet& nodes, const C14nMethod& method, std::string& out,
               const xmlNode* apex = nullptr) {
  std::vector<xmlChar*> prefixes;
  for (const auto& prefix : method.inclusive_prefixes)
    prefixes.push_back(const_cast<xmlChar*>(xml::as_xml(prefix.c_str())));
  prefixes.push_back(nullptr);
  const xml::Canonicalization how{
      .is_visible = is_visible,
      .visible_data = const_cast<NodeSet*>(&nodes),
      .mode = method.mode,
      .inclusive_prefixes = method.inclusive_prefixes.empty() ? nullptr : prefixes.data(),
      .comments = method.comments,
      .apex = apex};
  return xml::canonicalize(doc, how, out);
}

// A thread's renderings, kept for their capacity from one document to the next (a document's
// reference is a few kilobytes). Emptied when a verification or a signing ends, and a large one
// let go.
constexpr std::size_t kKeptRendering = 256 * 1024;
struct Renderings {
  std::string reference;
  std::string signed_info;
};
thread_local Renderings t_rendered;

struct RenderingsInUse {
  RenderingsInUse() = default;
  RenderingsInUse(const RenderingsInUse&) = delete;
  RenderingsInUse& operator=(const RenderingsInUse&) = delete;
  ~RenderingsInUse() {
    for (auto* kept : {&t_rendered.reference, &t_rendered.signed_info}) {
      if (kept->capacity() > kKeptRendering) {
        std::string().swap(*kept);
      } else {
        kept->clear();
      }
    }
  }
  Renderings& rendered = t_rendered;
};

// The names of `element`'s children, each prefixed with "?" when not in XML-DSig's namespace.
std::vector<std::string> child_names(const xmlNode* element) {
  std::vector<std::string> names;
  for (const xmlNode* child : xml::element_children(element)) {
    const bool dsig = child->ns != nullptr && xml::as_view(child->ns->href) == kXmlDsigNs;
    std::string name(dsig ? 0 : 1, '?');
    name.append(xml::as_view(child->name));
    names.push_back(std::move(name));
  }
  return names;
}

using Names = std::vector<std::string>;

// ds:Signature, ds:SignedInfo, ds:Reference and ds:Transforms hold XML-DSig's elements in its
// order, each once (as xmlsec's reader required): what is read is the one element there is.
std::optional<Rejection> check_structure(const xmlNode* signature) {
  const auto outer = child_names(signature);
  if (outer != Names{"SignedInfo", "SignatureValue"} &&
      outer != Names{"SignedInfo", "SignatureValue", "KeyInfo"}) {
    return mismatch(
        "ds:Signature holds other than SignedInfo, SignatureValue and KeyInfo, in order");
  }
  const xmlNode* signed_info = ds_child(signature, "SignedInfo");
  if (child_names(signed_info) != Names{"CanonicalizationMethod", "SignatureMethod", "Reference"}) {
    return mismatch(
        "ds:SignedInfo holds other than CanonicalizationMethod, SignatureMethod and one Reference");
  }
  const xmlNode* reference = ds_child(signed_info, "Reference");
  const auto inner = child_names(reference);
  if (inner != Names{"DigestMethod", "DigestValue"} &&
      inner != Names{"Transforms", "DigestMethod", "DigestValue"}) {
    return mismatch("ds:Reference holds other than Transforms, DigestMethod and DigestValue");
  }
  if (const xmlNode* transforms = ds_child(reference, "Transforms")) {
    for (const auto& name : child_names(transforms)) {
      if (name != "Transform") return mismatch("ds:Transforms holds other than ds:Transform");
    }
  }
  return std::nullopt;
}

// The reference's digest: the referenced element's subtree (the whole document: every node)
// without comments, with enveloped-signature without the ds:Signature, then one canonicalization,
// rendered into `rendered.reference`. libxml2 walks from the referenced element, not through the
// whole document (the envelope around a document was nearly a tenth of that walk); what the whole
// walk refused anywhere, a namespace URI it judges relative, is looked for in every element first,
// so that such a document is refused as before. ds:SignedInfo is rendered only after this.
std::variant<gost::Bytes, Rejection> reference_digest(xmlNode* signature, const xmlNode* reference,
                                                      const xmlNode* referenced,
                                                      bool whole_document, bool enveloped,
                                                      std::string_view digest_method,
                                                      Renderings& rendered) {
  NodeSet nodes{whole_document ? nullptr : referenced, nullptr, false};
  std::optional<C14nMethod> reference_c14n;
  if (xmlNode* transforms = ds_child(reference, "Transforms")) {
    for (xmlNode* transform : xml::element_children(transforms)) {
      if (reference_c14n) return mismatch("a ds:Transform follows the canonicalization");
      if (algorithm_of(transform) == kEnvelopedSignature && enveloped &&
          nodes.left_out == nullptr && xml::element_children(transform).empty()) {
        nodes.left_out = signature;
        continue;
      }
      reference_c14n = c14n_method(transform);
      if (!reference_c14n) {
        return mismatch(
            fmt::format("the ds:Transform '{}' is not the profile's", algorithm_of(transform)));
      }
    }
  }
  if (!reference_c14n) return mismatch("the ds:Reference has no canonicalization");
  if ((!whole_document && xml::declares_relative_namespace(signature->doc)) ||
      !canonical(signature->doc, nodes, *reference_c14n, rendered.reference,
                 whole_document ? nullptr : referenced)) {
    return not_verified("the signed element cannot be canonicalized");
  }
  auto digest = digest_of(digest_method, rendered.reference);
  if (!digest) return not_verified(fmt::format("unsupported digest method '{}'", digest_method));
  return std::move(*digest);
}

// ds:SignedInfo canonicalized by its own method, into `rendered.signed_info`. libxml2 walks from
// ds:SignedInfo, not through the whole document (that walk cost 3% of a new signer's intake).
// The reference was rendered first, and every element checked for a relative namespace URI
// there: a document libxml2 refuses is refused as before.
std::optional<Rejection> render_signed_info(xmlNode* signature, xmlNode* signed_info,
                                            Renderings& rendered) {
  const auto signed_info_c14n = c14n_method(ds_child(signed_info, "CanonicalizationMethod"));
  if (!signed_info_c14n) return mismatch("ds:SignedInfo's canonicalization is not the profile's");
  if (!canonical(signature->doc, NodeSet{signed_info, nullptr, true}, *signed_info_c14n,
                 rendered.signed_info, signed_info))
    return not_verified("ds:SignedInfo cannot be canonicalized");
  return std::nullopt;
}

void set_text(xmlNode* node, const std::string& text) {
  xmlNodeSetContent(node, nullptr);
  xmlNodeAddContent(node, xml::as_xml(text.c_str()));
}

}  // namespace

std::optional<Rejection> verify_signed_info(xmlNode* signature, const xmlNode* referenced,
                                            bool whole_document, bool enveloped, EVP_PKEY* key,
                                            const AlgorithmPolicy& policy) {
  if (auto rejection = check_structure(signature)) return rejection;
  xmlNode* signed_info = ds_child(signature, "SignedInfo");
  xmlNode* reference = signed_info != nullptr ? ds_child(signed_info, "Reference") : nullptr;
  xmlNode* signature_value = ds_child(signature, "SignatureValue");
  if (reference == nullptr || signature_value == nullptr || key == nullptr) {
    return not_verified("ds:SignedInfo, its ds:Reference or ds:SignatureValue is missing");
  }
  const auto method = algorithm_of(ds_child(signed_info, "SignatureMethod"));
  const auto digest_method = algorithm_of(ds_child(reference, "DigestMethod"));
  if (!policy.allowed.contains(method) || !policy.allowed.contains(digest_method)) {
    return Rejection{Reason::signature_algorithm_not_allowed,
                     "a method is not in trust.allowed_algorithms"};
  }

  const RenderingsInUse in_use;
  auto digest = reference_digest(signature, reference, referenced, whole_document, enveloped,
                                 digest_method, in_use.rendered);
  if (auto* rejection = std::get_if<Rejection>(&digest)) return *rejection;
  const auto& computed = std::get<gost::Bytes>(digest);
  xmlNode* digest_value = ds_child(reference, "DigestValue");
  const auto expected =
      digest_value != nullptr ? decode_base64(xml::text_of(digest_value)) : std::nullopt;
  if (!expected) return not_verified("ds:DigestValue is missing or not base64");
  if (expected->size() != computed.size() ||
      CRYPTO_memcmp(expected->data(), computed.data(), computed.size()) != 0) {
    return Rejection{Reason::signature_invalid,
                     fmt::format("the digest of {} does not match: it was changed after signing",
                                 xml::qualified_name(referenced))};
  }

  // The signature value over ds:SignedInfo, canonicalized by its own method; only after the
  // reference's rendering, which refused what libxml2's walk through every element refuses.
  if (auto rejection = render_signed_info(signature, signed_info, in_use.rendered)) {
    return rejection;
  }
  const auto value = decode_base64(xml::text_of(signature_value));
  if (!value) return not_verified("ds:SignatureValue is not base64");
  auto holds = signature_holds(method, key, in_use.rendered.signed_info, *value);
  if (auto* rejection = std::get_if<Rejection>(&holds)) return *rejection;
  if (!std::get<bool>(holds)) {
    return Rejection{Reason::signature_invalid,
                     "the signature value does not verify with the signer certificate's key"};
  }
  return std::nullopt;
}

std::optional<std::string> sign_signed_info(xmlNode* signature, const xmlNode* referenced,
                                            EVP_PKEY* key) {
  if (auto rejection = check_structure(signature)) return rejection->detail;
  xmlNode* signed_info = ds_child(signature, "SignedInfo");
  xmlNode* reference = ds_child(signed_info, "Reference");
  xmlNode* digest_value = ds_child(reference, "DigestValue");
  xmlNode* signature_value = ds_child(signature, "SignatureValue");
  if (digest_value == nullptr || signature_value == nullptr || key == nullptr) {
    return "ds:DigestValue, ds:SignatureValue or the key is missing";
  }
  const RenderingsInUse in_use;
  auto digest =
      reference_digest(signature, reference, referenced, false, true,
                       algorithm_of(ds_child(reference, "DigestMethod")), in_use.rendered);
  if (auto* rejection = std::get_if<Rejection>(&digest)) return rejection->detail;
  const auto& computed = std::get<gost::Bytes>(digest);
  set_text(digest_value, base64(std::string_view(reinterpret_cast<const char*>(computed.data()),
                                                 computed.size())));
  // After the reference's rendering, as in verify_signed_info.
  if (auto rejection = render_signed_info(signature, signed_info, in_use.rendered)) {
    return rejection->detail;
  }
  auto value = signature_value_of(algorithm_of(ds_child(signed_info, "SignatureMethod")), key,
                                  in_use.rendered.signed_info);
  if (!value) return value.error().message;
  set_text(signature_value, base64(value.value()));
  return std::nullopt;
}

}  // namespace nqs::xmldsig::detail
