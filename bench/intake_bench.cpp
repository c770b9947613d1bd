// Intake throughput on one core (Google Benchmark): a typical signed application (RSA-2048)
// from bytes to a verified, mapped command. Figures are reported, never asserted; README.md,
// "Performance", quotes them with the machine's own RSA-2048 verify rate beside them.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include "intake_support.hpp"

namespace {

using nqs::test::Envelope;

const std::string& signed_application() {
  static const std::string bytes = Envelope("voucher-application").sign("individual-sign").bytes();
  return bytes;
}

void run_intake(benchmark::State& state, std::size_t cache_size) {
  // With a cache of 0 every document pays for certificate decoding and chain verification.
  nqs::test::IntakeOptions options;
  options.certificate_cache_size = cache_size;
  auto intake = nqs::test::make_intake(options);
  const auto& bytes = signed_application();
  const auto now = nqs::test::test_now();
  for (auto _ : state) {
    auto outcome = intake->process(bytes, now);
    if (!std::holds_alternative<nqs::intake::Accepted>(outcome)) {
      state.SkipWithError("the benchmark document was rejected");
      break;
    }
    benchmark::DoNotOptimize(outcome);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes.size()));
  state.counters["cached_chains"] = static_cast<double>(intake->trust().cached());
}

void BM_IntakeSignedApplication(benchmark::State& state) {
  run_intake(state, 10000);
}
void BM_IntakeSignedApplicationNoCertificateCache(benchmark::State& state) {
  run_intake(state, 0);
}

// The floor under any verification: one RSA-2048 PKCS#1 v1.5 SHA-256 verify, in process.
void BM_Rsa2048VerifyAlone(benchmark::State& state) {
  auto& pki = nqs::test::TestPki::get();
  EVP_PKEY* key = pki.key("individual-sign");
  const std::string message(256, 'x');
  std::vector<unsigned char> signature(512);
  std::size_t length = signature.size();
  EVP_MD_CTX* sign = EVP_MD_CTX_new();
  EVP_DigestSignInit(sign, nullptr, EVP_sha256(), nullptr, key);
  EVP_DigestSign(sign, signature.data(), &length,
                 reinterpret_cast<const unsigned char*>(message.data()), message.size());
  EVP_MD_CTX_free(sign);
  EVP_PKEY* public_key = X509_get0_pubkey(pki.certificate("individual-sign"));
  for (auto _ : state) {
    EVP_MD_CTX* verify = EVP_MD_CTX_new();
    EVP_DigestVerifyInit(verify, nullptr, EVP_sha256(), nullptr, public_key);
    const int ok =
        EVP_DigestVerify(verify, signature.data(), length,
                         reinterpret_cast<const unsigned char*>(message.data()), message.size());
    EVP_MD_CTX_free(verify);
    benchmark::DoNotOptimize(ok);
  }
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

BENCHMARK(BM_IntakeSignedApplication)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_IntakeSignedApplicationNoCertificateCache)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Rsa2048VerifyAlone)->Unit(benchmark::kMicrosecond);
BENCHMARK_MAIN();
