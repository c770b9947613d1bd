// The verification of the profiles' signatures (signature_profile.cpp, transport_signature.cpp)
// once their shape is checked: one same-document reference, to an element the profile found
// itself (never looked up by its ID), enveloped-signature at most, then one canonicalization.
// libxml2 canonicalizes, OpenSSL and the GOST back ends digest and verify; what is left is the
// choice of nodes, which is xmlsec's own (src/nodeset.c, src/transforms.c): a reference by ID or
// to the whole document leaves out comments, enveloped-signature leaves out the ds:Signature,
// ds:SignedInfo is its own subtree. xmlsec's transform chain built the same through XPath node
// sets, transform and key contexts for every document: a third of a new signer's intake.
#include <fmt/format.h>
#include <libxml/c14n.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <array>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gost/algorithms.hpp"
#include "gost/backend.hpp"
#include "gost/openssl_keys.hpp"
#include "xml/canonical.hpp"
#include "xml/xml.hpp"
#include "xmldsig/signature_internal.hpp"

namespace nqs::xmldsig::detail {
namespace {

constexpr std::string_view kExclusiveC14nNs = "http://www.w3.org/2001/10/xml-exc-c14n#";

Rejection not_verified(std::string detail) {
  return Rejection{Reason::signature_invalid,
                   fmt::format("the signature could not be verified: {}", detail)};
}

std::string algorithm_of(const xmlNode* node) {
  return node == nullptr ? std::string() : xml::attribute(node, "Algorithm").value_or("");
}

// --- which nodes are rendered ---

// What a canonicalization renders: the subtree of `root` (every node of the document when null),
// less the subtree of `left_out` (when not null), less comments unless `comments`.
struct NodeSet {
  const xmlNode* root = nullptr;
  const xmlNode* left_out = nullptr;
  bool comments = false;
  // libxml2 asks about every attribute and every namespace in scope of an element, and about
  // each of its children, with that element as `parent`: where the last parent stands is kept.
  mutable const xmlNode* last_parent = nullptr;
  mutable bool last_parent_in_root = false;
  mutable bool last_parent_left_out = false;
};

// Whether `parent` or one of its element ancestors is `tree`.
bool under(const xmlNode* tree, const xmlNode* parent) {
  for (const xmlNode* at = parent; at != nullptr && at->type == XML_ELEMENT_NODE; at = at->parent) {
    if (at == tree) return true;
  }
  return false;
}

// xmlsec's test of a tree node set: the node itself, then its parent and the parent's element
// ancestors (for an attribute or a namespace node, `parent` is its element).
int is_visible(void* data, xmlNodePtr node, xmlNodePtr parent) {
  const auto* set = static_cast<const NodeSet*>(data);
  if (node == nullptr) return 0;
  if (!set->comments && node->type == XML_COMMENT_NODE) return 0;
  if (parent != set->last_parent || set->last_parent == nullptr) {
    set->last_parent = parent;
    set->last_parent_in_root = set->root == nullptr || under(set->root, parent);
    set->last_parent_left_out = set->left_out != nullptr && under(set->left_out, parent);
  }
  const bool in_root = node == set->root || set->last_parent_in_root;
  return in_root && node != set->left_out && !set->last_parent_left_out ? 1 : 0;
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

// Renders into `out`, one of a thread's strings below.
bool canonical(xmlDoc* doc, const NodeSet& nodes, const C14nMethod& method, std::string& out) {
  std::vector<xmlChar*> prefixes;
  for (const auto& prefix : method.inclusive_prefixes)
    prefixes.push_back(const_cast<xmlChar*>(xml::as_xml(prefix.c_str())));
  prefixes.push_back(nullptr);
  const xml::Canonicalization how{is_visible, const_cast<NodeSet*>(&nodes), method.mode,
                                  method.inclusive_prefixes.empty() ? nullptr : prefixes.data(),
                                  method.comments};
  return xml::canonicalize(doc, how, out);
}

// A thread's renderings, kept for their capacity from one document to the next (a document's
// reference is a few kilobytes). Emptied when a verification ends, and a large one let go.
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

// --- digests and signatures ---

// The methods OpenSSL computes, each with its digest, fetched once: a fetch per document is a
// search of the providers.
enum class Kind { digest, rsa, ecdsa };
struct OpenSslMethod {
  std::string_view uri;
  Kind kind;
  const EVP_MD* md;
};

const OpenSslMethod* openssl_method(std::string_view uri) {
  static const std::array<OpenSslMethod, 11> methods = [] {
    const EVP_MD* sha1 = EVP_MD_fetch(nullptr, "SHA1", nullptr);
    const EVP_MD* sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    const EVP_MD* sha384 = EVP_MD_fetch(nullptr, "SHA384", nullptr);
    const EVP_MD* sha512 = EVP_MD_fetch(nullptr, "SHA512", nullptr);
    return std::array<OpenSslMethod, 11>{{
        {"http://www.w3.org/2000/09/xmldsig#sha1", Kind::digest, sha1},
        {"http://www.w3.org/2001/04/xmlenc#sha256", Kind::digest, sha256},
        {"http://www.w3.org/2001/04/xmldsig-more#sha384", Kind::digest, sha384},
        {"http://www.w3.org/2001/04/xmlenc#sha512", Kind::digest, sha512},
        {"http://www.w3.org/2000/09/xmldsig#rsa-sha1", Kind::rsa, sha1},
        {"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", Kind::rsa, sha256},
        {"http://www.w3.org/2001/04/xmldsig-more#rsa-sha384", Kind::rsa, sha384},
        {"http://www.w3.org/2001/04/xmldsig-more#rsa-sha512", Kind::rsa, sha512},
        {"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256", Kind::ecdsa, sha256},
        {"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384", Kind::ecdsa, sha384},
        {"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512", Kind::ecdsa, sha512},
    }};
  }();
  ERR_clear_error();  // a digest this OpenSSL lacks stays null: its methods are unsupported
  for (const auto& method : methods) {
    if (method.uri == uri) return method.md != nullptr ? &method : nullptr;
  }
  return nullptr;
}

std::optional<gost::Bytes> digest_of(std::string_view uri, std::string_view data) {
  const std::span bytes(reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
  if (auto hash = gost::hash_by_uri(uri)) return gost::hash(*hash, bytes);
  const auto* method = openssl_method(uri);
  if (method == nullptr || method->kind != Kind::digest) return std::nullopt;
  gost::Bytes out(static_cast<std::size_t>(EVP_MD_get_size(method->md)));
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &length, method->md, nullptr) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  out.resize(length);
  return out;
}

// XML-DSig's ECDSA signature value is r and s, each of the order's size (shorter is accepted, as
// xmlsec accepts it from Java signers); OpenSSL's is DER.
std::optional<std::string> ecdsa_der(std::string_view raw, int order_bits) {
  const auto most = 2 * static_cast<std::size_t>((order_bits + 7) / 8);
  if (raw.empty() || raw.size() % 2 != 0 || raw.size() > most) return std::nullopt;
  const auto half = static_cast<int>(raw.size() / 2);
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> signature(ECDSA_SIG_new(), ECDSA_SIG_free);
  BIGNUM* r = BN_bin2bn(bytes, half, nullptr);
  BIGNUM* s = BN_bin2bn(bytes + half, half, nullptr);
  if (!signature || r == nullptr || s == nullptr || ECDSA_SIG_set0(signature.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ERR_clear_error();
    return std::nullopt;
  }
  unsigned char* der = nullptr;
  const int length = i2d_ECDSA_SIG(signature.get(), &der);
  if (length <= 0) {
    ERR_clear_error();
    return std::nullopt;
  }
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(length));
  OPENSSL_free(der);
  return out;
}

// Whether `signature_value` is `key`'s signature of `signed_info` (canonical) by `method`; an
// explanation when the method and the key do not go together.
std::variant<bool, Rejection> signature_holds(std::string_view method, EVP_PKEY* key,
                                              std::string_view signed_info,
                                              std::string_view signature_value) {
  if (const auto* algorithm = gost::by_signature_uri(method)) {
    const auto* gost_key = gost::key_of(key);
    if (gost_key == nullptr || gost_key->public_key.algorithm != algorithm) {
      return not_verified(fmt::format("{} needs a key of that algorithm", algorithm->name));
    }
    const auto digest = gost::hash(
        algorithm->hash,
        std::span(reinterpret_cast<const std::uint8_t*>(signed_info.data()), signed_info.size()));
    return gost_key->verifier->verify(
        digest, std::span(reinterpret_cast<const std::uint8_t*>(signature_value.data()),
                          signature_value.size()));
  }
  const auto* openssl = openssl_method(method);
  if (openssl == nullptr || openssl->kind == Kind::digest) {
    return not_verified(fmt::format("unsupported signature method '{}'", method));
  }
  const bool ecdsa = openssl->kind == Kind::ecdsa;
  const int wanted = ecdsa ? EVP_PKEY_EC : EVP_PKEY_RSA;
  if (gost::key_of(key) != nullptr || EVP_PKEY_get_base_id(key) != wanted) {
    return not_verified(
        fmt::format("the signature method '{}' needs an {} key", method, ecdsa ? "EC" : "RSA"));
  }
  std::string der;
  if (ecdsa) {
    auto converted = ecdsa_der(signature_value, EVP_PKEY_get_bits(key));
    if (!converted) return false;
    der = std::move(*converted);
    signature_value = der;
  }
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(),
                                                                  EVP_MD_CTX_free);
  const bool holds =
      context && EVP_DigestVerifyInit(context.get(), nullptr, openssl->md, nullptr, key) == 1 &&
      EVP_DigestVerify(
          context.get(), reinterpret_cast<const unsigned char*>(signature_value.data()),
          signature_value.size(), reinterpret_cast<const unsigned char*>(signed_info.data()),
          signed_info.size()) == 1;
  ERR_clear_error();
  return holds;
}

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

