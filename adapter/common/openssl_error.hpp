#pragma once

#include <openssl/err.h>

#include <string>

namespace nqs {

// The last OpenSSL error of this thread in words, and the thread's error queue emptied.
inline std::string openssl_error() {
  const unsigned long code = ERR_peek_last_error();
  char text[256] = "unknown error";
  if (code != 0) ERR_error_string_n(code, text, sizeof text);
  ERR_clear_error();
  return text;
}

}  // namespace nqs
