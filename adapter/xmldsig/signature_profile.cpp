#include <fmt/format.h>
#include <libxml/hash.h>
#include <libxml/tree.h>
#include <openssl/evp.h>

#include <map>
#include <string>
#include <vector>

#include "xml/xml.hpp"
#include "xmldsig/signature.hpp"
#include "xmldsig/signature_internal.hpp"

namespace nqs::xmldsig {

using detail::check_signed_info;
using detail::CheckedSignedInfo;
using detail::decode_base64;
using detail::ds_child;
using detail::mismatch;
using detail::reference_c14n_transform;

namespace {

std::string line_of(const xmlNode* node) {
  return fmt::format("line {}", xmlGetLineNo(node));
}

std::string algorithm_of(const xmlNode* node) {
  return node == nullptr ? std::string() : xml::attribute(node, "Algorithm").value_or("");
}

// soap:Header, where a transport signature (wsse:Security) may stand.
bool in_soap_header(const xmlNode* node) {
  for (const xmlNode* at = node; at != nullptr; at = at->parent) {
    if (xml::is_element(at, "http://schemas.xmlsoap.org/soap/envelope/", "Header")) return true;
  }
  return false;
}

bool is_id_attribute(const xmlAttr* attr) {
  const auto name = xml::as_view(attr->name);
  return name.size() == 2 && (name[0] == 'I' || name[0] == 'i') &&
         (name[1] == 'D' || name[1] == 'd');
}

// The one ds:Signature of `document`, its last child; any other ds:Signature of the message may
// only stand in soap:Header.
std::variant<xmlNode*, Rejection> enveloped_signature(xmlNode* document,
                                                      const std::string& document_name) {
  std::vector<xmlNode*> signatures;
  xml::for_each_element(xmlDocGetRootElement(document->doc), [&](xmlNode* element) {
    if (xml::is_element(element, kXmlDsigNs, "Signature")) signatures.push_back(element);
  });

  std::vector<xmlNode*> own;
  for (xmlNode* signature : signatures) {
    if (signature->parent == document) {
      own.push_back(signature);
    } else if (!in_soap_header(signature)) {
      return mismatch(fmt::format("a ds:Signature at {} is not the last child of {}",
                                  line_of(signature), document_name));
    }
  }
  if (own.empty()) {
    return Rejection{Reason::signature_missing,
                     fmt::format("{} carries no enveloped ds:Signature", document_name)};
  }
  if (own.size() > 1) {
    return mismatch(fmt::format("{} has {} ds:Signature children; exactly one is accepted",
                                document_name, own.size()));
  }
  if (xml::element_children(document).back() != own.front()) {
    return mismatch(fmt::format("the ds:Signature is not the last child of {}", document_name));
  }
  return own.front();
}

// The document reference's transforms: enveloped-signature, then a c14n.
std::optional<Rejection> check_enveloped_transforms(const std::vector<std::string>& transforms) {
  if (transforms.size() != 2 || transforms[0] != kEnvelopedSignature ||
      reference_c14n_transform(transforms[1]) == nullptr) {
    std::string listed;
    for (const auto& t : transforms)
      listed += (listed.empty() ? "" : ", ") + t;
    return mismatch(
        fmt::format("the ds:Reference transforms are [{}]; the profile is "
                    "enveloped-signature then exclusive or inclusive c14n, with or without "
                    "comments",
                    listed));
  }
  return std::nullopt;
}

// The certificates of ds:KeyInfo/ds:X509Data, the signer's first, into `parts`.
std::optional<Rejection> read_certificates(SignatureParts& parts) {
  xmlNode* key_info = ds_child(parts.signature, "KeyInfo");
  xmlNode* x509_data = key_info != nullptr ? ds_child(key_info, "X509Data") : nullptr;
  std::vector<xmlNode*> certificates;
  if (x509_data != nullptr) {
    for (xmlNode* child : xml::element_children(x509_data)) {
      if (xml::is_element(child, kXmlDsigNs, "X509Certificate")) certificates.push_back(child);
    }
  }
  if (certificates.empty()) {
    return Rejection{Reason::certificate_untrusted,
                     "no signer certificate in ds:KeyInfo/ds:X509Data/ds:X509Certificate"};
  }
  if (certificates.size() > 8) {
    return Rejection{Reason::certificate_untrusted, "more than 8 certificates in ds:X509Data"};
  }
  for (std::size_t i = 0; i < certificates.size(); ++i) {
    auto der = decode_base64(xml::text_of(certificates[i]));
    if (!der) {
      return Rejection{Reason::certificate_untrusted,
                       fmt::format("ds:X509Certificate number {} is not base64", i + 1)};
    }
    if (i == 0) {
      parts.leaf_der = std::move(*der);
    } else {
      parts.intermediates_der.push_back(std::move(*der));
    }
  }
  return std::nullopt;
}

}  // namespace

namespace detail {

std::optional<std::string> decode_base64(std::string_view text) {
  // Each character written, and the end moved past it unless it is white space: no branch or
  // capacity check a character (a certificate's base64 is a kilobyte and more).
  std::string compact(text.size(), '\0');
  std::size_t kept = 0;
  for (const char c : text) {
    compact[kept] = c;
    kept += static_cast<std::size_t>(c != ' ' && c != '\n' && c != '\r' && c != '\t');
  }
  compact.resize(kept);
  if (compact.empty() || compact.size() % 4 != 0) return std::nullopt;
  std::string out(compact.size() / 4 * 3, '\0');
  const int length = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                     reinterpret_cast<const unsigned char*>(compact.data()),
                                     static_cast<int>(compact.size()));
  if (length < 0) return std::nullopt;
  std::size_t padding = 0;
  if (compact.back() == '=') ++padding;
  if (compact[compact.size() - 2] == '=') ++padding;
  out.resize(static_cast<std::size_t>(length) - padding);
  return out;
}

std::variant<CheckedSignedInfo, Rejection> check_signed_info(
    xmlNode* signature, const AlgorithmPolicy& policy, std::string_view label, bool exclusive_only,
    const std::string& uri_expected, const std::string& target) {
  for (xmlNode* child : xml::element_children(signature)) {
    if (!xml::is_element(child, kXmlDsigNs, "SignedInfo") &&
        !xml::is_element(child, kXmlDsigNs, "SignatureValue") &&
        !xml::is_element(child, kXmlDsigNs, "KeyInfo")) {
      return mismatch(
          fmt::format("the {}ds:Signature holds {} ({}); only SignedInfo, "
                      "SignatureValue and KeyInfo are accepted",
                      label, xml::qualified_name(child), line_of(child)));
    }
  }
  xmlNode* signed_info = ds_child(signature, "SignedInfo");
  if (signed_info == nullptr || ds_child(signature, "SignatureValue") == nullptr) {
    return Rejection{
        Reason::signature_invalid,
        fmt::format("the {}ds:Signature lacks ds:SignedInfo or ds:SignatureValue", label)};
  }
  const auto c14n = algorithm_of(ds_child(signed_info, "CanonicalizationMethod"));
  if (exclusive_only ? c14n != kExclusiveC14n : c14n_transform(c14n) == nullptr) {
    return Rejection{Reason::signature_algorithm_not_allowed,
                     fmt::format("{}canonicalization method '{}' is not allowed ({})", label, c14n,
                                 exclusive_only ? "exclusive c14n only"
                                                : "exclusive or inclusive c14n without comments")};
  }
  const auto method = algorithm_of(ds_child(signed_info, "SignatureMethod"));
  if (!policy.allowed.contains(method) || !is_supported_algorithm(method)) {
    return Rejection{
        Reason::signature_algorithm_not_allowed,
        fmt::format("{}signature method '{}' is not in trust.allowed_algorithms", label, method)};
  }
  std::vector<xmlNode*> references;
  for (xmlNode* child : xml::element_children(signed_info)) {
    if (xml::is_element(child, kXmlDsigNs, "Reference")) references.push_back(child);
  }
  if (references.size() != 1) {
    return mismatch(
        fmt::format("{}ds:SignedInfo has {} ds:Reference elements; exactly one is "
                    "accepted, to {}",
                    label, references.size(), target));
  }
  xmlNode* reference = references.front();
  const auto uri = xml::attribute(reference, "URI");
  if (!uri || *uri != uri_expected) {
    return mismatch(fmt::format("the {}ds:Reference points at '{}', not at {} '{}'", label,
                                uri.value_or("(no URI)"), target, uri_expected));
  }
  const auto digest = algorithm_of(ds_child(reference, "DigestMethod"));
  if (!policy.allowed.contains(digest) || !is_supported_algorithm(digest)) {
    return Rejection{
        Reason::signature_algorithm_not_allowed,
        fmt::format("{}digest method '{}' is not in trust.allowed_algorithms", label, digest)};
  }
  CheckedSignedInfo checked;
  if (xmlNode* list = ds_child(reference, "Transforms")) {
    for (xmlNode* transform : xml::element_children(list)) {
      checked.transforms.push_back(algorithm_of(transform));
    }
  }
  return checked;
}

}  // namespace detail