  // The reference: the referenced element's subtree (the whole document: every node) without
  // comments, with enveloped-signature without the ds:Signature, then one canonicalization.
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
  const RenderingsInUse in_use;
  auto& rendered = in_use.rendered;
  if (!canonical(signature->doc, nodes, *reference_c14n, rendered.reference))
    return not_verified("the signed element cannot be canonicalized");
  const auto digest = digest_of(digest_method, rendered.reference);
  if (!digest) {
    return not_verified(fmt::format("unsupported digest method '{}'", digest_method));
  }
  xmlNode* digest_value = ds_child(reference, "DigestValue");
  const auto expected =
      digest_value != nullptr ? decode_base64(xml::text_of(digest_value)) : std::nullopt;
  if (!expected) return not_verified("ds:DigestValue is missing or not base64");
  if (expected->size() != digest->size() ||
      CRYPTO_memcmp(expected->data(), digest->data(), digest->size()) != 0) {
    return Rejection{Reason::signature_invalid,
                     fmt::format("the digest of {} does not match: it was changed after signing",
                                 xml::qualified_name(referenced))};
  }

  // The signature value over ds:SignedInfo, canonicalized by its own method.
  const auto signed_info_c14n = c14n_method(ds_child(signed_info, "CanonicalizationMethod"));
  if (!signed_info_c14n) return mismatch("ds:SignedInfo's canonicalization is not the profile's");
  if (!canonical(signature->doc, NodeSet{signed_info, nullptr, true}, *signed_info_c14n,
                 rendered.signed_info))
    return not_verified("ds:SignedInfo cannot be canonicalized");
  const auto value = decode_base64(xml::text_of(signature_value));
  if (!value) return not_verified("ds:SignatureValue is not base64");
  auto holds = signature_holds(method, key, rendered.signed_info, *value);
  if (auto* rejection = std::get_if<Rejection>(&holds)) return *rejection;
  if (!std::get<bool>(holds)) {
    return Rejection{Reason::signature_invalid,
                     "the signature value does not verify with the signer certificate's key"};
  }
  return std::nullopt;
}

}  // namespace nqs::xmldsig::detail
