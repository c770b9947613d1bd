// GOST with libgcrypt: curves GOST2012-512-tc26-A, GOST2012-256-A (= TC26 256 A) and
// GOST2001-CryptoPro-A with `(flags gost)`, hashes STRIBOG256/512 and GOSTR3411_94 (the test
// parameter set, which GOST 34.311-95 is). libgcrypt reads numbers big-endian: NCA's
// little-endian keys, digests and signatures are reversed on the way in and out.
#include <gcrypt.h>

#include <algorithm>
#include <mutex>
#include <utility>
#include <vector>

#include "gost/backend.hpp"

namespace nqs::gost {
namespace {

void initialise() {
  static std::once_flag once;
  std::call_once(once, [] {
    gcry_check_version(nullptr);
    gcry_control(GCRYCTL_DISABLE_SECMEM, 0);
    gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
  });
}

const char* curve_name(Curve curve) {
  switch (curve) {
    case Curve::tc26_512_a:
      return "GOST2012-512-tc26-A";
    case Curve::tc26_256_a:
      return "GOST2012-256-A";
    case Curve::cryptopro_a:
      return "GOST2001-CryptoPro-A";
  }
  return "";
}

int md_algorithm(Hash hash) {
  switch (hash) {
    case Hash::streebog256:
      return GCRY_MD_STRIBOG256;
    case Hash::streebog512:
      return GCRY_MD_STRIBOG512;
    case Hash::gost34311_95:
      return GCRY_MD_GOSTR3411_94;
  }
  return 0;
}

Bytes reversed(std::span<const std::uint8_t> bytes) {
  return Bytes(bytes.rbegin(), bytes.rend());
}

struct SexpFree {
  void operator()(gcry_sexp_t sexp) const { gcry_sexp_release(sexp); }
};
using Sexp = std::unique_ptr<std::remove_pointer_t<gcry_sexp_t>, SexpFree>;
struct MpiFree {
  void operator()(gcry_mpi_t mpi) const { gcry_mpi_release(mpi); }
};
using Mpi = std::unique_ptr<std::remove_pointer_t<gcry_mpi_t>, MpiFree>;

Sexp build(const char* format, auto... arguments) {
  gcry_sexp_t out = nullptr;
  if (gcry_sexp_build(&out, nullptr, format, arguments...) != 0) return nullptr;
  return Sexp(out);
}

Sexp digest_sexp(std::span<const std::uint8_t> digest) {
  // GOST reads the hash as a little-endian number.
  const Bytes value = reversed(digest);
  return build("(data(flags gost raw)(value %b))", static_cast<int>(value.size()), value.data());
}

// A big-endian number of exactly `size` bytes from an MPI.
std::optional<Bytes> fixed(gcry_mpi_t mpi, std::size_t size) {
  Bytes out(size);
  std::size_t written = 0;
  if (gcry_mpi_print(GCRYMPI_FMT_USG, out.data(), out.size(), &written, mpi) != 0) {
    return std::nullopt;
  }
  std::rotate(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(written), out.end());
  std::fill(out.begin(), out.end() - static_cast<std::ptrdiff_t>(written), 0);
  return out;
}

// Each thread keeps the handles its digests finished with, a few of each algorithm, reset: a new
// handle costs more than hashing a document (gcry_md_open polls for entropy, getrusage and
// clock included, every time).
class KeptHandles {
 public:
  static constexpr std::size_t kPerAlgorithm = 4;
  ~KeptHandles() {
    for (const auto& [algorithm, handle] : kept_)
      gcry_md_close(handle);
  }
  gcry_md_hd_t take(int algorithm) {
    for (auto at = kept_.begin(); at != kept_.end(); ++at) {
      if (at->first != algorithm) continue;
      gcry_md_hd_t handle = at->second;
      kept_.erase(at);
      return handle;
    }
    gcry_md_hd_t handle = nullptr;
    return gcry_md_open(&handle, algorithm, 0) == 0 ? handle : nullptr;
  }
  void give_back(int algorithm, gcry_md_hd_t handle) {
    if (handle == nullptr) return;
    const auto same = std::count_if(kept_.begin(), kept_.end(),
                                    [&](const auto& kept) { return kept.first == algorithm; });
    if (static_cast<std::size_t>(same) >= kPerAlgorithm) {
      gcry_md_close(handle);
      return;
    }
    gcry_md_reset(handle);
    kept_.emplace_back(algorithm, handle);
  }

