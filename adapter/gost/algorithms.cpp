#include "gost/algorithms.hpp"

#include <array>

namespace nqs::gost {
namespace {

constexpr std::array<Algorithm, 3> kAlgorithms{{
    {"GOST 34.10-2015/512", "nca-gost2015-512", "1.2.398.3.10.1.1.2.2", "1.2.398.3.10.1.1.2.2.1",
     "1.2.398.3.10.1.3.3", "1.2.398.3.10.1.1.2.3.2", "nca-gost2015-512-sign", kGost2015_512Uri,
     kStreebog512Uri, Curve::tc26_512_a, Hash::streebog512, 64},
    {"GOST 34.10-2015/256", "nca-gost2015-256", "1.2.398.3.10.1.1.2.1", "1.2.398.3.10.1.1.2.1.1",
     "1.2.398.3.10.1.3.2", "1.2.398.3.10.1.1.2.3.1", "nca-gost2015-256-sign", kGost2015_256Uri,
     kStreebog256Uri, Curve::tc26_256_a, Hash::streebog256, 32},
    {"GOST 34.310-2004", "nca-gost34310-2004", "1.2.398.3.10.1.1.1.1", "1.2.398.3.10.1.1.1.1.1",
     "1.2.398.3.10.1.3.1.1.0", "1.2.398.3.10.1.1.1.2", "nca-gost34310-2004-sign", kGost34310Uri,
     kGost34311Uri, Curve::cryptopro_a, Hash::gost34311_95, 32},
}};

template <typename Field>
const Algorithm* find(Field field, std::string_view value) {
  for (const auto& algorithm : kAlgorithms) {
    if (algorithm.*field == value) return &algorithm;
  }
  return nullptr;
}

}  // namespace

std::span<const Algorithm> algorithms() {
  return kAlgorithms;
}

const Algorithm* by_signature_uri(std::string_view uri) {
  return find(&Algorithm::signature_uri, uri);
}

std::optional<Hash> hash_by_uri(std::string_view uri) {
  if (const auto* algorithm = find(&Algorithm::digest_uri, uri)) return algorithm->hash;
  return std::nullopt;
}

std::string_view digest_uri(Hash hash) {
  for (const auto& algorithm : kAlgorithms) {
    if (algorithm.hash == hash) return algorithm.digest_uri;
  }
  return {};
}

std::size_t digest_size(Hash hash) {
  return hash == Hash::streebog512 ? 64 : 32;
}

std::string_view name(Hash hash) {
  switch (hash) {
    case Hash::streebog256:
      return "GOST 34.11-2015/256";
    case Hash::streebog512:
      return "GOST 34.11-2015/512";
    case Hash::gost34311_95:
      return "GOST 34.311-95";
  }
  return "?";
}

std::string_view name(Curve curve) {
  switch (curve) {
    case Curve::tc26_256_a:
      return "TC26 256 paramSetA";
    case Curve::tc26_512_a:
      return "TC26 512 paramSetA";
    case Curve::cryptopro_a:
      return "CryptoPro-A";
  }
  return "?";
}

}  // namespace nqs::gost
