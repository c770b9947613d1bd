// The evidence archive keeps the presented certificates as PEM: revocation::pem_certificate
// writes exactly what OpenSSL's PEM_write_bio writes, for every length a line can end at, and
// what it writes reads back as the same certificate.
#include "revocation/x509_facts.hpp"

#include <gtest/gtest.h>
#include <openssl/pem.h>

#include <memory>
#include <string>

#include "revocation_support.hpp"

namespace nqs {
namespace {

std::string openssl_pem(const std::string& der) {
  std::unique_ptr<BIO, decltype(&BIO_free)> out(BIO_new(BIO_s_mem()), &BIO_free);
  if (PEM_write_bio(out.get(), "CERTIFICATE", "",
                    reinterpret_cast<const unsigned char*>(der.data()),
                    static_cast<long>(der.size())) <= 0) {
    return {};
  }
  char* data = nullptr;
  const long length = BIO_get_mem_data(out.get(), &data);
  return {data, static_cast<std::size_t>(length)};
}

TEST(PemCertificate, WritesWhatOpensslWritesAtEveryLineEnd) {
  std::string der;
  for (std::size_t length = 1; length <= 200; ++length) {
    der.push_back(static_cast<char>((length * 37) & 0xFF));
    ASSERT_EQ(revocation::pem_certificate(der), openssl_pem(der)) << length << " bytes";
  }
}

TEST(PemCertificate, ReadsBackAsTheSameCertificate) {
  const auto root = test::root("/C=KZ/O=NQS PEM Test/CN=Root CA", test::rsa_key());
  const auto der = revocation::certificate_der(root.certificate.get());
  ASSERT_FALSE(der.empty());
  const auto pem = revocation::pem_certificate(der);
  EXPECT_EQ(pem, openssl_pem(der));
  std::unique_ptr<BIO, decltype(&BIO_free)> in(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  std::unique_ptr<X509, decltype(&X509_free)> read(
      PEM_read_bio_X509(in.get(), nullptr, nullptr, nullptr), &X509_free);
  ASSERT_NE(read, nullptr);
  EXPECT_EQ(X509_cmp(read.get(), root.certificate.get()), 0);
}

TEST(PemCertificate, NothingForNoBytes) {
  EXPECT_EQ(revocation::pem_certificate(""), "");
}

}  // namespace
}  // namespace nqs
