#pragma once

#include <openssl/asn1.h>

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>
#include <utility>

// The two DER pieces GOST keys are written with, NCA's and the Russian encodings alike.
namespace nqs::gost::der {

// An OCTET STRING holding `bytes`, as DER allocated by OpenSSL: hand it to a *_set0_param
// function, or OPENSSL_free it.
std::pair<unsigned char*, int> octet_string(std::span<const std::uint8_t> bytes);

// Key parameters: a SEQUENCE of the object identifiers given (dotted; empty ones left out).
ASN1_STRING* oid_sequence(std::initializer_list<std::string_view> oids);

}  // namespace nqs::gost::der
