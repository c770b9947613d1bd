// The trust store lets OpenSSL skip its time checks only when every time it would check holds.
// Its verdicts are compared with OpenSSL's own chain check, times checked, at one second before,
// at and one second after each time of each certificate and CRL, in hierarchies where each kind of
// time lapses alone: the signer's, an intermediate's (that came with the signature, was configured
// with its root, or is the only anchor), the root's, a CRL's thisUpdate and nextUpdate, and a CRL
// without a nextUpdate.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "pki/test_ca.hpp"
#include "test_support.hpp"
#include "xmldsig/trust_store.hpp"

namespace nqs::xmldsig {
namespace {

constexpr const char* kLeaf = "/C=KZ/CN=TIMES SIGNER/serialNumber=IIN850101300124";

struct Validity {
  const char* from;
  const char* until;  // a CRL without nextUpdate: null
};

// One hierarchy: root, intermediate, signer, the root's CRL (of the intermediate) and the
// intermediate's (of the signer), each with its own times.
struct Times {
  const char* name;
  Validity root;
  Validity intermediate;
  Validity leaf;
  Validity root_crl;
  Validity intermediate_crl;
};

void PrintTo(const Times& times, std::ostream* out) {
  *out << "the times of " << times.name;
}

const Times kHierarchies[] = {
    {"the signer's own",
     {"20200101000000Z", "20451231000000Z"},
     {"20200101000000Z", "20451231000000Z"},
     {"20220301120000Z", "20230301120000Z"},
     {"20200101000000Z", "20451231000000Z"},
     {"20200101000000Z", "20451231000000Z"}},
    {"the intermediate's",
     {"20200101000000Z", "20451231000000Z"},
     {"20220401000000Z", "20220901000000Z"},
     {"20220301120000Z", "20230301120000Z"},
     {"20200101000000Z", "20451231000000Z"},
     {"20200101000000Z", "20451231000000Z"}},
    {"the root's",
     {"20220401000000Z", "20221001000000Z"},
     {"20200101000000Z", "20451231000000Z"},
     {"20220301120000Z", "20230301120000Z"},
     {"20200101000000Z", "20451231000000Z"},
     {"20200101000000Z", "20451231000000Z"}},
    {"the CRLs'",
     {"20200101000000Z", "20451231000000Z"},
     {"20200101000000Z", "20451231000000Z"},
     {"20220301120000Z", "20230301120000Z"},
     {"20220101000000Z", "20221201000000Z"},
     {"20220601000000Z", "20230101000000Z"}},
    {"a CRL without nextUpdate",
     {"20200101000000Z", "20451231000000Z"},
     {"20200101000000Z", "20451231000000Z"},
     {"20220301120000Z", "20230301120000Z"},
     {"20200101000000Z", "20451231000000Z"},
     {"20220601000000Z", nullptr}},
};

// Where the intermediate CA stands: sent with the signature, configured with its root, or the
// only anchor (configured without its root: a partial chain).
enum class Intermediate { presented, configured, anchor };

std::string_view name_of(Intermediate where) {
  switch (where) {
    case Intermediate::presented:
      return "presented";
    case Intermediate::configured:
      return "configured";
    case Intermediate::anchor:
      return "the only anchor";
  }
  return "";
}

std::int64_t seconds_of(const char* asn1) {
  std::unique_ptr<ASN1_TIME, decltype(&ASN1_TIME_free)> time(ASN1_TIME_new(), &ASN1_TIME_free);
  ASN1_TIME_set_string(time.get(), asn1);
  return revocation::checked_seconds(time.get()).value();
}

struct Hierarchy {
  test::Ca root;
  test::Ca intermediate;
  test::Certificate leaf;
  std::string root_crl;
  std::string intermediate_crl;

