#include "xmldsig/signature.hpp"

#include <fmt/format.h>
#include <libxml/parser.h>
#include <openssl/evp.h>
#include <xmlsec/crypto.h>
#include <xmlsec/errors.h>
#include <xmlsec/openssl/evp.h>
#include <xmlsec/templates.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/xmltree.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <stdexcept>

#include "gost/algorithms.hpp"
#include "gost/openssl_keys.hpp"
#include "xml/xml.hpp"
#include "xmldsig/gost_xmldsig.hpp"

namespace nqs::xmldsig {
namespace {

// The last xmlsec error on this thread, for details; xmlsec prints nothing.
thread_local std::string last_xmlsec_error;

void record_xmlsec_error(const char*, int, const char* function, const char*, const char* subject,
                         int, const char* message) {
  last_xmlsec_error = fmt::format("{}{}{}", function != nullptr ? function : "",
                                  subject != nullptr ? std::string(" ") + subject : "",
                                  message != nullptr ? std::string(": ") + message : "");
}

const std::map<std::string_view, xmlSecTransformId (*)()>& algorithms() {
  static const std::map<std::string_view, xmlSecTransformId (*)()> table{
      {"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
       [] { return xmlSecTransformRsaSha256Id; }},
      {"http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
       [] { return xmlSecTransformRsaSha384Id; }},
      {"http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
       [] { return xmlSecTransformRsaSha512Id; }},
      {"http://www.w3.org/2000/09/xmldsig#rsa-sha1", [] { return xmlSecTransformRsaSha1Id; }},
      {"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
       [] { return xmlSecTransformEcdsaSha256Id; }},
      {"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384",
       [] { return xmlSecTransformEcdsaSha384Id; }},
      {"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512",
       [] { return xmlSecTransformEcdsaSha512Id; }},
      {"http://www.w3.org/2001/04/xmlenc#sha256", [] { return xmlSecTransformSha256Id; }},
      {"http://www.w3.org/2001/04/xmldsig-more#sha384", [] { return xmlSecTransformSha384Id; }},
      {"http://www.w3.org/2001/04/xmlenc#sha512", [] { return xmlSecTransformSha512Id; }},
      {"http://www.w3.org/2000/09/xmldsig#sha1", [] { return xmlSecTransformSha1Id; }},
      // NCA RK's GOST methods (gost_xmldsig.hpp).
      {gost::kGost2015_512Uri, [] { return gost_transform(gost::kGost2015_512Uri); }},
      {gost::kGost2015_256Uri, [] { return gost_transform(gost::kGost2015_256Uri); }},
      {gost::kGost34310Uri, [] { return gost_transform(gost::kGost34310Uri); }},
      {gost::kStreebog512Uri, [] { return gost_transform(gost::kStreebog512Uri); }},
      {gost::kStreebog256Uri, [] { return gost_transform(gost::kStreebog256Uri); }},
      {gost::kGost34311Uri, [] { return gost_transform(gost::kGost34311Uri); }},
  };
  return table;
}

xmlSecTransformId c14n_transform(std::string_view uri) {
  if (uri == kExclusiveC14n) return xmlSecTransformExclC14NId;
  if (uri == kInclusiveC14n) return xmlSecTransformInclC14NId;
  return nullptr;
}

// The reference's canonicalization may keep comments (NCALayer and KalkanCrypt sign with
// inclusive c14n #WithComments): comments are then signed content like any other.
xmlSecTransformId reference_c14n_transform(std::string_view uri) {
  if (uri == kExclusiveC14nWithComments) return xmlSecTransformExclC14NWithCommentsId;
  if (uri == kInclusiveC14nWithComments) return xmlSecTransformInclC14NWithCommentsId;
  return c14n_transform(uri);
}

std::string line_of(const xmlNode* node) {
  return fmt::format("line {}", xmlGetLineNo(node));
}

std::string algorithm_of(const xmlNode* node) {
  return node == nullptr ? std::string() : xml::attribute(node, "Algorithm").value_or("");
}

xmlNode* ds_child(const xmlNode* parent, std::string_view name) {
  return xml::child_element(parent, kXmlDsigNs, name);
}

// soap:Header, where a transport signature (wsse:Security) may stand.
bool in_soap_header(const xmlNode* node) {
  for (const xmlNode* at = node; at != nullptr; at = at->parent) {
    if (xml::is_element(at, "http://schemas.xmlsoap.org/soap/envelope/", "Header")) return true;
  }
  return false;
}

void collect_elements(xmlNode* node, std::vector<xmlNode*>& out) {
  for (xmlNode* child = node; child != nullptr; child = child->next) {
    if (child->type != XML_ELEMENT_NODE) continue;
    out.push_back(child);
    collect_elements(child->children, out);
  }
}

std::optional<std::string> decode_base64(std::string_view text) {
  std::string compact;
  for (char c : text) {
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') compact.push_back(c);
  }
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

Rejection mismatch(std::string detail) {
  return Rejection{Reason::signature_reference_mismatch, std::move(detail)};
}

struct DsigContextFree {
  void operator()(xmlSecDSigCtx* context) const { xmlSecDSigCtxDestroy(context); }
};

// Registers one attribute (an element's Id, or soap:Body's wsu:Id) as the document's one ID, for
// the length of a verification or signing, and unregisters it after.
class RegisteredId {
 public:
  RegisteredId(xmlAttr* attribute, const std::string& id) : attribute_(attribute) {
    if (attribute_ != nullptr) {
      registered_ =
          xmlAddID(nullptr, attribute_->doc, xml::as_xml(id.c_str()), attribute_) != nullptr;
    }
  }
  ~RegisteredId() {
    if (registered_) xmlRemoveID(attribute_->doc, attribute_);
  }
  RegisteredId(const RegisteredId&) = delete;
  RegisteredId& operator=(const RegisteredId&) = delete;
  [[nodiscard]] bool ok() const { return registered_; }

 private:
  xmlAttr* attribute_ = nullptr;
  bool registered_ = false;
};

xmlSecKeyPtr adopt_key(EVP_PKEY* key) {
  xmlSecKeyDataPtr data = nullptr;
  if (gost::key_of(key) != nullptr) {
    data = gost_key_data(key);
  } else {
    EVP_PKEY_up_ref(key);
    data = xmlSecOpenSSLEvpKeyAdopt(key);
    if (data == nullptr) EVP_PKEY_free(key);
  }
  if (data == nullptr) return nullptr;
  xmlSecKeyPtr adopted = xmlSecKeyCreate();
  if (adopted == nullptr || xmlSecKeySetValue(adopted, data) < 0) {
    xmlSecKeyDataDestroy(data);
    if (adopted != nullptr) xmlSecKeyDestroy(adopted);
    return nullptr;
  }
  return adopted;
}

// What the document and transport profiles share: ds:Signature holds only SignedInfo,
// SignatureValue and KeyInfo (no ds:Object, where a moved copy of the signed element or a Manifest
// could hide); the canonicalization method is exclusive c14n (or, unless `exclusive_only`,
// inclusive c14n); the signature and digest methods are allowed; exactly one ds:Reference, to
// `#id`. Returns the reference's transforms, whose profile differs.
struct CheckedSignedInfo {
  std::vector<std::string> transforms;
};

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

// A C variadic function: a lambda cannot be one.
void ignore_generic_error(void*, const char*, ...) {}

bool is_id_attribute(const xmlAttr* attr) {
  const auto name = xml::as_view(attr->name);
  return name.size() == 2 && (name[0] == 'I' || name[0] == 'i') &&
         (name[1] == 'D' || name[1] == 'd');
}

}  // namespace

std::optional<Rejection> check_wrapping(xmlDoc* doc) {
  // xml:id attributes are registered as IDs by the parser itself: a second ID table entry could
  // be what a reference resolves to. Only the document element's Id may ever be an ID.
  if (doc->ids != nullptr && xmlHashSize(static_cast<xmlHashTablePtr>(doc->ids)) > 0) {
    return mismatch(
        "the message declares xml:id attributes; only the document element's Id may "
        "be referenced");
  }
  std::vector<xmlNode*> elements;
  collect_elements(xmlDocGetRootElement(doc), elements);
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

void ensure_xml_security_initialised() {
  static std::once_flag once;
  std::call_once(once, [] {
    xmlInitParser();
    if (xmlSecInit() < 0 || xmlSecCheckVersion() != 1 || xmlSecCryptoAppInit(nullptr) < 0 ||
        xmlSecCryptoInit() < 0) {
      throw std::runtime_error("xmlsec with the OpenSSL back end could not be initialised");
    }
    xmlSecErrorsSetCallback(record_xmlsec_error);
    // libxml2 prints errors it cannot attach to a context (XPath compilation, some schema
    // parsing) on standard error; every error the adapter needs comes through its contexts.
    xmlSetGenericErrorFunc(nullptr, ignore_generic_error);
    xmlThrDefSetGenericErrorFunc(nullptr, ignore_generic_error);
    xmlSetStructuredErrorFunc(nullptr, [](void*, xmlErrorPtr) {});
    xmlThrDefSetStructuredErrorFunc(nullptr, [](void*, xmlErrorPtr) {});
    register_gost_transforms();
  });
}

bool is_supported_algorithm(std::string_view uri) {
  return algorithms().contains(uri);
}

std::variant<SignatureParts, Rejection> check_signature_profile(xmlNode* document,
                                                                const AlgorithmPolicy& policy) {
  SignatureParts parts;
  parts.document = document;
  const auto document_name = xml::qualified_name(document);
  parts.id = xml::attribute(document, "Id").value_or("");
  if (parts.id.empty()) return mismatch(fmt::format("{} has no Id attribute", document_name));

  std::vector<xmlNode*> elements;
  collect_elements(xmlDocGetRootElement(document->doc), elements);
  std::vector<xmlNode*> signatures;
  for (xmlNode* element : elements) {
    if (xml::is_element(element, kXmlDsigNs, "Signature")) signatures.push_back(element);
  }

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
  parts.signature = own.front();
  if (xml::element_children(document).back() != parts.signature) {
    return mismatch(fmt::format("the ds:Signature is not the last child of {}", document_name));
  }

  auto checked = check_signed_info(parts.signature, policy, "", false, "#" + parts.id,
                                   document_name + "'s Id");
  if (auto* rejection = std::get_if<Rejection>(&checked)) return *rejection;
  const auto& transforms = std::get<CheckedSignedInfo>(checked).transforms;
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
  return parts;
}

// Verifies `signature` (one reference, to the element `referenced` whose ID attribute is
// `id_attribute`, or with no ID attribute to the whole document, URI="") with xmlsec: only a
// same-document reference, only the profile's transforms and the allowed methods, and `key`
// instead of anything in ds:KeyInfo.
static std::optional<Rejection> verify_with_xmlsec(xmlNode* signature, xmlAttr* id_attribute,
                                                   const std::string& id, const xmlNode* referenced,
                                                   bool enveloped, EVP_PKEY* key,
                                                   const AlgorithmPolicy& policy) {
  ensure_xml_security_initialised();
  const bool whole_document = id_attribute == nullptr;
  std::optional<RegisteredId> registered;
  if (!whole_document) {
    registered.emplace(id_attribute, id);
    if (!registered->ok()) return mismatch(fmt::format("the Id '{}' cannot be registered", id));
  }
  const std::string expected_uri = whole_document ? "" : "#" + id;

  std::unique_ptr<xmlSecDSigCtx, DsigContextFree> context(xmlSecDSigCtxCreate(nullptr));
  if (!context) return Rejection{Reason::signature_invalid, "xmlsec context not created"};
  context->enabledReferenceUris =
      whole_document ? xmlSecTransformUriTypeEmpty : xmlSecTransformUriTypeSameDocument;
  if (enveloped) {
    xmlSecDSigCtxEnableReferenceTransform(context.get(), xmlSecTransformEnvelopedId);
    for (auto* c14n :
         {xmlSecTransformExclC14NWithCommentsId, xmlSecTransformInclC14NWithCommentsId})
      xmlSecDSigCtxEnableReferenceTransform(context.get(), c14n);
  }
  for (auto* c14n : {xmlSecTransformExclC14NId, xmlSecTransformInclC14NId}) {
    xmlSecDSigCtxEnableReferenceTransform(context.get(), c14n);
    xmlSecDSigCtxEnableSignatureTransform(context.get(), c14n);
  }
  for (const auto& uri : policy.allowed) {
    auto found = algorithms().find(uri);
    if (found == algorithms().end()) continue;
    xmlSecDSigCtxEnableReferenceTransform(context.get(), found->second());
    xmlSecDSigCtxEnableSignatureTransform(context.get(), found->second());
  }
  context->signKey = adopt_key(key);
  if (context->signKey == nullptr) {
    return Rejection{Reason::signature_invalid, "the certificate's key cannot be used by xmlsec"};
  }
  last_xmlsec_error.clear();
  if (xmlSecDSigCtxVerify(context.get(), signature) < 0) {
    return Rejection{Reason::signature_invalid,
                     fmt::format("the signature could not be verified: {}",
                                 last_xmlsec_error.empty() ? "unknown error" : last_xmlsec_error)};
  }
  // Defence in depth: xmlsec must have used exactly the one reference checked before.
  if (xmlSecPtrListGetSize(&context->signedInfoReferences) != 1) {
    return mismatch("xmlsec processed an unexpected number of references");
  }
  auto* reference = static_cast<xmlSecDSigReferenceCtxPtr>(
      xmlSecPtrListGetItem(&context->signedInfoReferences, 0));
  if (reference == nullptr || reference->uri == nullptr ||
      xml::as_view(reference->uri) != expected_uri) {
    return mismatch("xmlsec resolved a reference other than the signed element");
  }
  if (context->status != xmlSecDSigStatusSucceeded) {
    if (reference->status != xmlSecDSigStatusSucceeded) {
      return Rejection{Reason::signature_invalid,
                       fmt::format("the digest of {} does not match: it was changed after signing",
                                   xml::qualified_name(referenced))};
    }
    return Rejection{Reason::signature_invalid,
                     "the signature value does not verify with the signer certificate's key"};
  }
  return std::nullopt;
}

std::optional<Rejection> verify_signature(const SignatureParts& parts, EVP_PKEY* key,
                                          const AlgorithmPolicy& policy) {
  return verify_with_xmlsec(parts.signature, xmlHasProp(parts.document, xml::as_xml("Id")),
                            parts.id, parts.document, true, key, policy);
}

std::optional<Rejection> verify_whole_document_signature(xmlNode* signature, EVP_PKEY* key,
                                                         const AlgorithmPolicy& policy) {
  if (!xml::is_element(signature, kXmlDsigNs, "Signature")) {
    return Rejection{Reason::signature_missing, "not a ds:Signature"};
  }
  auto checked = check_signed_info(signature, policy, "", false, "", "the whole document");
  if (auto* rejection = std::get_if<Rejection>(&checked)) return *rejection;
  return verify_with_xmlsec(signature, nullptr, "", xmlDocGetRootElement(signature->doc), true, key,
                            policy);
}

std::optional<std::string> sign_enveloped(xmlNode* element, EVP_PKEY* private_key,
                                          const std::vector<X509*>& certificates,
                                          const SigningOptions& options) {
  ensure_xml_security_initialised();
  const auto id = xml::attribute(element, "Id");
  if (!id) return "the element to sign has no Id attribute";
  auto method = algorithms().find(options.signature_method);
  auto digest = algorithms().find(options.digest_method);
  xmlSecTransformId c14n = c14n_transform(options.c14n);
  xmlSecTransformId reference_c14n = reference_c14n_transform(
      options.reference_c14n.empty() ? options.c14n : options.reference_c14n);
  if (method == algorithms().end() || digest == algorithms().end() || c14n == nullptr ||
      reference_c14n == nullptr) {
    return "unsupported signing algorithm";
  }
  xmlDoc* doc = element->doc;
  // The conventional ds: prefix, as the platform's own documents and tools write it.
  xmlNode* signature =
      xmlSecTmplSignatureCreateNsPref(doc, c14n, method->second(), nullptr, xml::as_xml("ds"));
  xmlAddChild(element, signature);
  const std::string uri = "#" + *id;
  xmlNode* reference = xmlSecTmplSignatureAddReference(signature, digest->second(), nullptr,
                                                       xml::as_xml(uri.c_str()), nullptr);
  xmlSecTmplReferenceAddTransform(reference, xmlSecTransformEnvelopedId);
  xmlSecTmplReferenceAddTransform(reference, reference_c14n);
  xmlNode* key_info = xmlSecTmplSignatureEnsureKeyInfo(signature, nullptr);
  xmlNode* x509_data = xmlSecTmplKeyInfoAddX509Data(key_info);
  for (X509* certificate : certificates) {
    unsigned char* der = nullptr;
    const int length = i2d_X509(certificate, &der);
    std::string base64(static_cast<std::size_t>(4 * ((length + 2) / 3)) + 1, '\0');
    EVP_EncodeBlock(reinterpret_cast<unsigned char*>(base64.data()), der, length);
    OPENSSL_free(der);
    base64.resize(std::strlen(base64.c_str()));
    xmlNewTextChild(x509_data, signature->ns, xml::as_xml("X509Certificate"),
                    xml::as_xml(base64.c_str()));
  }
  RegisteredId registered(xmlHasProp(element, xml::as_xml("Id")), *id);
  std::unique_ptr<xmlSecDSigCtx, DsigContextFree> context(xmlSecDSigCtxCreate(nullptr));
  context->signKey = adopt_key(private_key);
  last_xmlsec_error.clear();
  if (context->signKey == nullptr || xmlSecDSigCtxSign(context.get(), signature) < 0) {
    return fmt::format("signing failed: {}", last_xmlsec_error);
  }
  return std::nullopt;
}

std::variant<std::optional<TransportParts>, Rejection> check_transport_profile(
    xmlDoc* doc, const AlgorithmPolicy& policy) {
  xmlNode* envelope = xmlDocGetRootElement(doc);
  xmlNode* header =
      xml::child_element(envelope, "http://schemas.xmlsoap.org/soap/envelope/", "Header");
  if (header == nullptr) return std::optional<TransportParts>{};
  std::vector<xmlNode*> securities;
  for (xmlNode* child : xml::element_children(header)) {
    if (xml::is_element(child, kWsseNs, "Security")) securities.push_back(child);
  }
  if (securities.empty()) return std::optional<TransportParts>{};
  if (securities.size() > 1) {
    return mismatch(fmt::format("soap:Header has {} wsse:Security elements; one is accepted",
                                securities.size()));
  }
  std::vector<xmlNode*> signatures;
  for (xmlNode* child : xml::element_children(securities.front())) {
    if (xml::is_element(child, kXmlDsigNs, "Signature")) signatures.push_back(child);
  }
  if (signatures.size() != 1) {
    return Rejection{
        signatures.empty() ? Reason::signature_missing : Reason::signature_reference_mismatch,
        fmt::format("wsse:Security holds {} ds:Signature elements; exactly one is "
                    "accepted",
                    signatures.size())};
  }
  TransportParts parts;
  parts.signature = signatures.front();
  parts.body = xml::child_element(envelope, "http://schemas.xmlsoap.org/soap/envelope/", "Body");
  xmlChar* id = parts.body == nullptr
                    ? nullptr
                    : xmlGetNsProp(parts.body, xml::as_xml("Id"), xml::as_xml(kWsuNs.data()));
  parts.id = std::string(xml::as_view(id));
  xmlFree(id);
  if (parts.id.empty()) return mismatch("the transport signature needs a wsu:Id on soap:Body");

  auto checked =
      check_signed_info(parts.signature, policy, "transport ", true, "#" + parts.id, "soap:Body");
  if (auto* rejection = std::get_if<Rejection>(&checked)) return *rejection;
  const auto& transforms = std::get<CheckedSignedInfo>(checked).transforms;
  if (transforms.size() != 1 || transforms.front() != kExclusiveC14n) {
    return mismatch("the transport signature's transforms must be exactly exclusive c14n");
  }
  xmlNode* key_info = ds_child(parts.signature, "KeyInfo");
  xmlNode* token = key_info == nullptr
                       ? nullptr
                       : xml::child_element(key_info, kWsseNs, "SecurityTokenReference");
  xmlNode* identifier =
      token == nullptr ? nullptr : xml::child_element(token, kWsseNs, "KeyIdentifier");
  if (identifier == nullptr) {
    return Rejection{Reason::certificate_untrusted,
                     "no sender certificate in wsse:SecurityTokenReference/wsse:KeyIdentifier"};
  }
  auto der = decode_base64(xml::text_of(identifier));
  if (!der) return Rejection{Reason::certificate_untrusted, "wsse:KeyIdentifier is not base64"};
  parts.certificate_der = std::move(*der);
  return std::optional<TransportParts>{std::move(parts)};
}

std::optional<Rejection> verify_transport_signature(const TransportParts& parts, EVP_PKEY* key,
                                                    const AlgorithmPolicy& policy) {
  return verify_with_xmlsec(parts.signature,
                            xmlHasNsProp(parts.body, xml::as_xml("Id"), xml::as_xml(kWsuNs.data())),
                            parts.id, parts.body, false, key, policy);
}

std::optional<std::string> sign_transport(xmlDoc* doc, EVP_PKEY* private_key, X509* certificate) {
  ensure_xml_security_initialised();
  constexpr std::string_view kSoap = "http://schemas.xmlsoap.org/soap/envelope/";
  xmlNode* envelope = xmlDocGetRootElement(doc);
  xmlNode* body = xml::child_element(envelope, kSoap, "Body");
  xmlNode* header = xml::child_element(envelope, kSoap, "Header");
  if (body == nullptr) return "no soap:Body";
  if (header == nullptr) {
    header = xmlNewNode(envelope->ns, xml::as_xml("Header"));
    xmlAddPrevSibling(body, header);
  }
  xmlNsPtr wsu = xmlNewNs(body, xml::as_xml(kWsuNs.data()), xml::as_xml("wsu"));
  xmlAttr* id = xmlSetNsProp(body, wsu, xml::as_xml("Id"), xml::as_xml("body"));
  xmlNode* security = xmlNewChild(header, nullptr, xml::as_xml("Security"), nullptr);
  xmlSetNs(security, xmlNewNs(security, xml::as_xml(kWsseNs.data()), xml::as_xml("wsse")));
  // The sender key's methods: its GOST ones, else RSA-SHA256.
  const auto* gost_key = gost::key_of(private_key);
  xmlSecTransformId method = gost_key != nullptr
                                 ? gost_transform(gost_key->public_key.algorithm->signature_uri)
                                 : xmlSecTransformRsaSha256Id;
  xmlSecTransformId digest = gost_key != nullptr
                                 ? gost_transform(gost_key->public_key.algorithm->digest_uri)
                                 : xmlSecTransformSha256Id;
  xmlNode* signature = xmlSecTmplSignatureCreateNsPref(doc, xmlSecTransformExclC14NId, method,
                                                       nullptr, xml::as_xml("ds"));
  xmlAddChild(security, signature);
  xmlNode* reference =
      xmlSecTmplSignatureAddReference(signature, digest, nullptr, xml::as_xml("#body"), nullptr);
  xmlSecTmplReferenceAddTransform(reference, xmlSecTransformExclC14NId);
  xmlNode* key_info = xmlSecTmplSignatureEnsureKeyInfo(signature, nullptr);
  xmlNode* token =
      xmlNewChild(key_info, security->ns, xml::as_xml("SecurityTokenReference"), nullptr);
  unsigned char* der = nullptr;
  const int length = i2d_X509(certificate, &der);
  std::string base64(static_cast<std::size_t>(4 * ((length + 2) / 3)) + 1, '\0');
  EVP_EncodeBlock(reinterpret_cast<unsigned char*>(base64.data()), der, length);
  OPENSSL_free(der);
  base64.resize(std::strlen(base64.c_str()));
  xmlNode* identifier = xmlNewTextChild(token, security->ns, xml::as_xml("KeyIdentifier"),
                                        xml::as_xml(base64.c_str()));
  xmlSetProp(identifier, xml::as_xml("ValueType"),
             xml::as_xml("http://docs.oasis-open.org/wss/2004/01/"
                         "oasis-200401-wss-x509-token-profile-1.0#X509v3"));
  RegisteredId registered(id, "body");
  std::unique_ptr<xmlSecDSigCtx, DsigContextFree> context(xmlSecDSigCtxCreate(nullptr));
  context->signKey = adopt_key(private_key);
  last_xmlsec_error.clear();
  if (context->signKey == nullptr || xmlSecDSigCtxSign(context.get(), signature) < 0) {
    return fmt::format("transport signing failed: {}", last_xmlsec_error);
  }
  return std::nullopt;
}

}  // namespace nqs::xmldsig
