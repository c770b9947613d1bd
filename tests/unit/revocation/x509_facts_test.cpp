// The evidence archive keeps the presented certificates as PEM: revocation::pem_certificate
// writes exactly what OpenSSL's PEM_write_bio writes, for every length a line can end at, and
// what it writes reads back as the same certificate. It names signers and issuers as RFC 2253
// text: revocation::name_text writes what X509_NAME_print_ex writes into a memory BIO.
#include "revocation/x509_facts.hpp"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <thread>

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

std::string openssl_name_text(const X509_NAME* name) {
  BIO* out = BIO_new(BIO_s_mem());
  X509_NAME_print_ex(out, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  return test::text_of(out);
}

// Escapes (RFC 2253's specials, a leading '#' and space, a trailing space), UTF-8 kept as is, a
// multi-valued RDN, and the reversed order of RDNs (and of the values inside one).
std::unique_ptr<X509_NAME, decltype(&X509_NAME_free)> awkward_name() {
  std::unique_ptr<X509_NAME, decltype(&X509_NAME_free)> name(X509_NAME_new(), &X509_NAME_free);
  auto add = [&](const char* field, const std::string& value, int set) {
    X509_NAME_add_entry_by_txt(name.get(), field, MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(value.data()),
                               static_cast<int>(value.size()), -1, set);
  };
  add("C", "KZ", 0);
  add("O", "Too, \"Quoted\" + <Co>; Ltd ", 0);
  add("CN", "\xd0\x98\xd0\x92\xd0\x90\xd0\x9d\xd0\x9e\xd0\x92 \xd0\x98\xd0\x92\xd0\x90\xd0\x9d", 0);
  add("serialNumber", "IIN850101300124", -1);  // in the same RDN as CN
  add("OU", "#1 unit", 0);
  add("OU", " spaced", 0);
  return name;
}

TEST(NameText, WritesWhatOpensslWritesIntoAMemoryBio) {
  const auto name = awkward_name();
  const auto text = revocation::name_text(name.get());
  EXPECT_EQ(text, openssl_name_text(name.get()));
  EXPECT_EQ(text,
            "OU=\\ spaced,OU=\\#1 unit,serialNumber=IIN850101300124+"
            "CN=\xd0\x98\xd0\x92\xd0\x90\xd0\x9d\xd0\x9e\xd0\x92 \xd0\x98\xd0\x92\xd0\x90\xd0\x9d,"
            "O=Too\\, \\\"Quoted\\\" \\+ \\<Co\\>\\; Ltd\\ ,C=KZ");
  // Again on the same thread (the sink is kept) and on another: each text is the name's alone.
  EXPECT_EQ(revocation::name_text(name.get()), text);
  std::string elsewhere;
  std::thread([&] { elsewhere = revocation::name_text(name.get()); }).join();
  EXPECT_EQ(elsewhere, text);
  const auto empty =
      std::unique_ptr<X509_NAME, decltype(&X509_NAME_free)>(X509_NAME_new(), &X509_NAME_free);
  EXPECT_EQ(revocation::name_text(empty.get()), "");
}

}  // namespace
}  // namespace nqs