 private:
  std::vector<std::pair<int, gcry_md_hd_t>> kept_;
};

KeptHandles& kept_handles() {
  thread_local KeptHandles handles;
  return handles;
}

class GcryptDigest final : public Digest {
 public:
  explicit GcryptDigest(Hash hash)
      : algorithm_(md_algorithm(hash)), handle_(kept_handles().take(algorithm_)) {}
  ~GcryptDigest() override { kept_handles().give_back(algorithm_, handle_); }
  GcryptDigest(const GcryptDigest&) = delete;
  GcryptDigest& operator=(const GcryptDigest&) = delete;
  void update(std::span<const std::uint8_t> data) override {
    gcry_md_write(handle_, data.data(), data.size());
  }
  Bytes finish() override {
    const auto* out = gcry_md_read(handle_, algorithm_);
    return Bytes(out, out + gcry_md_get_algo_dlen(algorithm_));
  }

 private:
  int algorithm_;
  gcry_md_hd_t handle_ = nullptr;
};

class GcryptVerifier final : public Verifier {
 public:
  GcryptVerifier(Sexp key, std::size_t size) : key_(std::move(key)), size_(size) {}
  bool verify(std::span<const std::uint8_t> digest,
              std::span<const std::uint8_t> signature) const override {
    if (signature.size() != 2 * size_) return false;
    // Reversed, the signature is the standard s||r.
    const Bytes standard = reversed(signature);
    auto data = digest_sexp(digest);
    auto value = build("(sig-val(gost(r %b)(s %b)))", static_cast<int>(size_),
                       standard.data() + size_, static_cast<int>(size_), standard.data());
    return data && value && gcry_pk_verify(value.get(), data.get(), key_.get()) == 0;
  }

 private:
  Sexp key_;
  std::size_t size_;
};

class GcryptSigningKey final : public SigningKey {
 public:
  GcryptSigningKey(Sexp key, std::size_t size) : key_(std::move(key)), size_(size) {}
  std::optional<Bytes> sign(std::span<const std::uint8_t> digest) const override {
    auto data = digest_sexp(digest);
    gcry_sexp_t result = nullptr;
    if (!data || gcry_pk_sign(&result, data.get(), key_.get()) != 0) return std::nullopt;
    Sexp owned(result);
    Sexp r_part(gcry_sexp_find_token(result, "r", 0));
    Sexp s_part(gcry_sexp_find_token(result, "s", 0));
    if (!r_part || !s_part) return std::nullopt;
    Mpi r(gcry_sexp_nth_mpi(r_part.get(), 1, GCRYMPI_FMT_USG));
    Mpi s(gcry_sexp_nth_mpi(s_part.get(), 1, GCRYMPI_FMT_USG));
    auto r_bytes = r ? fixed(r.get(), size_) : std::nullopt;
    auto s_bytes = s ? fixed(s.get(), size_) : std::nullopt;
    if (!r_bytes || !s_bytes) return std::nullopt;
    Bytes standard = std::move(*s_bytes);
    standard.insert(standard.end(), r_bytes->begin(), r_bytes->end());
    return reversed(standard);
  }

 private:
  Sexp key_;
  std::size_t size_;
};

class Gcrypt final : public Backend {
 public:
  Gcrypt() { initialise(); }
  std::string_view name() const override { return "libgcrypt"; }
  bool has(Hash) const override { return true; }
  bool has(Curve) const override { return true; }
  std::unique_ptr<Digest> digest(Hash hash) const override {
    return std::make_unique<GcryptDigest>(hash);
  }
  std::unique_ptr<Verifier> verifier(const PublicKey& key) const override {
    const std::size_t size = key.algorithm->size;
    if (key.xy.size() != 2 * size) return nullptr;
    Bytes point{0x04};
    const auto x = reversed(std::span(key.xy).first(size));
    const auto y = reversed(std::span(key.xy).subspan(size));
    point.insert(point.end(), x.begin(), x.end());
    point.insert(point.end(), y.begin(), y.end());
    auto sexp = build("(public-key(ecc(curve %s)(q %b)))", curve_name(key.algorithm->curve),
                      static_cast<int>(point.size()), point.data());
    if (!sexp || !on_curve(key)) return nullptr;
    return std::make_unique<GcryptVerifier>(std::move(sexp), size);
  }
  std::unique_ptr<SigningKey> signing_key(
      const Algorithm& algorithm, std::span<const std::uint8_t> private_key) const override {
    if (private_key.size() != algorithm.size) return nullptr;
    const Bytes d = reversed(private_key);
    auto sexp = build("(private-key(ecc(curve %s)(d %b)))", curve_name(algorithm.curve),
                      static_cast<int>(d.size()), d.data());
    if (!sexp) return nullptr;
    return std::make_unique<GcryptSigningKey>(std::move(sexp), algorithm.size);
  }

