// GOST primitives on one core, each operation with both libraries (Google Benchmark): what
// gost::for_curve() and gost::for_hash() choose is the faster of each pair measured here. A
// document from a new GOST signer costs its digests, one verify of the document and one of each
// certificate link not yet trusted (intake_bench measures the whole). Reported, never asserted.
// verify_alone.hpp's RSA_verify is deprecated in OpenSSL 3 (this file uses its GOST half).
#define OPENSSL_SUPPRESS_DEPRECATED
#include <benchmark/benchmark.h>
#include <openssl/x509.h>

#include "gost/backend.hpp"
#include "gost/openssl_keys.hpp"
#include "verify_alone.hpp"

namespace {

using namespace nqs::gost;

const Backend* backend_named(int index) {
  return index == 0 ? gost_engine() : &libgcrypt();
}

using nqs::bench::gost_material;

// range(0): the library (0 gost-engine, 1 libgcrypt); range(1): the algorithm (0 2015/512,
// 1 2015/256, 2 34.310-2004).
void BM_GostVerify(benchmark::State& state) {
  const Backend* backend = backend_named(static_cast<int>(state.range(0)));
  if (backend == nullptr) return state.SkipWithError("gost-engine is not installed");
  const auto& m = gost_material(static_cast<std::size_t>(state.range(1)));
  auto verifier = backend->verifier(m.public_key);
  for (auto _ : state) {
    bool ok = verifier->verify(m.digest, m.signature);
    if (!ok) state.SkipWithError("did not verify");
    benchmark::DoNotOptimize(ok);
  }
  state.SetLabel(std::string(backend->name()) + " " +
                 std::string(algorithms()[state.range(1)].name));
  state.SetItemsProcessed(state.iterations());
}

// A public key made ready to verify (a new signer's, once a document): its point read and
// checked to be on the curve.
void BM_GostKeyRead(benchmark::State& state) {
  const Backend* backend = backend_named(static_cast<int>(state.range(0)));
  if (backend == nullptr) return state.SkipWithError("gost-engine is not installed");
  const auto& m = gost_material(static_cast<std::size_t>(state.range(1)));
  for (auto _ : state) {
    auto verifier = backend->verifier(m.public_key);
    if (!verifier) state.SkipWithError("the key was not read");
    benchmark::DoNotOptimize(verifier);
  }
  state.SetLabel(std::string(backend->name()) + " " +
                 std::string(algorithms()[state.range(1)].name));
  state.SetItemsProcessed(state.iterations());
}

void BM_GostSign(benchmark::State& state) {
  const Backend* backend = backend_named(static_cast<int>(state.range(0)));
  if (backend == nullptr) return state.SkipWithError("gost-engine is not installed");
  const auto& m = gost_material(static_cast<std::size_t>(state.range(1)));
  auto signer = backend->signing_key(algorithms()[state.range(1)], m.private_key);
  for (auto _ : state) {
    auto signature = signer->sign(m.digest);
    benchmark::DoNotOptimize(signature);
  }
  state.SetLabel(std::string(backend->name()) + " " +
                 std::string(algorithms()[state.range(1)].name));
  state.SetItemsProcessed(state.iterations());
}

// range(1): 0 Streebog-512, 1 GOST 34.311-95; a 4 KiB document.
void BM_GostDigest4KiB(benchmark::State& state) {
  const Backend* backend = backend_named(static_cast<int>(state.range(0)));
  const Hash h = state.range(1) == 0 ? Hash::streebog512 : Hash::gost34311_95;
  if (backend == nullptr || !backend->has(h)) return state.SkipWithError("not in this library");
  const Bytes data(4096, 'x');
  for (auto _ : state) {
    auto digest = backend->digest(h);
    digest->update(data);
    auto out = digest->finish();
    benchmark::DoNotOptimize(out);
  }
  state.SetLabel(std::string(backend->name()) + " " + std::string(name(h)));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(data.size()));
}

// A GOST certificate link seen before, through OpenSSL (X509_verify: the DER of the signed part,
// its digest, the remembered signature): what a CA link or a CRL costs each document after the
// first (a new link costs its verify above).
void BM_GostCertificateLinkRemembered(benchmark::State& state) {
  register_with_openssl();
  auto ca_key = generate_private_key(algorithms()[0]);
  std::unique_ptr<X509, decltype(&X509_free)> certificate(X509_new(), X509_free);
  X509_set_version(certificate.get(), X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(certificate.get()), 7);
  X509_gmtime_adj(X509_getm_notBefore(certificate.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(certificate.get()), 3600);
  X509_set_pubkey(certificate.get(), generate_private_key(algorithms()[0]).get());
  X509_sign(certificate.get(), ca_key.get(), nullptr);
  for (auto _ : state) {
    int ok = X509_verify(certificate.get(), ca_key.get());
    if (ok != 1) state.SkipWithError("did not verify");
    benchmark::DoNotOptimize(ok);
  }
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

BENCHMARK(BM_GostVerify)
    ->ArgsProduct({{0, 1}, {0, 1, 2}})
    ->ArgNames({"lib", "alg"})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_GostKeyRead)
    ->ArgsProduct({{0, 1}, {0, 1, 2}})
    ->ArgNames({"lib", "alg"})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_GostSign)
    ->ArgsProduct({{0, 1}, {0, 1, 2}})
    ->ArgNames({"lib", "alg"})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_GostDigest4KiB)
    ->ArgsProduct({{0, 1}, {0, 1}})
    ->ArgNames({"lib", "hash"})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_GostCertificateLinkRemembered)->Unit(benchmark::kMicrosecond);
BENCHMARK_MAIN();
