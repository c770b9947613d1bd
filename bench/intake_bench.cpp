// Intake throughput on one core (Google Benchmark): a typical signed application (RSA-2048)
// from bytes to a verified, mapped command. Figures are reported, never asserted; README.md,
// "Performance", quotes them with the machine's own RSA-2048 verify rate beside them.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include <boost/json/parse.hpp>

#include "intake_support.hpp"
#include "notify/outbound.hpp"

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

// The adapter's own side: one ApplicationRefused built from its mapping, validated against its
// schema and signed (RSA-2048, exclusive c14n, SHA-256, the chain in ds:X509Data).
void BM_NotificationBuildAndSign(benchmark::State& state) {
  const std::string pki = NQS_TEST_PKI_DIR;
  auto signer = nqs::notify::load_signer(pki + "/adapter-sign.key", pki + "/adapter-chain.pem");
  nqs::configuration::Diagnostics diagnostics;
  std::vector<std::shared_ptr<const nqs::notify::OutboundMapping>> mappings{
      nqs::notify::load_outbound_mapping(
          nqs::test::source_path("mappings/outbound/application-refused.yaml"), diagnostics)};
  const nqs::notify::NotificationBuilder builder(std::move(mappings), std::move(signer).value(),
                                                 {});
  const nqs::domain::NotificationOut refusal{"ApplicationRefused",
                                             boost::json::parse(R"({"applicationId":
        "0b5e1c2a-0c43-4d2e-9a61-5f2f3e0a7b10", "iin": "850101300124", "stage": "automatic",
        "reasons": ["not_registered_unemployed", "no_quota_left"]})")
                                                 .as_object()};
  const auto now = *nqs::parse_instant("2025-09-01T12:00:00+05:00");
  for (auto _ : state) {
    auto built = builder.build(refusal, "3c2b1a09-8f7e-4d6c-9b5a-4e3d2c1b0a98",
                               "8c0e3d5e-6f7a-4a53-9d40-1d0b6f0c2a11", now);
    if (!built) state.SkipWithError(built.error().message.c_str());
    benchmark::DoNotOptimize(built);
  }
}

void BM_Rsa2048SignAlone(benchmark::State& state) {
  const std::string pki = NQS_TEST_PKI_DIR;
  auto signer = nqs::notify::load_signer(pki + "/adapter-sign.key", pki + "/adapter-chain.pem");
  const std::string digest(32, 'x');
  for (auto _ : state) {
    EVP_PKEY_CTX* context = EVP_PKEY_CTX_new(signer.value().key.get(), nullptr);
    EVP_PKEY_sign_init(context);
    EVP_PKEY_CTX_set_signature_md(context, EVP_sha256());
    unsigned char signature[512];
    std::size_t length = sizeof signature;
    EVP_PKEY_sign(context, signature, &length,
                  reinterpret_cast<const unsigned char*>(digest.data()), digest.size());
    EVP_PKEY_CTX_free(context);
    benchmark::DoNotOptimize(signature);
  }
}

BENCHMARK(BM_IntakeSignedApplication)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_NotificationBuildAndSign)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Rsa2048SignAlone)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_IntakeSignedApplicationNoCertificateCache)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Rsa2048VerifyAlone)->Unit(benchmark::kMicrosecond);
BENCHMARK_MAIN();
