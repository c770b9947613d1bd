// Intake throughput on one core (Google Benchmark): a typical signed application (RSA-2048, and
// GOST 34.10-2015/512 as NCALayer signs it) from bytes to a verified, mapped command. Figures are
// reported, never asserted; README.md, "Performance", quotes them with the machine's own RSA-2048
// verify rate beside them.
// RSA_verify (verify_alone.hpp), deprecated in OpenSSL 3, is the RSA operation beneath the EVP
// methods the adapter remembers signatures in: the floor BM_Rsa2048VerifyAlone times.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <filesystem>
#include <fstream>
#include <map>

#include "common/cpu_time.hpp"
#include "common/files.hpp"
#include "intake_support.hpp"
#include "notify/outbound.hpp"
#include "revocation/x509_facts.hpp"
#include "test_ca.hpp"
#include "verify_alone.hpp"

namespace {

using nqs::test::Envelope;

const std::string& signed_application() {
  static const std::string bytes = Envelope("voucher-application").sign("individual-sign").bytes();
  return bytes;
}

// As NCALayer signs: GOST 34.10-2015/512, inclusive c14n, the reference #WithComments.
const std::string& gost_signed_application() {
  static const std::string bytes = [] {
    return Envelope("voucher-application")
        .sign_exactly("gost-individual-sign", nqs::test::nca_layer_profile())
        .bytes();
  }();
  return bytes;
}

// An issuing CA of the test PKI ("issuing-ca", "gost-issuing-ca"), to issue and revoke with.
nqs::test::Ca test_ca(const std::string& name) {
  auto& pki = nqs::test::TestPki::get();
  return {std::shared_ptr<X509>(X509_dup(pki.certificate(name)), X509_free),
          std::shared_ptr<EVP_PKEY>(pki.key(name), [](EVP_PKEY*) {}),
          {}};
}

// Applications from applicants never seen before, each with a GOST 34.10-2015/512 certificate of
// its own under the test GOST issuing CA, as NCALayer signs: each document is processed once.
constexpr int kNewGostSigners = 400;

// `set` as for the RSA applicants below.
std::vector<std::string> make_gost_new_signer_applications(int set) {
  // The GOST methods first: a GOST key read before them is not one the signer can use.
  nqs::xmldsig::ensure_xml_security_initialised();
  const auto issuing = test_ca("gost-issuing-ca");
  const auto kalkan = nqs::test::nca_layer_profile();
  const auto subject = "/C=KZ/CN=IVANOV IVAN " + std::to_string(set) +
                       "/serialNumber=IIN850101300124/SN=IVANOV/GN=IVAN";
  std::vector<std::string> out;
  for (int i = 0; i < kNewGostSigners; ++i) {
    auto key = nqs::test::gost_key();
    auto certificate =
        nqs::test::issue(subject, key, "sign_individual", issuing.certificate, issuing.key);
    out.push_back(
        Envelope("voucher-application").sign_with(key.get(), {certificate.get()}, kalkan).bytes());
  }
  return out;
}

const std::vector<std::string>& gost_new_signer_applications() {
  static const auto documents = make_gost_new_signer_applications(0);
  return documents;
}

// Applications from 2,000 applicants never seen before, each with an RSA-2048 certificate of its
// own under the test issuing CA (production-like: each applicant signs once). The certificates are
// distinct (serials, bytes); their keys are drawn from a pool of 20, which costs the verifier
// nothing less and saves minutes of key generation.
constexpr int kNewRsaSigners = 2000;

// `set` tells two sets apart: each benchmark has applicants of its own, so that no verification
// one remembers (the process keeps them) speeds up another.
std::vector<std::string> make_rsa_new_signer_applications(int set) {
  const auto issuing = test_ca("issuing-ca");
  std::vector<nqs::test::Key> keys;
  for (int i = 0; i < 20; ++i)
    keys.push_back(nqs::test::rsa_key());
  const auto subject = "/C=KZ/SN=IVANOV/GN=IVAN/CN=IVANOV IVAN " + std::to_string(set) +
                       "/serialNumber=IIN850101300124";
  std::vector<std::string> out;
  for (int i = 0; i < kNewRsaSigners; ++i) {
    const auto& key = keys[static_cast<std::size_t>(i) % keys.size()];
    auto certificate =
        nqs::test::issue(subject, key, "sign_individual", issuing.certificate, issuing.key);
    out.push_back(
        Envelope("voucher-application").sign_with(key.get(), {certificate.get()}, {}).bytes());
  }
  return out;
}

const std::vector<std::string>& rsa_new_signer_applications() {
  static const auto documents = make_rsa_new_signer_applications(0);
  return documents;
}

// An issuing CA's CRL the size of a national CA's: 100,000 entries (2.3 MB), in a file of its
// own for the run. Every new signer's chain is checked against it.
constexpr long kNationalCrlEntries = 100000;

std::string national_crl_file(const std::string& ca) {
  struct File {
    std::filesystem::path path;
    explicit File(const std::string& of) {
      nqs::xmldsig::ensure_xml_security_initialised();  // the GOST methods, before a GOST key
      path = std::filesystem::temp_directory_path() /
             ("nqs-bench-" + of + "-" + std::to_string(::getpid()) + ".crl.pem");
      nqs::test::CrlOptions options;
      options.unissued_revoked = kNationalCrlEntries;
      std::ofstream(path) << nqs::test::crl_of(test_ca(of), options);
    }
    File(const File&) = delete;
    File& operator=(const File&) = delete;
    ~File() { std::filesystem::remove(path); }
  };
  static std::map<std::string, File> files;
  return files.try_emplace(ca, ca).first->second.path.string();
}

void run_intake(benchmark::State& state, std::size_t cache_size,
                const std::string& bytes = signed_application(),
                nqs::test::IntakeOptions options = {}) {
  // With a cache of 0 every document pays for certificate decoding and chain verification, as a
  // document from a signer never seen before does.
  options.certificate_cache_size = cache_size;
  auto intake = nqs::test::make_intake(options);
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
  state.counters["cached_chains"] = static_cast<double>(intake->trust()->cached());
}

void BM_IntakeSignedApplication(benchmark::State& state) {
  run_intake(state, 10000);
}
void BM_IntakeSignedApplicationNoCertificateCache(benchmark::State& state) {
  run_intake(state, 0);
}
void BM_IntakeGostApplication(benchmark::State& state) {
  run_intake(state, 10000, gost_signed_application());
}

// Each document from a signer never seen before (the chain cache and the remembered CA and CRL
// signatures work as in the daemon): one verify of the leaf, one of the document. `first` is
// processed before timing, so that the CA links and CRLs are verified once, as the daemon's first
// document would.
//
// The documents' cost is compared with two verifies of `verify_alone`, timed on the same thread
// in blocks between blocks of documents (the benchmark's clock paused): this machine's speed
// drifts by a tenth or more within a minute, so two figures from separate runs seconds apart can
// differ by more than the ratio's margin. Blocks of 10 documents (some 16 ms of GOST) rather than
// 50 put each block of verifies closer in time to the documents it is compared with: in five
// alternating runs of each, 1.195-1.251 against 1.183-1.310. Counters: two_verifies_us and
// x_two_verifies, over whole blocks. The run is once per process: a second run would find the
// leaf certificates' signatures remembered.
template <typename VerifyAlone>
void run_new_signers(benchmark::State& state, const std::vector<std::string>& documents,
                     const std::string& first, const VerifyAlone& verify_alone,
                     const nqs::test::IntakeOptions& options = {}) {
  constexpr int kBlock = 10;  // documents, then twice as many verifies
  auto intake = nqs::test::make_intake(options);
  benchmark::DoNotOptimize(intake->process(first, nqs::test::test_now()));
  std::size_t next = 0;
  std::chrono::nanoseconds documents_time{0};
  std::chrono::nanoseconds verifies_time{0};
  int blocks = 0;
  int in_block = 0;
  auto block_start = nqs::thread_cpu_time();
  for (auto _ : state) {
    auto outcome = intake->process(documents[next++ % documents.size()], nqs::test::test_now());
    if (!std::holds_alternative<nqs::intake::Accepted>(outcome)) {
      state.SkipWithError("a benchmark document was rejected");
      break;
    }
    benchmark::DoNotOptimize(outcome);
    if (++in_block < kBlock) continue;
    documents_time += nqs::thread_cpu_time() - block_start;
    state.PauseTiming();
    const auto verifies_start = nqs::thread_cpu_time();
    for (int i = 0; i < 2 * kBlock; ++i) {
      if (!verify_alone()) state.SkipWithError("the signature alone did not verify");
    }
    verifies_time += nqs::thread_cpu_time() - verifies_start;
    ++blocks;
    state.ResumeTiming();
    in_block = 0;
    block_start = nqs::thread_cpu_time();
  }
  state.SetItemsProcessed(state.iterations());
  if (blocks == 0) return;
  const double document_us =
      std::chrono::duration<double, std::micro>(documents_time).count() / (blocks * kBlock);
  const double two_verifies_us =
      std::chrono::duration<double, std::micro>(verifies_time).count() / (blocks * kBlock);
  state.counters["two_verifies_us"] = two_verifies_us;
  state.counters["x_two_verifies"] = document_us / two_verifies_us;
}

const nqs::bench::RsaVerifyAlone& rsa_verify_alone() {
  auto& pki = nqs::test::TestPki::get();
  static const nqs::bench::RsaVerifyAlone verify(pki.key("individual-sign"),
                                                 pki.certificate("individual-sign"));
  return verify;
}

const nqs::bench::GostVerifyAlone& gost_verify_alone() {
  nqs::xmldsig::ensure_xml_security_initialised();  // the GOST methods, before a GOST key
  static const nqs::bench::GostVerifyAlone verify;
  return verify;
}

void BM_IntakeGostNewSigner(benchmark::State& state) {
  run_new_signers(state, gost_new_signer_applications(), gost_signed_application(),
                  gost_verify_alone());
}
void BM_IntakeRsaNewSigner(benchmark::State& state) {
  run_new_signers(state, rsa_new_signer_applications(), signed_application(), rsa_verify_alone());
}
// As above, with the issuing CA's CRL as large as a national CA's.
void BM_IntakeNationalCrlRsaNewSigner(benchmark::State& state) {
  static const auto documents = make_rsa_new_signer_applications(1);
  nqs::test::IntakeOptions options;
  options.crls = {"root.crl.pem", national_crl_file("issuing-ca"), "gost-root.crl.pem",
                  "gost-issuing.crl.pem"};
  run_new_signers(state, documents, signed_application(), rsa_verify_alone(), options);
}
void BM_IntakeNationalCrlGostNewSigner(benchmark::State& state) {
  static const auto documents = make_gost_new_signer_applications(1);
  nqs::test::IntakeOptions options;
  options.crls = {"root.crl.pem", "issuing.crl.pem", "gost-root.crl.pem",
                  national_crl_file("gost-issuing-ca")};
  run_new_signers(state, documents, gost_signed_application(), gost_verify_alone(), options);
}

// What a national CA's CRL costs once, when it is loaded or refreshed (off the event loop): the
// parse, and the one full check of its signature that every chain after it is answered from.
void BM_NationalCrlLoad(benchmark::State& state) {
  const std::string name = state.range(0) == 0 ? "issuing-ca" : "gost-issuing-ca";
  const auto text = nqs::read_file_bytes(national_crl_file(name));
  const auto ca = test_ca(name);
  for (auto _ : state) {
    auto crl = nqs::revocation::parse_crl(text);
    if (!crl || X509_CRL_verify(crl.get(), X509_get0_pubkey(ca.certificate.get())) != 1) {
      state.SkipWithError("the national CRL did not verify");
      break;
    }
    benchmark::DoNotOptimize(crl);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(text.size()));
}

// The worst a message can cost under intake.limits (the defaults), and what refusing one over them
// costs: range(0) picks the document.
//   0  a signed application with 32 namespace declarations in scope of every element (accepted:
//      inclusive c14n works through all of them)
//   1  1,024 attributes (the most in all) on elements of 64, then elements up to 10,000 and text
//      up to a megabyte (parsed, refused by the envelope schema)
//   2  10,000 elements nested 64 deep (parsed, refused by the envelope schema)
//   3  ~79,000 attributes on one element, 954 KB (refused by the scan, never parsed)
//   4  the signed application with 6,000 namespace declarations added (refused by the scan)
std::string limits_document(int kind) {
  auto declarations = [](int from, int count) {
    std::string out;
    for (int i = from; i < from + count; ++i)
      out += " xmlns:n" + std::to_string(i) + "=\"urn:n" + std::to_string(i) + "\"";
    return out;
  };
  switch (kind) {
    case 0: {
      nqs::xmldsig::SigningOptions inclusive;
      inclusive.c14n = nqs::xmldsig::kInclusiveC14n;
      Envelope envelope("voucher-application");
      // 14 more on the envelope and 14 on the document: with soap, ns2, v and ds, 32 in scope.
      for (int i = 0; i < 14; ++i) {
        const auto name = "n" + std::to_string(i);
        const auto uri = "urn:n" + std::to_string(i);
        xmlNewNs(xmlDocGetRootElement(envelope.doc()), nqs::xml::as_xml(uri.c_str()),
                 nqs::xml::as_xml(name.c_str()));
        const auto inner = "m" + std::to_string(i);
        const auto inner_uri = "urn:m" + std::to_string(i);
        xmlNewNs(envelope.document(), nqs::xml::as_xml(inner_uri.c_str()),
                 nqs::xml::as_xml(inner.c_str()));
      }
      return envelope.sign("individual-sign", inclusive).bytes();
    }
    case 1: {
      std::string element = "<e";
      for (int i = 0; i < 64; ++i)
        element += " a" + std::to_string(i) + "=\"v\"";
      element += "/>";
      std::string out = "<r>";
      for (int i = 0; i < 16; ++i)
        out += element;
      for (int i = 16; i < 9990; ++i)
        out += "<e>" + std::string(90, 'x') + "</e>";
      return out + "</r>";
    }
    case 2: {
      std::string out;
      for (int i = 0; i < 63; ++i)
        out += "<d>";
      for (int i = 0; i < 9930; ++i)
        out += "<e/>";
      for (int i = 0; i < 63; ++i)
        out += "</d>";
      return out;
    }
    case 3: {
      std::string out = "<a";
      for (int i = 0; i < 79000; ++i)
        out += " a" + std::to_string(i) + "=\"\"";
      return out + "/>";
    }
    default:
      return nqs::test::replaced(signed_application(), "<soap:Envelope",
                                 "<soap:Envelope" + declarations(0, 6000));
  }
}

void BM_IntakeUnderLimits(benchmark::State& state) {
  const auto bytes = limits_document(static_cast<int>(state.range(0)));
  auto intake = nqs::test::make_intake();
  const auto now = nqs::test::test_now();
  const auto first = intake->process(bytes, now);
  const bool accepted = std::holds_alternative<nqs::intake::Accepted>(first);
  if (const auto* rejected = std::get_if<nqs::intake::Rejected>(&first)) {
    state.counters["refused_" + std::string(nqs::code(rejected->rejection.reason))] = 1;
  }
  for (auto _ : state) {
    auto outcome = intake->process(bytes, now);
    benchmark::DoNotOptimize(outcome);
  }
  constexpr const char* kNames[] = {
      "32 namespaces in scope, signed", "1,024 attributes, 10,000 elements, 1 MB",
      "10,000 elements 64 deep", "79,000 attributes", "6,000 declarations"};
  state.SetLabel(std::string(kNames[state.range(0)]) + (accepted ? ", accepted" : ", refused"));
  state.counters["kbytes"] = static_cast<double>(bytes.size()) / 1024.0;
}

// The floor under any verification: one RSA-2048 PKCS#1 v1.5 SHA-256 verify, in process, a
// SHA-256 digest and RSA_verify: OpenSSL's RSA itself, beneath the adapter's memory of signatures
// that verified (common/openssl_key_methods.hpp), which would answer the same signature again.
void BM_Rsa2048VerifyAlone(benchmark::State& state) {
  const auto& verify = rsa_verify_alone();
  for (auto _ : state) {
    if (!verify()) return state.SkipWithError("the signature does not verify");
  }
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

// The adapter's own side: one ApplicationRefused built from its mapping, validated against its
// schema and signed with `signer` (the chain in ds:X509Data).
void run_notification(benchmark::State& state, nqs::Result<nqs::notify::Signer> signer) {
  if (!signer) return state.SkipWithError(signer.error().message.c_str());
  nqs::yaml::Diagnostics diagnostics;
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

// RSA-2048, exclusive c14n, SHA-256.
void BM_NotificationBuildAndSign(benchmark::State& state) {
  const std::string pki = NQS_TEST_PKI_DIR;
  run_notification(state,
                   nqs::notify::load_signer(pki + "/adapter-sign.key", pki + "/adapter-chain.pem"));
}

// The adapter's GOST 34.10-2015/512 key from its PKCS#12, Kalkan's profile.
void BM_GostNotificationBuildAndSign(benchmark::State& state) {
  const std::string pki = NQS_TEST_PKI_DIR;
  std::string password;
  std::ifstream(pki + "/gost-adapter-sign.password") >> password;
  run_notification(state,
                   nqs::notify::load_pkcs12_signer(pki + "/gost-adapter-sign.p12", password));
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
// Both cores at once, as the daemon's workers: what OpenSSL's global locks (the ENGINE's table
// above all) and the memory of verified signatures cost when two intakes verify chains together.
// Wall-clock throughput of the two, to set against the one-thread row.
BENCHMARK(BM_IntakeSignedApplicationNoCertificateCache)
    ->Threads(2)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_IntakeGostApplication)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_IntakeUnderLimits)->DenseRange(0, 4)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_IntakeGostNewSigner)->Iterations(kNewGostSigners)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_IntakeRsaNewSigner)->Iterations(kNewRsaSigners)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_IntakeNationalCrlRsaNewSigner)
    ->Iterations(kNewRsaSigners)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_IntakeNationalCrlGostNewSigner)
    ->Iterations(kNewGostSigners)
    ->Unit(benchmark::kMicrosecond);
// range(0): 0 RSA, 1 GOST 2015/512.
BENCHMARK(BM_NationalCrlLoad)->DenseRange(0, 1)->Iterations(3)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_GostNotificationBuildAndSign)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Rsa2048VerifyAlone)->Unit(benchmark::kMicrosecond);
BENCHMARK_MAIN();
