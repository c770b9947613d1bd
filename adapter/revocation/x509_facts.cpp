#include "revocation/x509_facts.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <ctime>
#include <memory>

#include "revocation/crl_signatures.hpp"

namespace nqs::revocation {
namespace {

constexpr std::size_t kMaxUrls = 8;

void add_http_uris(const GENERAL_NAMES* names, std::vector<std::string>& out) {
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type != GEN_URI) continue;
    const ASN1_IA5STRING* uri = name->d.uniformResourceIdentifier;
    std::string text(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                     static_cast<std::size_t>(ASN1_STRING_length(uri)));
    if (text.starts_with("http://") && out.size() < kMaxUrls &&
        std::find(out.begin(), out.end(), text) == out.end()) {
      out.push_back(std::move(text));
    }
  }
}

std::vector<std::string> points_of(CRL_DIST_POINTS* points) {
  ERR_clear_error();  // an absent or unreadable extension leaves an error behind
  std::vector<std::string> out;
  for (int i = 0; points != nullptr && i < sk_DIST_POINT_num(points); ++i) {
    const DIST_POINT* point = sk_DIST_POINT_value(points, i);
    if (point->distpoint != nullptr && point->distpoint->type == 0) {
      add_http_uris(point->distpoint->name.fullname, out);
    }
  }
  CRL_DIST_POINTS_free(points);
  return out;
}

std::optional<CrlNumber> number_of(ASN1_INTEGER* value) {
  if (value == nullptr) {
    ERR_clear_error();
    return std::nullopt;
  }
  BIGNUM* number = ASN1_INTEGER_to_BN(value, nullptr);
  ASN1_INTEGER_free(value);
  char* text = number != nullptr ? BN_bn2dec(number) : nullptr;
  std::optional<CrlNumber> out;
  if (text != nullptr && text[0] != '-') out = CrlNumber{text};
  OPENSSL_free(text);
  BN_free(number);
  ERR_clear_error();
  return out;
}

// A BIO that appends what is written to the std::string its data points at. X509_NAME_print_ex
// writes a name a character at a time: through a memory BIO, made for each name, every character
// grew and cleared its buffer (2 to 3 us a name, and each new signer's subject and issuer are
// rendered for its evidence).
int append_to_string(BIO* bio, const char* data, int length) {
  auto* out = static_cast<std::string*>(BIO_get_data(bio));
  if (out == nullptr || length < 0) return -1;
  try {
    out->append(data, static_cast<std::size_t>(length));
  } catch (...) {
    return -1;  // nothing may be thrown through OpenSSL's frames
  }
  return length;
}

BIO_METHOD* string_sink() {
  static BIO_METHOD* const method = [] {
    const int index = BIO_get_new_index();
    BIO_METHOD* made =
        index == -1 ? nullptr : BIO_meth_new(index | BIO_TYPE_SOURCE_SINK, "std::string");
    if (made != nullptr &&
        (BIO_meth_set_write(made, append_to_string) != 1 || BIO_meth_set_create(made, [](BIO* bio) {
                                                              BIO_set_init(bio, 1);
                                                              return 1;
                                                            }) != 1)) {
      BIO_meth_free(made);
      made = nullptr;
    }
    return made;
  }();
  return method;
}

}  // namespace

std::string name_text(const X509_NAME* name) {
  constexpr unsigned long kRfc2253 = XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB;
  thread_local const std::unique_ptr<BIO, decltype(&BIO_free)> sink(
      string_sink() != nullptr ? BIO_new(string_sink()) : nullptr, BIO_free);
  if (sink == nullptr) {
    std::unique_ptr<BIO, decltype(&BIO_free)> memory(BIO_new(BIO_s_mem()), BIO_free);
    X509_NAME_print_ex(memory.get(), name, 0, kRfc2253);
    char* data = nullptr;
    const long length = BIO_get_mem_data(memory.get(), &data);
    return length > 0 ? std::string(data, static_cast<std::size_t>(length)) : std::string();
  }
  std::string out;
  BIO_set_data(sink.get(), &out);
  X509_NAME_print_ex(sink.get(), name, 0, kRfc2253);
  BIO_set_data(sink.get(), nullptr);
  return out;
}

std::optional<Instant> to_instant(const ASN1_TIME* time) {
  std::tm parts{};
  if (time == nullptr || ASN1_TIME_to_tm(time, &parts) != 1) return std::nullopt;
  return std::chrono::time_point_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::from_time_t(timegm(&parts)));
}

std::optional<std::int64_t> checked_seconds(const ASN1_TIME* time) {
  if (time == nullptr) return std::nullopt;
  const int length = ASN1_STRING_length(time);
  switch (ASN1_STRING_type(time)) {
    case V_ASN1_UTCTIME:
      if (length != 13) return std::nullopt;
      break;
    case V_ASN1_GENERALIZEDTIME:
      if (length != 15) return std::nullopt;
      break;
    default:
      return std::nullopt;
  }
  const unsigned char* text = ASN1_STRING_get0_data(time);
  if (!std::all_of(text, text + length - 1, [](unsigned char c) { return c >= '0' && c <= '9'; }) ||
      text[length - 1] != 'Z') {
    return std::nullopt;
  }
  std::tm parts{};
  if (ASN1_TIME_to_tm(time, &parts) != 1) return std::nullopt;
  return static_cast<std::int64_t>(timegm(&parts));
}

