#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <xmlsec/crypto.h>
#include <xmlsec/templates.h>
#include <xmlsec/xmldsig.h>

#include <string>
#include <vector>

#include "common/base64.hpp"
#include "gost/openssl_keys.hpp"
#include "revocation/x509_facts.hpp"
#include "xml/xml.hpp"
#include "xmldsig/gost_xmldsig.hpp"
#include "xmldsig/signature.hpp"
#include "xmldsig/signature_internal.hpp"

namespace nqs::xmldsig {

using detail::adopt_key;
using detail::check_signed_info;
using detail::CheckedSignedInfo;
using detail::decode_base64;
using detail::ds_child;
using detail::DsigContextFree;
using detail::last_xmlsec_error;
using detail::mismatch;
using detail::RegisteredId;
using detail::verify_signed_info;

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
  ensure_xml_security_initialised();
  return verify_signed_info(parts.signature, parts.body, false, false, key, policy);
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
  const auto text = base64(revocation::certificate_der(certificate));
  xmlNode* identifier =
      xmlNewTextChild(token, security->ns, xml::as_xml("KeyIdentifier"), xml::as_xml(text.c_str()));
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