  explicit Hierarchy(const Times& times) {
    const auto root_key = test::rsa_key();
    root = {test::issue("/C=KZ/O=NQS Times/CN=Times Root", root_key, "ca", nullptr, root_key,
                        times.root.from, times.root.until),
            root_key,
            {}};
    const auto intermediate_key = test::rsa_key();
    intermediate = {
        test::issue("/C=KZ/O=NQS Times/CN=Times Issuing CA", intermediate_key, "ca",
                    root.certificate, root.key, times.intermediate.from, times.intermediate.until),
        intermediate_key,
        {}};
    leaf = test::issue(kLeaf, test::rsa_key(), "sign_individual", intermediate.certificate,
                       intermediate.key, times.leaf.from, times.leaf.until);
    test::CrlOptions options;
    options.this_update_at = times.root_crl.from;
    options.next_update_at = times.root_crl.until;
    root_crl = test::crl_of(root, options);
    options.this_update_at = times.intermediate_crl.from;
    options.next_update_at =
        times.intermediate_crl.until != nullptr ? times.intermediate_crl.until : "";
    intermediate_crl = test::crl_of(intermediate, options);
  }
};

// OpenSSL's own verdict at `at`, every time checked: X509_V_OK or its error, and the subject of
// the certificate it names.
struct Verdict {
  int error = X509_V_OK;
  std::string subject;
};

// A partial chain's anchor has no CRL of its own to be checked against: the trust store lets that
// one question pass (RFC 5280, 6.1), and so does this.
int anchor_without_crl(int ok, X509_STORE_CTX* context) {
  const int error = X509_STORE_CTX_get_error(context);
  if (ok == 0 &&
      (error == X509_V_ERR_UNABLE_TO_GET_CRL || error == X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER) &&
      X509_STORE_CTX_get_error_depth(context) ==
          sk_X509_num(X509_STORE_CTX_get0_chain(context)) - 1) {
    X509_STORE_CTX_set_error(context, X509_V_OK);
    return 1;
  }
  return ok;
}

// The intermediate, configured with its root or presented, is offered to OpenSSL the same way: as
// untrusted; as the only anchor, it is trusted and the chain may end there.
Verdict openssl_verdict(const Hierarchy& pki, Intermediate where, std::int64_t at) {
  const bool anchor = where == Intermediate::anchor;
  std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(), &X509_STORE_free);
  X509_STORE_add_cert(store.get(),
                      anchor ? pki.intermediate.certificate.get() : pki.root.certificate.get());
  std::vector<const std::string*> crls{&pki.intermediate_crl};
  if (!anchor) crls.push_back(&pki.root_crl);
  for (const auto* pem : crls) {
    std::unique_ptr<BIO, decltype(&BIO_free)> in(
        BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())), &BIO_free);
    std::unique_ptr<X509_CRL, decltype(&X509_CRL_free)> crl(
        PEM_read_bio_X509_CRL(in.get(), nullptr, nullptr, nullptr), &X509_CRL_free);
    X509_STORE_add_crl(store.get(), crl.get());
  }
  X509_STORE_set_flags(store.get(), X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL |
                                        X509_V_FLAG_USE_DELTAS |
                                        (anchor ? X509_V_FLAG_PARTIAL_CHAIN : 0));
  struct StackFree {
    void operator()(STACK_OF(X509) * stack) const { sk_X509_free(stack); }
  };
  std::unique_ptr<STACK_OF(X509), StackFree> untrusted(sk_X509_new_null());
  if (!anchor) sk_X509_push(untrusted.get(), pki.intermediate.certificate.get());
  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> context(X509_STORE_CTX_new(),
                                                                          &X509_STORE_CTX_free);
  X509_STORE_CTX_init(context.get(), store.get(), pki.leaf.get(), untrusted.get());
  if (anchor) X509_STORE_CTX_set_verify_cb(context.get(), anchor_without_crl);
  X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(context.get()), static_cast<time_t>(at));
  Verdict verdict;
  if (X509_verify_cert(context.get()) != 1) {
    verdict.error = X509_STORE_CTX_get_error(context.get());
    X509* named = X509_STORE_CTX_get_current_cert(context.get());
    verdict.subject = named != nullptr ? revocation::name_text(X509_get_subject_name(named)) : "";
  }
  ERR_clear_error();
  return verdict;
}

