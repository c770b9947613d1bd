#include "revocation/crl_signatures.hpp"

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <new>
#include <vector>

namespace nqs::revocation {
namespace {

// A CRL entry as OpenSSL's look-up sees it (x_crl.c, crl_set_issuers and def_crl_lookup).
struct Entry {
  const ASN1_INTEGER* serial = nullptr;
  X509_REVOKED* revoked = nullptr;
  const GENERAL_NAMES* issuer = nullptr;  // the certificate issuer in force (indirect CRLs)
  bool issuer_unreadable = false;         // matches every name: fail closed
  bool remove_from_crl = false;
};

bool serial_before(const Entry& a, const Entry& b) {
  return ASN1_INTEGER_cmp(a.serial, b.serial) < 0;
}

// What each CRL object carries (its X509_CRL_METHOD data): its entries by serial number, and the
// public keys its signature verified with.
struct CrlMemory {
  // The list of entries it was made from, and their number: a CRL changed since (which the
  // adapter never does) is read and verified as it is now.
  const STACK_OF(X509_REVOKED) * revoked = nullptr;
  int count = 0;
  std::vector<Entry> entries;           // sorted by serial number; fixed once made
  std::vector<GENERAL_NAMES*> issuers;  // owned
  std::mutex mutex;
  std::vector<EVP_PKEY*> verified_with;  // owned references; under `mutex`

  CrlMemory() = default;
  CrlMemory(const CrlMemory&) = delete;
  CrlMemory& operator=(const CrlMemory&) = delete;
  ~CrlMemory() {
    for (auto* names : issuers)
      GENERAL_NAMES_free(names);
    for (auto* key : verified_with)
      EVP_PKEY_free(key);
  }
};

// A CRL verified with a few keys at most (its issuer's, as each chain presents it).
constexpr std::size_t kMaxKeysRemembered = 8;

std::atomic<std::uint64_t> remembered{0};

CrlMemory* memory_of(X509_CRL* crl) {
  return static_cast<CrlMemory*>(X509_CRL_get_meth_data(crl));
}

// The memory of `crl` while its entries are those it was made from; else nullptr.
CrlMemory* current_memory_of(X509_CRL* crl) {
  CrlMemory* memory = memory_of(crl);
  const STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl);
  if (memory == nullptr || memory->revoked != revoked ||
      memory->count != sk_X509_REVOKED_num(revoked)) {
    return nullptr;
  }
  return memory;
}

// `unreadable` is set, for good, by an entry whose reasonCode cannot be read.
Entry entry_of(X509_REVOKED* revoked, const GENERAL_NAMES* issuer, bool& unreadable) {
  int found = -1;
  auto* reason = static_cast<ASN1_ENUMERATED*>(
      X509_REVOKED_get_ext_d2i(revoked, NID_crl_reason, &found, nullptr));
  if (reason == nullptr && found != -1) unreadable = true;
  Entry entry{X509_REVOKED_get0_serialNumber(revoked), revoked, issuer, unreadable, false};
  entry.remove_from_crl =
      reason != nullptr && ASN1_ENUMERATED_get(reason) == CRL_REASON_REMOVE_FROM_CRL;
  ASN1_ENUMERATED_free(reason);
  return entry;
}

// Called by OpenSSL once a CRL is parsed (x_crl.c, ASN1_OP_D2I_POST). OpenSSL stops reading
// entries at the first certificateIssuer or reasonCode it cannot read (the entries after it then
// name the CRL's issuer); here every entry from there on matches every issuer: whatever OpenSSL
// would find revoked is found revoked.
int crl_init(X509_CRL* crl) {
  try {
    auto memory = std::make_unique<CrlMemory>();
    memory->verified_with.reserve(kMaxKeysRemembered);
    STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl);
    memory->revoked = revoked;
    memory->count = sk_X509_REVOKED_num(revoked);
    memory->entries.reserve(static_cast<std::size_t>(std::max(memory->count, 0)));
    const GENERAL_NAMES* in_force = nullptr;  // an indirect CRL's certificate issuer carries on
    bool unreadable = false;
    ERR_set_mark();  // an unreadable extension is this CRL's, not an error of the caller's parse
    for (int i = 0; i < memory->count; ++i) {
      X509_REVOKED* entry = sk_X509_REVOKED_value(revoked, i);
      int found = -1;
      std::unique_ptr<GENERAL_NAMES, void (*)(GENERAL_NAMES*)> names(
          static_cast<GENERAL_NAMES*>(
              X509_REVOKED_get_ext_d2i(entry, NID_certificate_issuer, &found, nullptr)),
          GENERAL_NAMES_free);
      if (names) {
        memory->issuers.push_back(names.get());
        in_force = names.release();
      } else if (found != -1) {
        unreadable = true;
      }
      memory->entries.push_back(entry_of(entry, in_force, unreadable));
    }
    ERR_pop_to_mark();
    std::stable_sort(memory->entries.begin(), memory->entries.end(), serial_before);
    X509_CRL_set_meth_data(crl, memory.release());
    return 1;
  } catch (const std::bad_alloc&) {
    return 0;
  }
}

