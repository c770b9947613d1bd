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
#include <map>
#include <mutex>
#include <stdexcept>

#include "common/base64.hpp"
#include "common/openssl_key_methods.hpp"
#include "gost/algorithms.hpp"
#include "gost/openssl_keys.hpp"
#include "revocation/x509_facts.hpp"
#include "xml/xml.hpp"
#include "xmldsig/gost_xmldsig.hpp"
#include "xmldsig/signature_internal.hpp"

namespace nqs::xmldsig {

using detail::c14n_transform;
using detail::check_signed_info;
using detail::last_xmlsec_error;
using detail::reference_c14n_transform;
using detail::verify_signed_info;

namespace {

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

// A C variadic function: a lambda cannot be one.
void ignore_generic_error(void*, const char*, ...) {}

}  // namespace

namespace detail {

thread_local std::string last_xmlsec_error;

xmlSecTransformId c14n_transform(std::string_view uri) {
  if (uri == kExclusiveC14n) return xmlSecTransformExclC14NId;
  if (uri == kInclusiveC14n) return xmlSecTransformInclC14NId;
  return nullptr;
}

xmlSecTransformId reference_c14n_transform(std::string_view uri) {
  if (uri == kExclusiveC14nWithComments) return xmlSecTransformExclC14NWithCommentsId;
  if (uri == kInclusiveC14nWithComments) return xmlSecTransformInclC14NWithCommentsId;
  return c14n_transform(uri);
}

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

}  // namespace detail

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
    use_builtin_key_methods();
  });
}

bool is_supported_algorithm(std::string_view uri) {
  return algorithms().contains(uri);
}

std::optional<Rejection> verify_signature(const SignatureParts& parts, EVP_PKEY* key,
                                          const AlgorithmPolicy& policy) {
  ensure_xml_security_initialised();
  return verify_signed_info(parts.signature, parts.document, false, true, key, policy);
}

std::optional<Rejection> verify_whole_document_signature(xmlNode* signature, EVP_PKEY* key,
                                                         const AlgorithmPolicy& policy) {
  if (!xml::is_element(signature, kXmlDsigNs, "Signature")) {
    return Rejection{Reason::signature_missing, "not a ds:Signature"};
  }
  auto checked = check_signed_info(signature, policy, "", false, "", "the whole document");
  if (auto* rejection = std::get_if<Rejection>(&checked)) return *rejection;
  ensure_xml_security_initialised();
  return verify_signed_info(signature, xmlDocGetRootElement(signature->doc), true, true, key,
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
    const auto text = base64(revocation::certificate_der(certificate));
    xmlNewTextChild(x509_data, signature->ns, xml::as_xml("X509Certificate"),
                    xml::as_xml(text.c_str()));
  }
  // The values as the verification computes them: xmlsec's signing context would match the key
  // to the method, build its transforms and resolve the Id again for every notification.
  if (auto problem = detail::sign_signed_info(signature, element, private_key)) {
    return fmt::format("signing failed: {}", *problem);
  }
  return std::nullopt;
}

}  // namespace nqs::xmldsig