  static bool on_curve(const PublicKey& key) {
    gcry_ctx_t context = nullptr;
    if (gcry_mpi_ec_new(&context, nullptr, curve_name(key.algorithm->curve)) != 0) return false;
    const std::size_t size = key.algorithm->size;
    const auto x = reversed(std::span(key.xy).first(size));
    const auto y = reversed(std::span(key.xy).subspan(size));
    gcry_mpi_t mx = nullptr;
    gcry_mpi_t my = nullptr;
    gcry_mpi_scan(&mx, GCRYMPI_FMT_USG, x.data(), x.size(), nullptr);
    gcry_mpi_scan(&my, GCRYMPI_FMT_USG, y.data(), y.size(), nullptr);
    gcry_mpi_point_t point = gcry_mpi_point_set(nullptr, mx, my, GCRYMPI_CONST_ONE);
    const bool ok = gcry_mpi_ec_curve_point(point, context) != 0;
    gcry_mpi_point_release(point);
    gcry_mpi_release(mx);
    gcry_mpi_release(my);
    gcry_ctx_release(context);
    return ok;
  }
};

}  // namespace

const Backend& libgcrypt() {
  static const Gcrypt backend;
  return backend;
}

Bytes hash(Hash hash, std::span<const std::uint8_t> data) {
  auto digest = for_hash(hash).digest(hash);
  digest->update(data);
  return digest->finish();
}

Bytes new_private_key(const Algorithm& algorithm) {
  initialise();
  auto request = build("(genkey(ecc(curve %s)))", curve_name(algorithm.curve));
  gcry_sexp_t generated = nullptr;
  if (!request || gcry_pk_genkey(&generated, request.get()) != 0) return {};
  Sexp owned(generated);
  Sexp d_part(gcry_sexp_find_token(generated, "d", 0));
  Mpi d(d_part ? gcry_sexp_nth_mpi(d_part.get(), 1, GCRYMPI_FMT_USG) : nullptr);
  auto bytes = d ? fixed(d.get(), algorithm.size) : std::nullopt;
  return bytes ? reversed(*bytes) : Bytes{};
}

std::optional<PublicKey> public_key_of(const Algorithm& algorithm,
                                       std::span<const std::uint8_t> private_key) {
  initialise();
  if (private_key.size() != algorithm.size) return std::nullopt;
  gcry_ctx_t context = nullptr;
  if (gcry_mpi_ec_new(&context, nullptr, curve_name(algorithm.curve)) != 0) return std::nullopt;
  const Bytes d_bytes = reversed(private_key);
  gcry_mpi_t d = nullptr;
  gcry_mpi_scan(&d, GCRYMPI_FMT_USG, d_bytes.data(), d_bytes.size(), nullptr);
  gcry_mpi_point_t generator = gcry_mpi_ec_get_point("g", context, 1);
  gcry_mpi_point_t q = gcry_mpi_point_new(0);
  gcry_mpi_ec_mul(q, d, generator, context);
  Mpi x(gcry_mpi_new(0));
  Mpi y(gcry_mpi_new(0));
  const bool affine = gcry_mpi_ec_get_affine(x.get(), y.get(), q, context) == 0;
  gcry_mpi_point_release(q);
  gcry_mpi_point_release(generator);
  gcry_mpi_release(d);
  gcry_ctx_release(context);
  auto x_bytes = affine ? fixed(x.get(), algorithm.size) : std::nullopt;
  auto y_bytes = affine ? fixed(y.get(), algorithm.size) : std::nullopt;
  if (!x_bytes || !y_bytes) return std::nullopt;
  PublicKey key{&algorithm, reversed(*x_bytes)};
  const Bytes y_le = reversed(*y_bytes);
  key.xy.insert(key.xy.end(), y_le.begin(), y_le.end());
  return key;
}

}  // namespace nqs::gost
