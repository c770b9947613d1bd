// What a signer's certificate says once its chain is verified: who signed (identity_of) and what
// the evidence keeps of it (VerifiedCertificate: serial, issuer, key, validity).
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>

#include "xmldsig/trust_store.hpp"

namespace nqs::xmldsig {
namespace {

using revocation::name_text;

std::optional<std::string> entry_text(const X509_NAME_ENTRY* entry) {
  unsigned char* utf8 = nullptr;
  const int length = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry));
  if (length < 0) return std::nullopt;
  std::string out(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(length));
  OPENSSL_free(utf8);
  return out;
}

bool is_twelve_digits(std::string_view text) {
  return text.size() == 12 &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The issuer's name as text (RFC 2253). New signers' certificates nearly all name one issuer, the
// CA's subject: a thread remembers the last issuer it rendered, by its DER encoding, which holds
// all the text says. Rendering a name cost 0.7% of a new signer's intake.
std::string issuer_text(const X509_NAME* issuer) {
  const unsigned char* der = nullptr;
  std::size_t length = 0;
  if (X509_NAME_get0_der(issuer, &der, &length) != 1 || der == nullptr || length == 0) {
    return name_text(issuer);
  }
  thread_local std::string last_der;
  thread_local std::string last_text;
  const std::string_view encoded(reinterpret_cast<const char*>(der), length);
  if (encoded != last_der) {
    last_der.clear();  // matches nothing until the text is the new issuer's
    last_text = name_text(issuer);
    last_der.assign(encoded);
  }
  return last_text;
}

}  // namespace

SignerIdentity identity_of(X509* certificate) {
  SignerIdentity identity;
  const X509_NAME* subject = X509_get_subject_name(certificate);
  identity.subject = name_text(subject);
  for (int i = 0; i < X509_NAME_entry_count(subject); ++i) {
    const X509_NAME_ENTRY* entry = X509_NAME_get_entry(subject, i);
    const int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(entry));
    // Only these two carry an identifier: the others are not converted.
    if (nid != NID_serialNumber && nid != NID_organizationalUnitName) continue;
    auto text = entry_text(entry);
    if (!text) continue;
    // NCA RK subjects: serialNumber=IIN<12 digits>; a legal entity's also OU=BIN<12 digits>.
    if (nid == NID_serialNumber && text->starts_with("IIN") && is_twelve_digits(text->substr(3))) {
      identity.iin = text->substr(3);
    } else if (nid == NID_organizationalUnitName && text->starts_with("BIN") &&
               is_twelve_digits(text->substr(3))) {
      identity.bin = text->substr(3);
    }
  }
  identity.key_usage_present = (X509_get_extension_flags(certificate) & EXFLAG_KUSAGE) != 0;
  identity.non_repudiation =
      identity.key_usage_present && (X509_get_key_usage(certificate) & KU_NON_REPUDIATION) != 0;
  if (auto* usages = static_cast<EXTENDED_KEY_USAGE*>(
          X509_get_ext_d2i(certificate, NID_ext_key_usage, nullptr, nullptr))) {
    for (int i = 0; i < sk_ASN1_OBJECT_num(usages); ++i) {
      char oid[128];
      OBJ_obj2txt(oid, sizeof oid, sk_ASN1_OBJECT_value(usages, i), 1);
      identity.extended_key_usages.emplace_back(oid);
    }
    EXTENDED_KEY_USAGE_free(usages);
  }
  return identity;
}

VerifiedCertificate::VerifiedCertificate(X509* certificate, SignerIdentity identity,
                                         Instant not_before, Instant not_after)
    : identity_(std::move(identity)),
      serial_(revocation::serial_hex(certificate)),
      issuer_(issuer_text(X509_get_issuer_name(certificate))),
      not_before_(not_before),
      not_after_(not_after) {
  EVP_PKEY* key = X509_get0_pubkey(certificate);
  if (key != nullptr) {
    EVP_PKEY_up_ref(key);
    public_key_.reset(key, EVP_PKEY_free);
  }
}

}  // namespace nqs::xmldsig