std::string serial_hex(const X509* certificate) {
  BIGNUM* serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(certificate), nullptr);
  char* hex = BN_bn2hex(serial);
  std::string text = hex != nullptr ? hex : "";
  OPENSSL_free(hex);
  BN_free(serial);
  return text;
}

std::string pem_certificate(std::string_view der) {
  // What PEM_write_bio writes, without its BIO, its 8 KiB buffer and the cleansing of both
  // (a new signer's evidence paid more for them than for the encoding): the base64 of each
  // 48 bytes on a line of its own.
  static constexpr std::string_view kHeader = "-----BEGIN CERTIFICATE-----\n";
  static constexpr std::string_view kFooter = "-----END CERTIFICATE-----\n";
  constexpr std::size_t kLineBytes = 48;
  if (der.empty()) return {};
  const std::size_t lines = (der.size() + kLineBytes - 1) / kLineBytes;
  std::string out;
  out.resize(kHeader.size() + 4 * ((der.size() + 2) / 3) + lines + kFooter.size() + 1);
  auto* at = reinterpret_cast<unsigned char*>(out.data());
  at = std::copy(kHeader.begin(), kHeader.end(), at);
  const auto* from = reinterpret_cast<const unsigned char*>(der.data());
  for (std::size_t done = 0; done < der.size(); done += kLineBytes) {
    const auto length = static_cast<int>(std::min(kLineBytes, der.size() - done));
    at += EVP_EncodeBlock(at, from + done, length);  // writes a NUL after, overwritten next
    *at++ = '\n';
  }
  at = std::copy(kFooter.begin(), kFooter.end(), at);
  out.resize(static_cast<std::size_t>(at - reinterpret_cast<unsigned char*>(out.data())));
  return out;
}

std::string certificate_der(X509* certificate) {
  unsigned char* der = nullptr;
  const int length = i2d_X509(certificate, &der);
  if (length <= 0) return {};
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(length));
  OPENSSL_free(der);
  return out;
}

std::vector<std::string> crl_distribution_points(X509* certificate) {
  return points_of(static_cast<CRL_DIST_POINTS*>(
      X509_get_ext_d2i(certificate, NID_crl_distribution_points, nullptr, nullptr)));
}

std::vector<std::string> freshest_crl_points(X509* certificate) {
  return points_of(static_cast<CRL_DIST_POINTS*>(
      X509_get_ext_d2i(certificate, NID_freshest_crl, nullptr, nullptr)));
}

std::vector<std::string> ocsp_responders(X509* certificate) {
  std::vector<std::string> out;
  auto* access = static_cast<AUTHORITY_INFO_ACCESS*>(
      X509_get_ext_d2i(certificate, NID_info_access, nullptr, nullptr));
  ERR_clear_error();
  for (int i = 0; access != nullptr && i < sk_ACCESS_DESCRIPTION_num(access); ++i) {
    const ACCESS_DESCRIPTION* description = sk_ACCESS_DESCRIPTION_value(access, i);
    if (OBJ_obj2nid(description->method) != NID_ad_OCSP) continue;
    GENERAL_NAMES* one = sk_GENERAL_NAME_new_null();
    sk_GENERAL_NAME_push(one, description->location);
    add_http_uris(one, out);
    sk_GENERAL_NAME_free(one);
  }
  AUTHORITY_INFO_ACCESS_free(access);
  return out;
}

std::shared_ptr<X509_CRL> parse_crl(const std::string& bytes) {
  remember_crl_signatures();
  BIO* bio = BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size()));
  X509_CRL* crl = PEM_read_bio_X509_CRL(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (crl == nullptr) {
    ERR_clear_error();
    const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
    crl = d2i_X509_CRL(nullptr, &data, static_cast<long>(bytes.size()));
  }
  if (crl == nullptr) {
    ERR_clear_error();
    return nullptr;
  }
  return {crl, X509_CRL_free};
}

std::string crl_to_der(X509_CRL* crl) {
  unsigned char* der = nullptr;
  const int length = i2d_X509_CRL(crl, &der);
  if (length <= 0) return {};
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(length));
  OPENSSL_free(der);
  return out;
}

CrlFacts facts_of(X509_CRL* crl) {
  CrlFacts facts;
  facts.issuer = name_text(X509_CRL_get_issuer(crl));
  facts.this_update = to_instant(X509_CRL_get0_lastUpdate(crl));
  facts.next_update = to_instant(X509_CRL_get0_nextUpdate(crl));
  facts.number = number_of(
      static_cast<ASN1_INTEGER*>(X509_CRL_get_ext_d2i(crl, NID_crl_number, nullptr, nullptr)));
  // A delta CRL by the extension's presence, whatever its value.
  facts.delta = X509_CRL_get_ext_by_NID(crl, NID_delta_crl, -1) >= 0;
  facts.delta_base = number_of(
      static_cast<ASN1_INTEGER*>(X509_CRL_get_ext_d2i(crl, NID_delta_crl, nullptr, nullptr)));
  facts.freshest = points_of(
      static_cast<CRL_DIST_POINTS*>(X509_CRL_get_ext_d2i(crl, NID_freshest_crl, nullptr, nullptr)));
  ERR_clear_error();
  return facts;
}

}  // namespace nqs::revocation