std::optional<Rejection> check_wrapping(xmlDoc* doc) {
  // xml:id attributes are registered as IDs by the parser itself: a second ID table entry could
  // be what a reference resolves to. Only the document element's Id may ever be an ID.
  if (doc->ids != nullptr && xmlHashSize(static_cast<xmlHashTablePtr>(doc->ids)) > 0) {
    return mismatch(
        "the message declares xml:id attributes; only the document element's Id may "
        "be referenced");
  }
  std::vector<xmlNode*> elements;
  elements.reserve(256);
  xml::for_each_element(xmlDocGetRootElement(doc),
                        [&](xmlNode* element) { elements.push_back(element); });
  std::map<std::string, const xmlNode*, std::less<>> first_with;
  for (xmlNode* element : elements) {
    // Id, ID, id or wsu:Id: any of them can be made a reference target.
    for (xmlAttr* attr = element->properties; attr != nullptr; attr = attr->next) {
      if (!is_id_attribute(attr)) continue;
      xmlChar* raw = xmlNodeListGetString(doc, attr->children, 1);
      const std::string value(xml::as_view(raw));
      xmlFree(raw);
      const auto [at, inserted] = first_with.emplace(value, element);
      if (!inserted) {
        return mismatch(fmt::format("the Id '{}' is given on {} ({}) and again on {} ({})", value,
                                    xml::qualified_name(at->second), line_of(at->second),
                                    xml::qualified_name(element), line_of(element)));
      }
    }
  }
  const xmlNode* signed_element = nullptr;
  for (xmlNode* element : elements) {
    if (!xml::is_element(element, kXmlDsigNs, "Signature") || in_soap_header(element)) continue;
    const xmlNode* parent = element->parent;
    const bool under_document = parent != nullptr && parent->type == XML_ELEMENT_NODE &&
                                parent->parent != nullptr &&
                                xml::is_element(parent->parent, "", "data");
    if (!under_document) {
      return mismatch(
          fmt::format("a ds:Signature at {} is not the last child of the document "
                      "element under data",
                      line_of(element)));
    }
    if (signed_element != nullptr) {
      return mismatch(
          fmt::format("{} has more than one ds:Signature (again at {}); exactly one is "
                      "accepted",
                      xml::qualified_name(parent), line_of(element)));
    }
    signed_element = parent;
  }
  return std::nullopt;
}

std::variant<SignatureParts, Rejection> check_signature_profile(xmlNode* document,
                                                                const AlgorithmPolicy& policy) {
  SignatureParts parts;
  parts.document = document;
  const auto document_name = xml::qualified_name(document);
  parts.id = xml::attribute(document, "Id").value_or("");
  if (parts.id.empty()) return mismatch(fmt::format("{} has no Id attribute", document_name));

  auto signature = enveloped_signature(document, document_name);
  if (auto* rejection = std::get_if<Rejection>(&signature)) return *rejection;
  parts.signature = std::get<xmlNode*>(signature);

  auto checked = check_signed_info(parts.signature, policy, "", false, "#" + parts.id,
                                   document_name + "'s Id");
  if (auto* rejection = std::get_if<Rejection>(&checked)) return *rejection;
  if (auto rejection =
          check_enveloped_transforms(std::get<CheckedSignedInfo>(checked).transforms)) {
    return *rejection;
  }
  if (auto rejection = read_certificates(parts)) return *rejection;
  return parts;
}

}  // namespace nqs::xmldsig