// Whether every time of `times` holds at `at`: when the trust store is to leave OpenSSL's checks
// out.
bool all_hold(const Times& times, Intermediate where, std::int64_t at) {
  std::vector<Validity> checked{times.intermediate, times.leaf, times.intermediate_crl};
  if (where != Intermediate::anchor) {
    checked.push_back(times.root);
    checked.push_back(times.root_crl);
  }
  for (const auto& validity : checked) {
    if (at < seconds_of(validity.from)) return false;
    if (validity.until != nullptr && at >= seconds_of(validity.until)) return false;
  }
  return true;
}

std::shared_ptr<TrustStore> trust_of(const Hierarchy& pki, Intermediate where,
                                     const test::TempDir& dir, std::size_t cache_size = 0) {
  TrustSettings settings;
  std::string anchors;
  if (where != Intermediate::anchor) anchors += test::pem_of(pki.root.certificate);
  if (where != Intermediate::presented) anchors += test::pem_of(pki.intermediate.certificate);
  settings.anchors = {dir.write("anchors.pem", anchors)};
  if (where != Intermediate::anchor) settings.crls = {dir.write("root.crl.pem", pki.root_crl)};
  // A CRL file must be an anchor's; a presented intermediate's CRL comes as one fetched.
  if (where != Intermediate::presented)
    settings.crls.push_back(dir.write("intermediate.crl.pem", pki.intermediate_crl));
  settings.cache_size = cache_size;  // 0: every verification a full one
  std::vector<std::string> problems;
  auto trust = TrustStore::load(settings, problems);
  EXPECT_TRUE(problems.empty()) << test::join(problems);
  if (trust == nullptr || where != Intermediate::presented) return trust;
  return trust->with_crls({revocation::parse_crl(pki.intermediate_crl)}, nullptr);
}

Reason reason_of(int error) {
  return error == X509_V_ERR_CERT_HAS_EXPIRED || error == X509_V_ERR_CERT_NOT_YET_VALID
             ? Reason::certificate_expired
             : Reason::certificate_untrusted;
}

class ChainTimes : public ::testing::TestWithParam<Times> {};

TEST_P(ChainTimes, EachVerdictIsOpensslsWithEveryTimeChecked) {
  const auto& times = GetParam();
  const Hierarchy pki(times);
  std::set<std::int64_t> instants;
  for (const auto& validity :
       {times.root, times.intermediate, times.leaf, times.root_crl, times.intermediate_crl}) {
    for (const char* at : {validity.from, validity.until}) {
      if (at == nullptr) continue;
      for (const std::int64_t step : {-1, 0, 1})
        instants.insert(seconds_of(at) + step);
    }
  }
  int accepted = 0;
  int refused = 0;
  for (const auto where :
       {Intermediate::presented, Intermediate::configured, Intermediate::anchor}) {
    const test::TempDir dir;
    const auto trust = trust_of(pki, where, dir);
    ASSERT_NE(trust, nullptr);
    const std::vector<std::string> presented =
        where != Intermediate::presented
            ? std::vector<std::string>{}
            : std::vector<std::string>{test::der_of(pki.intermediate.certificate)};
    for (const auto at : instants) {
      const auto when =
          fmt::format("at {} ({}), the intermediate {}",
                      to_utc_string(Instant(std::chrono::seconds(at))), times.name, name_of(where));
      const auto expected = openssl_verdict(pki, where, at);
      const auto held_before = trust->verified_with_times_held();
      const auto check =
          trust->verify(test::der_of(pki.leaf), presented, Instant(std::chrono::seconds(at)));
      // OpenSSL's checks are left out exactly when every time holds.
      EXPECT_EQ(trust->verified_with_times_held() - held_before,
                all_hold(times, where, at) ? 1U : 0U)
          << when;
      if (expected.error == X509_V_OK) {
        ++accepted;
        EXPECT_TRUE(std::holds_alternative<std::shared_ptr<const VerifiedCertificate>>(check))
            << when << ": " << std::get<Rejection>(check).detail;
        continue;
      }
      ++refused;
      ASSERT_TRUE(std::holds_alternative<Rejection>(check))
          << when << ": accepted, OpenSSL says " << X509_verify_cert_error_string(expected.error);
      const auto& rejection = std::get<Rejection>(check);
      EXPECT_EQ(rejection.reason, reason_of(expected.error)) << when << ": " << rejection.detail;
      EXPECT_THAT(rejection.detail, ::testing::HasSubstr(expected.subject)) << when;
      if (rejection.reason == Reason::certificate_untrusted) {
        EXPECT_THAT(rejection.detail,
                    ::testing::HasSubstr(X509_verify_cert_error_string(expected.error)))
            << when;
      }
    }
  }
  // Each hierarchy has instants of both kinds.
  EXPECT_GT(accepted, 0);
  EXPECT_GT(refused, 0);
}

