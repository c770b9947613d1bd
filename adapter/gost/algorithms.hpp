#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

// The GOST algorithms of NCA RK (messages.md, "Signature profile"): which key, curve, hash,
// object identifiers and XMLDSig URIs belong together. Data only; the arithmetic is in the
// back ends (backend.hpp).
namespace nqs::gost {

using Bytes = std::vector<std::uint8_t>;

enum class Hash {
  streebog256,   // GOST R 34.11-2012 (34.11-2015), 256 bits
  streebog512,   // GOST R 34.11-2012 (34.11-2015), 512 bits
  gost34311_95,  // GOST 34.311-95 = GOST R 34.11-94 with the test parameter set S-boxes
};

enum class Curve {
  tc26_256_a,   // id-tc26-gost-3410-2012-256-paramSetA (RFC 7836)
  tc26_512_a,   // id-tc26-gost-3410-12-512-paramSetA (RFC 7836)
  cryptopro_a,  // id-GostR3410-2001-CryptoPro-A-ParamSet (RFC 4357), GOST 34.310-2004
};

// One kind of NCA key: the key algorithm and everything a signature made with it uses.
struct Algorithm {
  std::string_view name;           // for messages: "GOST 34.10-2015/512"
  std::string_view short_name;     // the OpenSSL short name of the key OID
  std::string_view key_oid;        // SubjectPublicKeyInfo and PrivateKeyInfo algorithm
  std::string_view curve_oid;      // first key parameter
  std::string_view hash_oid;       // second key parameter (optional in a certificate)
  std::string_view signature_oid;  // signatures of certificates and CRLs
  std::string_view signature_short_name;
  std::string_view signature_uri;  // XMLDSig SignatureMethod
  std::string_view digest_uri;     // XMLDSig DigestMethod of the same hash
  Curve curve;
  Hash hash;
  std::size_t size;  // bytes of a coordinate, of a private key, of r and of s
};

inline constexpr std::string_view kGost2015_512Uri =
    "urn:ietf:params:xml:ns:pkigovkz:xmlsec:algorithms:gostr34102015-gostr34112015-512";
inline constexpr std::string_view kGost2015_256Uri =
    "urn:ietf:params:xml:ns:pkigovkz:xmlsec:algorithms:gostr34102015-gostr34112015-256";
inline constexpr std::string_view kGost34310Uri =
    "http://www.w3.org/2001/04/xmldsig-more#gost34310-gost34311";
inline constexpr std::string_view kStreebog512Uri =
    "urn:ietf:params:xml:ns:pkigovkz:xmlsec:algorithms:gostr34112015-512";
inline constexpr std::string_view kStreebog256Uri =
    "urn:ietf:params:xml:ns:pkigovkz:xmlsec:algorithms:gostr34112015-256";
inline constexpr std::string_view kGost34311Uri =
    "http://www.w3.org/2001/04/xmldsig-more#gost34311";

// GOST 34.10-2015/512, GOST 34.10-2015/256 and GOST 34.310-2004, in that order.
std::span<const Algorithm> algorithms();
const Algorithm* by_signature_uri(std::string_view uri);
std::optional<Hash> hash_by_uri(std::string_view uri);
std::string_view digest_uri(Hash hash);
std::size_t digest_size(Hash hash);
std::string_view name(Hash hash);
std::string_view name(Curve curve);

// The byte orders of NCA's GOST (checked on its test certificates and Kalkan-made XML): a public
// key is x||y, each little-endian; a private key is little-endian; a signature is the standard
// s||r (big-endian) with all its bytes reversed; a digest is the hash output as is.
struct PublicKey {
  const Algorithm* algorithm = nullptr;
  Bytes xy;  // 2 * size bytes
};

}  // namespace nqs::gost