int crl_free(X509_CRL* crl) {
  delete memory_of(crl);
  X509_CRL_set_meth_data(crl, nullptr);
  return 1;
}

// crl_revoked_issuer_match of x_crl.c: an entry names the certificate of issuer `name` (none: any
// issuer), by the CRL's issuer or, in an indirect CRL, by the certificate issuer in force.
bool issuer_matches(X509_CRL* crl, const X509_NAME* name, const Entry& entry) {
  if (entry.issuer_unreadable) return true;
  if (entry.issuer == nullptr) {
    return name == nullptr || X509_NAME_cmp(name, X509_CRL_get_issuer(crl)) == 0;
  }
  if (name == nullptr) name = X509_CRL_get_issuer(crl);
  for (int i = 0; i < sk_GENERAL_NAME_num(entry.issuer); ++i) {
    const GENERAL_NAME* general = sk_GENERAL_NAME_value(entry.issuer, i);
    if (general->type == GEN_DIRNAME && X509_NAME_cmp(name, general->d.directoryName) == 0) {
      return true;
    }
  }
  return false;
}

int found(X509_REVOKED** out, const Entry& entry) {
  if (out != nullptr) *out = entry.revoked;
  return entry.remove_from_crl ? 2 : 1;
}

// A CRL made in this process (X509_CRL_new) was never parsed and has no memory, and one changed
// since it was parsed has outgrown it: its entries are read as they are.
int lookup_unparsed(X509_CRL* crl, X509_REVOKED** out, const ASN1_INTEGER* serial,
                    const X509_NAME* issuer) {
  STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl);
  bool unreadable = false;
  for (int i = 0; i < sk_X509_REVOKED_num(revoked); ++i) {
    X509_REVOKED* candidate = sk_X509_REVOKED_value(revoked, i);
    if (ASN1_INTEGER_cmp(X509_REVOKED_get0_serialNumber(candidate), serial) != 0) continue;
    ERR_set_mark();
    const Entry entry = entry_of(candidate, nullptr, unreadable);
    ERR_pop_to_mark();
    if (issuer_matches(crl, issuer, entry)) return found(out, entry);
  }
  return 0;
}

int crl_lookup(X509_CRL* crl, X509_REVOKED** out, const ASN1_INTEGER* serial,
               const X509_NAME* issuer) {
  const CrlMemory* memory = current_memory_of(crl);
  if (memory == nullptr) return lookup_unparsed(crl, out, serial, issuer);
  Entry wanted;
  wanted.serial = serial;
  const auto [first, last] =
      std::equal_range(memory->entries.begin(), memory->entries.end(), wanted, serial_before);
  for (auto entry = first; entry != last; ++entry) {
    if (issuer_matches(crl, issuer, *entry)) return found(out, *entry);
  }
  return 0;
}

