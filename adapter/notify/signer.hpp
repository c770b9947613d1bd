#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "xmldsig/signature.hpp"

namespace nqs::notify {

// The adapter's signing key and its certificate chain.
struct Signer {
  std::shared_ptr<EVP_PKEY> key;
  std::vector<std::shared_ptr<X509>> certificates;  // the adapter's first, then its CAs
};

// signing.key (unencrypted PEM) and signing.certificate (PEM: the adapter's certificate, then its
// CAs): the key must be the first certificate's.
Result<Signer> load_signer(const std::filesystem::path& key,
                           const std::filesystem::path& certificates);

// signing.pkcs12: the key and its chain as NCA RK delivers them, a password-protected PKCS#12
// (NCA's own use 3DES for the key and RC2-40 for the certificates, which OpenSSL 3 decrypts only
// with its legacy provider, loaded here into a library context of its own). GOST keys are read
// from their PrivateKeyInfo by the adapter's GOST methods; RSA and EC keys by OpenSSL.
Result<Signer> load_pkcs12_signer(const std::filesystem::path& file, const std::string& password);

// The signer as the evidence archive names it in the records of what the adapter signs (its
// notifications, its seals): JSON {subject, serial, issuer} of its certificate, and the
// certificates as PEM, its own first.
struct SignerEvidence {
  std::string signer_json;
  std::string chain_pem;
};
SignerEvidence signer_evidence(const Signer& signer);

// How a notification is signed with `key`: a GOST key in the profile NCALayer and KalkanCrypt
// produce (inclusive c14n of SignedInfo; enveloped, then inclusive c14n #WithComments on the
// reference; the key's GOST methods), so that NCALayer-based systems verify it; RSA and ECDSA with
// SHA-256 and exclusive c14n.
xmldsig::SigningOptions signing_options(EVP_PKEY* key);

}  // namespace nqs::notify
