#include "common/ids.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <array>

namespace nqs {
namespace {

// The adapter's UUID namespace (itself a version-5 UUID of "nqs-adapter" in the URL namespace).
constexpr std::array<unsigned char, 16> kNamespace{0x5c, 0x1e, 0x3b, 0x8e, 0x6a, 0x2d, 0x5f, 0x41,
                                                   0x9b, 0x07, 0x31, 0xd2, 0x6e, 0x4a, 0x80, 0x13};

// SHA-256 and SHA-1 fetched once: OpenSSL 3 looks an algorithm up by name for each use of
// EVP_sha256() (a lock and a hash table), and these hash every input and every command id.
const EVP_MD* sha256_md() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}
const EVP_MD* sha1() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA1", nullptr);
  return md;
}

}  // namespace

std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(2 * bytes.size(), '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const auto byte = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = kDigits[byte >> 4];
    out[2 * i + 1] = kDigits[byte & 0x0f];
  }
  return out;
}

std::string sha256(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (sha256_md() == nullptr ||
      EVP_Digest(bytes.data(), bytes.size(), digest, &length, sha256_md(), nullptr) != 1) {
    return {};
  }
  return {reinterpret_cast<const char*>(digest), length};
}

std::string sha256_hex(std::string_view bytes) {
  return to_hex(sha256(bytes));
}

std::string uuid_for(std::string_view name) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_MD_CTX* context = EVP_MD_CTX_new();
  EVP_DigestInit_ex(context, sha1(), nullptr);
  EVP_DigestUpdate(context, kNamespace.data(), kNamespace.size());
  EVP_DigestUpdate(context, name.data(), name.size());
  EVP_DigestFinal_ex(context, digest, &length);
  EVP_MD_CTX_free(context);
  digest[6] = static_cast<unsigned char>((digest[6] & 0x0f) | 0x50);  // version 5
  digest[8] = static_cast<unsigned char>((digest[8] & 0x3f) | 0x80);  // RFC 4122 variant
  const std::string h = to_hex({reinterpret_cast<const char*>(digest), 16});
  return fmt::format("{}-{}-{}-{}-{}", h.substr(0, 8), h.substr(8, 4), h.substr(12, 4),
                     h.substr(16, 4), h.substr(20, 12));
}

}  // namespace nqs
