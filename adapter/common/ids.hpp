#pragma once

#include <string>
#include <string_view>

namespace nqs {

// Bytes in lowercase hex, two digits each.
std::string to_hex(std::string_view bytes);

// SHA-256 of bytes: its 32 bytes (none when OpenSSL could not hash), and in lowercase hex.
std::string sha256(std::string_view bytes);
std::string sha256_hex(std::string_view bytes);

// A name-based UUID (RFC 4122 version 5, SHA-1) in the adapter's own namespace: the same name
// always gives the same id, so a redelivered input produces the same command ids.
std::string uuid_for(std::string_view name);

}  // namespace nqs
