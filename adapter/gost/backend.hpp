#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include "gost/algorithms.hpp"

// The GOST arithmetic, from two libraries: libgcrypt (every curve and hash NCA uses) and
// gost-engine (the TC26 and CryptoPro curves and Streebog, several times faster for signatures,
// but without the 34.311-95 S-boxes). Both take and give bytes in NCA's order (algorithms.hpp).
// bench/gost_bench measures each operation on both; for_curve() and for_hash() pick the faster
// correct one.
namespace nqs::gost {

class Digest {
 public:
  virtual ~Digest() = default;
  virtual void update(std::span<const std::uint8_t> data) = 0;
  // The hash output, as is (a DigestValue).
  virtual Bytes finish() = 0;
};

// A public key ready to verify signatures; safe to share between threads.
class Verifier {
 public:
  virtual ~Verifier() = default;
  // `digest` is the hash output of the signed bytes, `signature` NCA's reversed s||r.
  [[nodiscard]] virtual bool verify(std::span<const std::uint8_t> digest,
                                    std::span<const std::uint8_t> signature) const = 0;
};

// A private key ready to sign; safe to share between threads.
class SigningKey {
 public:
  virtual ~SigningKey() = default;
  // NCA's reversed s||r, or nothing if the library failed.
  [[nodiscard]] virtual std::optional<Bytes> sign(std::span<const std::uint8_t> digest) const = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  [[nodiscard]] virtual std::string_view name() const = 0;
  [[nodiscard]] virtual bool has(Hash hash) const = 0;
  [[nodiscard]] virtual bool has(Curve curve) const = 0;
  [[nodiscard]] virtual std::unique_ptr<Digest> digest(Hash hash) const = 0;
  // Nothing when the key is not a point of its curve.
  [[nodiscard]] virtual std::unique_ptr<Verifier> verifier(const PublicKey& key) const = 0;
  // `private_key` little-endian, `algorithm.size` bytes; nothing when it is not a valid key.
  [[nodiscard]] virtual std::unique_ptr<SigningKey> signing_key(
      const Algorithm& algorithm, std::span<const std::uint8_t> private_key) const = 0;
};

const Backend& libgcrypt();
// gost-engine from Debian's libengine-gost-openssl; nullptr where it is not installed.
const Backend* gost_engine();

// The faster of the two where both are correct (bench/gost_bench): gost-engine for signatures on
// every curve, libgcrypt for the hashes (equally fast for Streebog, the only one for 34.311-95).
const Backend& for_curve(Curve curve);
const Backend& for_hash(Hash hash);

Bytes hash(Hash hash, std::span<const std::uint8_t> data);
// A new random private key (libgcrypt), little-endian: test PKIs and benchmarks.
Bytes new_private_key(const Algorithm& algorithm);
// The public key of a private key (libgcrypt), for checking a key against its certificate.
std::optional<PublicKey> public_key_of(const Algorithm& algorithm,
                                       std::span<const std::uint8_t> private_key);

}  // namespace nqs::gost
