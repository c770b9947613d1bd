#pragma once
// The digests and signature values of XML-DSig's methods by their URIs, for the verification and
// the signing of ds:SignedInfo (signed_info_verification.cpp).
#include <openssl/evp.h>

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "common/reason.hpp"
#include "common/result.hpp"
#include "gost/backend.hpp"

namespace nqs::xmldsig::detail {

// The digest of `data` by the digest method `uri`; nothing when the method is not supported.
std::optional<gost::Bytes> digest_of(std::string_view uri, std::string_view data);

// Whether `signature_value` is `key`'s signature of `signed_info` (canonical) by `method`; an
// explanation when the method and the key do not go together.
std::variant<bool, Rejection> signature_holds(std::string_view method, EVP_PKEY* key,
                                              std::string_view signed_info,
                                              std::string_view signature_value);

// `key`'s signature of `signed_info` (canonical) by `method`, as XML-DSig writes it: GOST's as
// NCA writes it (the backend's), ECDSA's r and s each of the order's size, RSA's as it is; or why
// the method and the key do not go together.
Result<std::string> signature_value_of(std::string_view method, EVP_PKEY* key,
                                       std::string_view signed_info);

}  // namespace nqs::xmldsig::detail
