// What a verified certificate says of itself: its issuer is its own, however the certificates
// before it on the thread were issued (a thread remembers the last issuer's name as text).
#include <gtest/gtest.h>

#include <string>

#include "pki/test_ca.hpp"
#include "revocation/x509_facts.hpp"
#include "xmldsig/trust_store.hpp"

namespace nqs::xmldsig {
namespace {

TEST(VerifiedCertificate, NamesEachCertificatesOwnIssuer) {
  const auto key = test::rsa_key();
  const test::Ca first = test::root("/C=KZ/O=First/CN=FIRST CA", key);
  const test::Ca second = test::root("/C=KZ/O=Second/CN=SECOND CA", key);
  // The same attributes in another order: an encoding of the same length, another name.
  const test::Ca reordered = test::root("/CN=FIRST CA/O=First/C=KZ", key);
  int checked = 0;
  for (const test::Ca* ca : {&first, &first, &second, &first, &reordered, &second, &second}) {
    const auto leaf = test::issue("/C=KZ/CN=SIGNER/serialNumber=IIN850101300124", key,
                                  "sign_individual", ca->certificate, ca->key);
    const VerifiedCertificate verified(leaf.get(), SignerIdentity{}, Instant{}, Instant{});
    EXPECT_EQ(verified.issuer(),
              revocation::name_text(X509_get_subject_name(ca->certificate.get())));
    ++checked;
  }
  EXPECT_EQ(checked, 7);
  EXPECT_NE(revocation::name_text(X509_get_subject_name(first.certificate.get())),
            revocation::name_text(X509_get_subject_name(reordered.certificate.get())));
}

}  // namespace
}  // namespace nqs::xmldsig