// A chain remembered (the second time it is verified) is answered from memory only while OpenSSL
// would find it valid: at its signer's notAfter it has expired.
TEST(ChainTimesRemembered, AChainRememberedHasExpiredAtItsNotAfter) {
  const Hierarchy pki(kHierarchies[0]);
  const test::TempDir dir;
  const auto trust = trust_of(pki, Intermediate::configured, dir, 10);
  const auto leaf = test::der_of(pki.leaf);
  const auto until = seconds_of(kHierarchies[0].leaf.until);
  auto at = [](std::int64_t seconds) { return Instant(std::chrono::seconds(seconds)); };
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(std::holds_alternative<std::shared_ptr<const VerifiedCertificate>>(
        trust->verify(leaf, {}, at(until - 86400))));
  }
  ASSERT_EQ(trust->cached(), 1U);
  const auto held = trust->verified_with_times_held();
  EXPECT_TRUE(std::holds_alternative<std::shared_ptr<const VerifiedCertificate>>(
      trust->verify(leaf, {}, at(until - 1))));
  EXPECT_EQ(trust->verified_with_times_held(), held) << "answered from memory";
  const auto check = trust->verify(leaf, {}, at(until));
  ASSERT_TRUE(std::holds_alternative<Rejection>(check)) << "accepted at its notAfter";
  EXPECT_EQ(std::get<Rejection>(check).reason, Reason::certificate_expired);
}

INSTANTIATE_TEST_SUITE_P(EachTimeLapsingAlone, ChainTimes, ::testing::ValuesIn(kHierarchies),
                         [](const ::testing::TestParamInfo<Times>& hierarchy) {
                           return std::to_string(hierarchy.index);
                         });

// What X509_cmp_time cannot read is not read: a time of another length or with other characters.
TEST(CheckedSeconds, OnlyTheFormsX509CmpTimeReads) {
  auto seconds = [](int type, const std::string& text) {
    std::unique_ptr<ASN1_STRING, decltype(&ASN1_STRING_free)> time(ASN1_STRING_type_new(type),
                                                                   &ASN1_STRING_free);
    ASN1_STRING_set(time.get(), text.data(), static_cast<int>(text.size()));
    return revocation::checked_seconds(time.get());
  };
  EXPECT_EQ(seconds(V_ASN1_UTCTIME, "220301120000Z"), 1646136000);
  EXPECT_EQ(seconds(V_ASN1_GENERALIZEDTIME, "20220301120000Z"), 1646136000);
  EXPECT_EQ(seconds(V_ASN1_UTCTIME, "500101000000Z"), -631152000);  // 1950: YY >= 50 is 19YY
  EXPECT_EQ(seconds(V_ASN1_UTCTIME, "2203011200Z"), std::nullopt);  // no seconds
  EXPECT_EQ(seconds(V_ASN1_UTCTIME, "220301120000+0600"), std::nullopt);
  EXPECT_EQ(seconds(V_ASN1_GENERALIZEDTIME, "20220301120000.5Z"), std::nullopt);
  EXPECT_EQ(seconds(V_ASN1_GENERALIZEDTIME, "2022030112000AZ"), std::nullopt);
  EXPECT_EQ(seconds(V_ASN1_GENERALIZEDTIME, "20221301120000Z"), std::nullopt);  // month 13
  EXPECT_EQ(seconds(V_ASN1_UTCTIME, "220301120000z"), std::nullopt);
  EXPECT_EQ(seconds(V_ASN1_OCTET_STRING, "220301120000Z"), std::nullopt);
  EXPECT_EQ(revocation::checked_seconds(nullptr), std::nullopt);
}

}  // namespace
}  // namespace nqs::xmldsig
