#pragma once

#include <openssl/evp.h>
#include <xmlsec/keysdata.h>
#include <xmlsec/transforms.h>

#include <string_view>

// NCA's GOST signature and digest methods as xmlsec transforms (messages.md, "Signature
// profile"): their names in xmlsec's ds:Signature templates, and for sign_transport, which signs
// through xmlsec as a sender would (the transforms hash with GOST and sign with an NCA GOST key,
// gost/openssl_keys.hpp, handed over in an xmlsec key of their own). The adapter's notifications
// are signed, and every signature verified, without xmlsec's contexts
// (signed_info_verification.cpp): these transforms refuse to verify.
namespace nqs::xmldsig {

// Registers the transforms with xmlsec, once (ensure_xml_security_initialised calls it).
void register_gost_transforms();

// The transform of a GOST SignatureMethod or DigestMethod URI; nullptr for any other URI.
xmlSecTransformId gost_transform(std::string_view uri);

// xmlsec key data holding an NCA GOST EVP_PKEY (public, or private to sign), for an xmlSecKey;
// nullptr for another key.
xmlSecKeyDataPtr gost_key_data(EVP_PKEY* key);

}  // namespace nqs::xmldsig
