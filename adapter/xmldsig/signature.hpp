#pragma once

#include <libxml/tree.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "common/reason.hpp"

namespace nqs::xmldsig {

inline constexpr std::string_view kXmlDsigNs = "http://www.w3.org/2000/09/xmldsig#";
inline constexpr std::string_view kEnvelopedSignature =
    "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
inline constexpr std::string_view kExclusiveC14n = "http://www.w3.org/2001/10/xml-exc-c14n#";
inline constexpr std::string_view kInclusiveC14n =
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
inline constexpr std::string_view kExclusiveC14nWithComments =
    "http://www.w3.org/2001/10/xml-exc-c14n#WithComments";
inline constexpr std::string_view kInclusiveC14nWithComments =
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments";
inline constexpr std::string_view kRsaSha256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
inline constexpr std::string_view kEcdsaSha256 =
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256";
inline constexpr std::string_view kSha256 = "http://www.w3.org/2001/04/xmlenc#sha256";

// Makes sure libxml2 and xmlsec (OpenSSL back end) are initialised, once per process, with their
// error output captured instead of printed.
void ensure_xml_security_initialised();

// Whether xmlsec here can use an algorithm URI (signature or digest method).
bool is_supported_algorithm(std::string_view uri);

// Signature and digest methods allowed (trust.allowed_algorithms).
struct AlgorithmPolicy {
  std::set<std::string, std::less<>> allowed;
};

// The parts of an enveloped signature that passed the profile of messages.md.
struct SignatureParts {
  xmlNode* document = nullptr;   // the signed document element
  std::string id;                // its Id
  xmlNode* signature = nullptr;  // its last child, ds:Signature
  std::string leaf_der;          // the first ds:X509Certificate: the signer's
  std::vector<std::string> intermediates_der;
};

// The wrapping scan, right after parsing and before anything else reads the message:
// - no Id value is given on two elements and no xml:id is used anywhere: an element found by the
//   same Id as another is how signature wrapping works (a signed copy moved to the header, a
//   ds:Object or a sibling);
// - every ds:Signature outside soap:Header is a child of the one element under data, and there
//   is only one.
std::optional<Rejection> check_wrapping(xmlDoc* doc);

// Checks the signature profile of messages.md on `document` (the one element under `data`):
// exactly one ds:Signature, its last child; exactly one ds:Reference, to the document's Id;
// transforms enveloped-signature then exclusive or inclusive c14n (with or without comments);
// the document's Id given
// nowhere else; no xml:id; no other ds:Signature outside soap:Header; methods allowed by
// `policy`. Returns the parts to verify, or the rejection.
std::variant<SignatureParts, Rejection> check_signature_profile(xmlNode* document,
                                                                const AlgorithmPolicy& policy);

// Verifies the signature value and the digest of the document with `key` (the public key of the
// already verified signer certificate): the one reference, to the document the profile found
// (never looked up by ID).
std::optional<Rejection> verify_signature(const SignatureParts& parts, EVP_PKEY* key,
                                          const AlgorithmPolicy& policy);

// A standalone XML document signed as NCALayer signs one: an enveloped `signature` whose one
// reference is the whole document (URI=""), with the same methods, transforms and checks as a
// bus document. Not a bus profile (check_signature_profile refuses URI=""): for checking what
// NCALayer and KalkanCrypt produce.
std::optional<Rejection> verify_whole_document_signature(xmlNode* signature, EVP_PKEY* key,
                                                         const AlgorithmPolicy& policy);

inline constexpr std::string_view kWsseNs =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
inline constexpr std::string_view kWsuNs =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd";

// The transport signature of messages.md: soap:Header/wsse:Security/ds:Signature over soap:Body
// (by its wsu:Id, exclusive c14n), the certificate in
// ds:KeyInfo/wsse:SecurityTokenReference/wsse:KeyIdentifier.
struct TransportParts {
  xmlNode* body = nullptr;
  std::string id;
  xmlNode* signature = nullptr;
  std::string certificate_der;
};

// Nothing when the message has no wsse:Security; the parts when it has one in the profile; or why
// it does not fit (exactly one wsse:Security with exactly one ds:Signature, one reference to the
// Body's wsu:Id, exclusive c14n only, allowed methods).
std::variant<std::optional<TransportParts>, Rejection> check_transport_profile(
    xmlDoc* doc, const AlgorithmPolicy& policy);
std::optional<Rejection> verify_transport_signature(const TransportParts& parts, EVP_PKEY* key,
                                                    const AlgorithmPolicy& policy);
// Signs soap:Body (giving it wsu:Id="body") into soap:Header/wsse:Security, as a sender would,
// with the key's own methods (GOST, else RSA-SHA256 and SHA-256).
std::optional<std::string> sign_transport(xmlDoc* doc, EVP_PKEY* private_key, X509* certificate);

// How to sign (tests, and the adapter's own notifications).
struct SigningOptions {
  std::string c14n = std::string(kExclusiveC14n);  // of SignedInfo
  std::string reference_c14n;                      // the reference's; empty: the same as c14n
  std::string signature_method = std::string(kRsaSha256);
  std::string digest_method = std::string(kSha256);
};

// Adds an enveloped signature as the last child of `element` (whose Id attribute is referenced),
// with the certificate (and any intermediates) in ds:KeyInfo/ds:X509Data. Returns a problem in
// words, or nothing on success.
std::optional<std::string> sign_enveloped(xmlNode* element, EVP_PKEY* private_key,
                                          const std::vector<X509*>& certificates,
                                          const SigningOptions& options = {});

}  // namespace nqs::xmldsig
