#pragma once

#include <libxml/tree.h>
#include <openssl/evp.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlsec.h>

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/reason.hpp"
#include "xml/xml.hpp"
#include "xmldsig/signature.hpp"

// What the signature files share (signature.cpp, signature_profile.cpp, transport_signature.cpp):
// xmlsec's error, contexts, keys and IDs, and the checks of ds:SignedInfo both profiles make.
namespace nqs::xmldsig::detail {

// The last xmlsec error on this thread, for details; xmlsec prints nothing.
extern thread_local std::string last_xmlsec_error;

xmlSecTransformId c14n_transform(std::string_view uri);

// The reference's canonicalization may keep comments (NCALayer and KalkanCrypt sign with
// inclusive c14n #WithComments): comments are then signed content like any other.
xmlSecTransformId reference_c14n_transform(std::string_view uri);

inline xmlNode* ds_child(const xmlNode* parent, std::string_view name) {
  return xml::child_element(parent, kXmlDsigNs, name);
}

std::optional<std::string> decode_base64(std::string_view text);

inline Rejection mismatch(std::string detail) {
  return Rejection{Reason::signature_reference_mismatch, std::move(detail)};
}

inline Rejection not_verified(std::string_view detail) {
  return Rejection{Reason::signature_invalid,
                   std::string("the signature could not be verified: ").append(detail)};
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

xmlSecKeyPtr adopt_key(EVP_PKEY* key);

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
    const std::string& uri_expected, const std::string& target);

// Verifies `signature`, whose ds:SignedInfo check_signed_info accepted, with `key` (never
// anything in ds:KeyInfo): its one reference, to `referenced` (the element the profile found,
// never looked up by ID) or, when `whole_document`, to the whole document (URI=""), through
// enveloped-signature (only when `enveloped`) and one canonicalization, then the signature value
// over ds:SignedInfo. Only the allowed methods (signed_info_verification.cpp).
std::optional<Rejection> verify_signed_info(xmlNode* signature, const xmlNode* referenced,
                                            bool whole_document, bool enveloped, EVP_PKEY* key,
                                            const AlgorithmPolicy& policy);

// Fills in a ds:Signature made from xmlsec's template, enveloped in `referenced` and referring to
// it: the reference's digest, then the signature value over ds:SignedInfo with `key`, each
// computed as verify_signed_info computes it (signed_info_verification.cpp). A problem in words,
// or nothing.
std::optional<std::string> sign_signed_info(xmlNode* signature, const xmlNode* referenced,
                                            EVP_PKEY* key);

}  // namespace nqs::xmldsig::detail
