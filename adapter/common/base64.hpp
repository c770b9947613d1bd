#pragma once
// Base64 as RFC 4648 writes it (no line breaks), by OpenSSL's EVP_EncodeBlock.
#include <openssl/evp.h>

#include <algorithm>
#include <string>
#include <string_view>

namespace nqs {

inline std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                     reinterpret_cast<const unsigned char*>(bytes.data()),
                                     static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(std::max(length, 0)));
  return out;
}

}  // namespace nqs