// The check OpenSSL's own method makes (def_crl_verify): the signature over the CRL's tbsCertList
// as it was received. X509_CRL_INFO keeps the encoding it was read from, so the CRL's encoding
// holds those bytes; they are verified as they are, held by an ASN.1 ANY (whose encoding is
// those bytes), without reading the entries a second time.
int verify_in_full(X509_CRL* crl, EVP_PKEY* key) {
  const ASN1_BIT_STRING* signature = nullptr;
  const X509_ALGOR* algorithm = nullptr;
  X509_CRL_get0_signature(crl, &signature, &algorithm);
  unsigned char* der = nullptr;
  const int length = i2d_X509_CRL(crl, &der);
  if (length <= 0) return -1;
  std::unique_ptr<unsigned char, void (*)(unsigned char*)> owned(
      der, [](unsigned char* bytes) { OPENSSL_free(bytes); });
  // The outer SEQUENCE's header, then the tbsCertList, a SEQUENCE: its header and content.
  const unsigned char* at = der;
  long content = 0;
  int tag = 0;
  int kind = 0;
  if ((ASN1_get_object(&at, &content, &tag, &kind, length) & 0x80) != 0) return -1;
  const unsigned char* tbs = at;
  const long left = length - (at - der);
  if ((ASN1_get_object(&at, &content, &tag, &kind, left) & 0x80) != 0 || tag != V_ASN1_SEQUENCE) {
    return -1;
  }
  const long tbs_length = (at - tbs) + content;
  if (tbs_length > left) return -1;
  std::unique_ptr<ASN1_TYPE, void (*)(ASN1_TYPE*)> any(ASN1_TYPE_new(), ASN1_TYPE_free);
  ASN1_STRING* bytes = ASN1_STRING_type_new(V_ASN1_SEQUENCE);
  if (!any || bytes == nullptr || ASN1_STRING_set(bytes, tbs, static_cast<int>(tbs_length)) != 1) {
    ASN1_STRING_free(bytes);
    return -1;
  }
  ASN1_TYPE_set(any.get(), V_ASN1_SEQUENCE, bytes);
  return ASN1_item_verify(ASN1_ITEM_rptr(ASN1_ANY), algorithm, signature, any.get(), key);
}

// Under memory.mutex.
bool verified_with(const CrlMemory& memory, const EVP_PKEY* key) {
  // A comparison of keys of different kinds says so on the error stack: not the caller's error.
  ERR_set_mark();
  const bool known = std::any_of(memory.verified_with.begin(), memory.verified_with.end(),
                                 [&](const EVP_PKEY* kept) { return EVP_PKEY_eq(kept, key) == 1; });
  ERR_pop_to_mark();
  return known;
}

int crl_verify(X509_CRL* crl, EVP_PKEY* key) {
  CrlMemory* memory = key != nullptr ? current_memory_of(crl) : nullptr;
  if (memory != nullptr) {
    std::lock_guard lock(memory->mutex);
    if (verified_with(*memory, key)) {
      remembered.fetch_add(1, std::memory_order_relaxed);
      return 1;
    }
  }
  const int verified = verify_in_full(crl, key);
  if (verified == 1 && memory != nullptr) {
    std::lock_guard lock(memory->mutex);
    // Room reserved when the CRL was parsed: nothing here allocates.
    if (memory->verified_with.size() < kMaxKeysRemembered && !verified_with(*memory, key) &&
        EVP_PKEY_up_ref(key) == 1) {
      memory->verified_with.push_back(key);
    }
  }
  return verified;
}

// Kept for the life of the process: OpenSSL uses it for every CRL parsed after.
X509_CRL_METHOD* method = nullptr;

}  // namespace

void remember_crl_signatures() {
  static std::once_flag once;
  std::call_once(once, [] {
    method = X509_CRL_METHOD_new(crl_init, crl_free, crl_lookup, crl_verify);
    if (method != nullptr) X509_CRL_set_default_method(method);  // else only slower
  });
}

const X509_CRL_METHOD* crl_signatures_method() {
  return method;
}

std::uint64_t crl_signatures_remembered() {
  return remembered.load(std::memory_order_relaxed);
}

}  // namespace nqs::revocation
