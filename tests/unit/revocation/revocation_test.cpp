// Revocation that stays fresh by itself: CRLs fetched from their distribution points (base and
// delta, conditional, verified, cached on disk) and OCSP (a real `openssl ocsp`, and answers made
// here that a hostile responder could send), against a PKI whose certificates name 127.0.0.1.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/ocsp.h>

#include "daemon/trust_keeper.hpp"
#include "revocation/crl_refresher.hpp"
#include "revocation/http_fetch.hpp"
#include "revocation/ocsp.hpp"
#include "revocation_support.hpp"
#include "xmldsig/trust_store.hpp"

namespace nqs {
namespace {

using ::testing::HasSubstr;
using xmldsig::CertificateCheck;
using xmldsig::RevocationPolicy;

Instant now() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

// The reason of a refusal, or "accepted".
std::string verdict(const CertificateCheck& check) {
  if (const auto* rejection = std::get_if<Rejection>(&check)) {
    return std::string(code(rejection->reason));
  }
  return "accepted";
}
std::string detail(const CertificateCheck& check) {
  if (const auto* rejection = std::get_if<Rejection>(&check)) return rejection->detail;
  return "";
}

class Revocation : public ::testing::Test {
 protected:
  Revocation()
      : server_([this](const test::HttpCall& call) { return answer(call); }),
        responder_port_(test::free_port()) {
    root_ = test::root("/C=KZ/O=NQS Revocation Test/CN=Root CA", test::rsa_key());
    auto issuing_key = test::rsa_key();
    issuing_ = {test::issue("/C=KZ/O=NQS Revocation Test/CN=Issuing CA", issuing_key, "ca",
                            root_.certificate, root_.key, "20200101000000Z", "20451231000000Z",
                            {{NID_crl_distribution_points, "URI:" + server_.url("/root.crl")}}),
                issuing_key,
                {}};
    signer_ = leaf("ONE");
    other_ = leaf("TWO");
    anchors_ = dir_.write("anchors.pem",
                          test::pem_of(root_.certificate) + test::pem_of(issuing_.certificate));
    serve("/root.crl", test::crl_of(root_, relative(1)));
  }

  // A signer whose certificate names the CRL server and the OCSP responder.
  test::Certificate leaf(const std::string& name) {
    return test::issue(
        "/C=KZ/CN=" + name + "/serialNumber=IIN850101300124", test::rsa_key(), "sign_individual",
        issuing_.certificate, issuing_.key, "20200101000000Z", "20451231000000Z",
        {{NID_crl_distribution_points, "URI:" + server_.url("/issuing.crl")},
         {NID_info_access, "OCSP;URI:http://127.0.0.1:" + std::to_string(responder_port_)}});
  }

  static test::CrlOptions relative(long number, std::vector<test::Certificate> revoked = {}) {
    test::CrlOptions options;
    options.relative = true;
    options.number = number;
    options.revoked = std::move(revoked);
    return options;
  }

  void serve(const std::string& path, std::string body, std::string etag = "") {
    std::lock_guard lock(mutex_);
    served_[path] = {200, std::move(body), {}};
    if (!etag.empty()) served_[path].headers["ETag"] = etag;
  }

  test::HttpReply answer(const test::HttpCall& call) {
    std::lock_guard lock(mutex_);
    auto found = served_.find(call.target);
    if (found == served_.end()) return {404, "not here", {}};
    const auto etag = found->second.headers.find("ETag");
    const auto asked = call.headers.find("If-None-Match");
    if (etag != found->second.headers.end() && asked != call.headers.end() &&
        asked->second == etag->second) {
      return {304, "", {}};
    }
    return found->second;
  }

  std::shared_ptr<xmldsig::TrustStore> base(
      RevocationPolicy policy = RevocationPolicy::crl,
      std::shared_ptr<revocation::OcspClient> ocsp = nullptr) {
    xmldsig::TrustSettings settings;
    settings.anchors = {anchors_};
    // OCSP decides signers; the issuing CA itself is judged by the root's CRL (a file here).
    if (policy != RevocationPolicy::crl)
      settings.crls = {dir_.write("root.crl.pem", test::crl_of(root_, relative(1)))};
    settings.revocation = policy;
    settings.ocsp = std::move(ocsp);
    std::vector<std::string> problems;
    auto trust = xmldsig::TrustStore::load(settings, problems);
    EXPECT_TRUE(problems.empty()) << test::join(problems);
    return trust;
  }

  // The daemon's wiring: a refresher publishing into a holder.
  struct Fetching {
    std::shared_ptr<xmldsig::TrustHolder> holder;
    std::shared_ptr<revocation::CrlRefresher> refresher;
    CertificateCheck verify(const test::Certificate& certificate) const {
      return holder->get()->verify(test::der_of(certificate), {}, now());
    }
  };
  Fetching fetching(std::shared_ptr<xmldsig::TrustStore> trust,
                    std::vector<std::pair<std::string, std::string>> sources = {}) {
    revocation::CrlRefresherSettings settings;
    settings.sources = std::move(sources);
    for (const auto& url : trust->anchor_crl_points())
      settings.sources.emplace_back(url, "named by a trust anchor (configuration)");
    settings.cache_dir = dir_.path() / "crls";
    settings.limits = {std::chrono::milliseconds{5000}, 1024 * 1024};
    auto holder = std::make_shared<xmldsig::TrustHolder>(trust);
    auto refresher = daemon::make_crl_refresher(settings, clock_, trust, holder, nullptr);
    refresher->load_cache();
    return {holder, refresher};
  }

  SystemClock clock_;
  test::TempDir dir_;
  std::mutex mutex_;
  std::map<std::string, test::HttpReply> served_;
  test::TestHttpServer server_;
  unsigned short responder_port_;
  test::Ca root_;
  test::Ca issuing_;
  test::Certificate signer_;
  test::Certificate other_;
  std::filesystem::path anchors_;
};

TEST(HttpFetch, OnlyPlainHttpUrlsWithAHost) {
  EXPECT_TRUE(revocation::parse_http_url("http://crl.pki.gov.kz/nca_rsa.crl"));
  EXPECT_EQ(revocation::parse_http_url("http://127.0.0.1:8080").value().port, "8080");
  EXPECT_EQ(revocation::parse_http_url("http://[::1]:81/x").value().host, "::1");
  for (const char* bad :
       {"https://crl.pki.gov.kz/x.crl", "ldap://x/cn=crl", "http://", "http://user:pw@host/x",
        "http://host:0/x", "http://host:70000/", "http://host/a b", "http://host/x#y"}) {
    EXPECT_FALSE(revocation::parse_http_url(bad)) << bad;
  }
}

TEST(HttpFetch, ALargerAnswerOrASilentServerIsAnError) {
  test::TestHttpServer big([](const test::HttpCall&) {
    return test::HttpReply{200, std::string(5000, 'x'), {}};
  });
  auto small = revocation::http_exchange({big.url("/x"), "GET", "", "", {}},
                                         {std::chrono::milliseconds{5000}, 1000});
  ASSERT_FALSE(small);
  EXPECT_THAT(small.error().message, HasSubstr("larger than 1000 bytes"));
  EXPECT_TRUE(revocation::http_exchange({big.url("/x"), "GET", "", "", {}},
                                        {std::chrono::milliseconds{5000}, 10000}));
  // A server that accepts and never answers: the deadline ends the exchange.
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor silent(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  auto waited = revocation::http_exchange(
      {"http://127.0.0.1:" + std::to_string(silent.local_endpoint().port()) + "/",
       "GET",
       "",
       "",
       {}},
      {std::chrono::milliseconds{300}, 1000});
  ASSERT_FALSE(waited);
  EXPECT_THAT(waited.error().message, HasSubstr("300 ms"));
}

TEST_F(Revocation, TheIssuingCasCrlIsLearntFromAVerifiedSignerAndFetched) {
  serve("/issuing.crl", test::crl_of(issuing_, relative(1)));
  auto trust = fetching(base());
  // The root's CRL comes from the issuing CA's distribution point (an anchor); the issuing CA's
  // own from its first signer's, once that certificate's signature verified.
  trust.refresher->refresh();
  auto first = trust.verify(signer_);
  EXPECT_EQ(verdict(first), "certificate.untrusted");
  EXPECT_THAT(detail(first), HasSubstr("being fetched from " + server_.url("/issuing.crl")));
  EXPECT_TRUE(std::get<Rejection>(first).status_pending) << "held and read again";
  trust.refresher->refresh();
  EXPECT_EQ(verdict(trust.verify(signer_)), "accepted");
  // Revoked this morning: refused after the next refresh.
  serve("/issuing.crl", test::crl_of(issuing_, relative(2, {signer_})));
  EXPECT_EQ(verdict(trust.verify(signer_)), "accepted") << "the CRL in use until the refresh";
  trust.refresher->refresh(true);
  EXPECT_EQ(verdict(trust.verify(signer_)), "certificate.revoked");
  EXPECT_EQ(verdict(trust.verify(other_)), "accepted");
  const auto status = trust.refresher->status();
  ASSERT_EQ(status.size(), 2U);
  for (const auto& source : status) {
    EXPECT_EQ(source.last_error, "") << source.url;
    ASSERT_TRUE(source.crl.has_value());
  }
}

TEST_F(Revocation, AnUnchangedCrlIsNotSentAgain) {
  serve("/issuing.crl", test::crl_of(issuing_, relative(1)), "\"v1\"");
  auto trust = fetching(base(), {{server_.url("/issuing.crl"), "trust.crl_urls (configuration)"}});
  trust.refresher->refresh(true);
  trust.refresher->refresh(true);
  int conditional = 0;
  for (const auto& call : server_.calls()) {
    if (call.target == "/issuing.crl" && call.headers.contains("If-None-Match")) ++conditional;
  }
  EXPECT_EQ(conditional, 1);
  EXPECT_EQ(verdict(trust.verify(signer_)), "accepted");
}

TEST_F(Revocation, AForeignStaleOrOlderCrlIsRefusedAndTheCurrentOneStays) {
  const std::string url = server_.url("/issuing.crl");
  serve("/issuing.crl", test::crl_of(issuing_, relative(5)));
  auto trust = fetching(base(), {{url, "trust.crl_urls (configuration)"}});
  trust.refresher->refresh(true);
  ASSERT_EQ(verdict(trust.verify(signer_)), "accepted");
  auto error_of = [&] {
    for (const auto& source : trust.refresher->status())
      if (source.url == url) return source.last_error;
    return std::string("no source");
  };
  auto wrong_key = relative(6, {signer_});
  wrong_key.signing_key = test::rsa_key();
  serve("/issuing.crl", test::crl_of(issuing_, wrong_key));
  trust.refresher->refresh(true);
  EXPECT_THAT(error_of(), HasSubstr("not signed by a trust anchor"));
  auto stale = relative(6, {signer_});
  stale.this_update = -7200;
  stale.next_update = -60;
  serve("/issuing.crl", test::crl_of(issuing_, stale));
  trust.refresher->refresh(true);
  EXPECT_THAT(error_of(), HasSubstr("stale"));
  serve("/issuing.crl", test::crl_of(issuing_, relative(4, {signer_})));
  trust.refresher->refresh(true);
  EXPECT_THAT(error_of(), HasSubstr("older than the one in use"));
  serve("/issuing.crl", "not a CRL");
  trust.refresher->refresh(true);
  EXPECT_THAT(error_of(), HasSubstr("not a CRL"));
  EXPECT_EQ(verdict(trust.verify(signer_)), "accepted") << "CRL number 5 stays in use";
}

TEST_F(Revocation, ARestartWithoutNetworkStartsWithTheCachedCrls) {
  serve("/issuing.crl", test::crl_of(issuing_, relative(1, {other_})));
  {
    auto trust =
        fetching(base(), {{server_.url("/issuing.crl"), "trust.crl_urls (configuration)"}});
    trust.refresher->refresh(true);
    ASSERT_EQ(verdict(trust.verify(signer_)), "accepted");
  }
  server_.stop();
  auto trust = fetching(base(), {{server_.url("/issuing.crl"), "trust.crl_urls (configuration)"}});
  EXPECT_EQ(verdict(trust.verify(signer_)), "accepted");
  EXPECT_EQ(verdict(trust.verify(other_)), "certificate.revoked");
  trust.refresher->refresh(true);
  EXPECT_EQ(verdict(trust.verify(signer_)), "accepted") << "a failed fetch keeps the cached CRL";
  bool failed = false;
  for (const auto& source : trust.refresher->status())
    failed = failed || source.last_error.find("connect") != std::string::npos;
  EXPECT_TRUE(failed);
}

TEST_F(Revocation, ADeltaCrlNamedByItsBaseIsFetchedAndUsed) {
  auto base_crl = relative(10);
  base_crl.freshest = server_.url("/issuing-delta.crl");
  serve("/issuing.crl", test::crl_of(issuing_, base_crl));
  auto delta = relative(11, {signer_});
  delta.delta_base = 10;
  serve("/issuing-delta.crl", test::crl_of(issuing_, delta));
  auto trust = fetching(base(), {{server_.url("/issuing.crl"), "trust.crl_urls (configuration)"}});
  trust.refresher->refresh(true);  // the base, which names its delta
  trust.refresher->refresh();      // the delta
  EXPECT_EQ(trust.holder->get()->crl_count(), 3U) << "root, issuing base and delta";
  EXPECT_EQ(verdict(trust.verify(signer_)), "certificate.revoked");
  EXPECT_EQ(verdict(trust.verify(other_)), "accepted");
  // A newer delta whose base does not arrive: the delta in use, and its revocation, stay.
  auto orphan = relative(21, {other_});
  orphan.delta_base = 20;
  serve("/issuing-delta.crl", test::crl_of(issuing_, orphan));
  {
    std::lock_guard lock(mutex_);
    served_.erase("/issuing.crl");
  }
  trust.refresher->refresh(true);
  EXPECT_EQ(verdict(trust.verify(signer_)), "certificate.revoked");
  bool refused = false;
  for (const auto& source : trust.refresher->status())
    refused = refused || source.last_error.find("which is not in use yet") != std::string::npos;
  EXPECT_TRUE(refused);
}

std::shared_ptr<revocation::OcspClient> ocsp_client(const std::string& url = "") {
  revocation::OcspSettings settings;
  settings.url = url;
  settings.limits.timeout = std::chrono::milliseconds{5000};
  return std::make_shared<revocation::OcspClient>(settings);
}

// OCSP from a real responder (`openssl ocsp`, a delegated responder with id-kp-OCSPSigning):
// good, revoked with its time, unknown; a good answer kept until its nextUpdate.
TEST_F(Revocation, OcspFromARealResponder) {
  const auto responder_key = test::rsa_key();
  const auto responder = test::issue("/C=KZ/CN=OCSP Responder", responder_key, "ocsp_responder",
                                     issuing_.certificate, issuing_.key);
  test::OpensslResponder ocsp(dir_.path(), responder_port_, issuing_, responder, responder_key);
  ocsp.set(signer_, false);
  ocsp.start();
  auto client = ocsp_client();
  auto trust = base(RevocationPolicy::ocsp, client);
  // No CRL of the issuing CA at all: OCSP decides the signer (the root's CRL, the issuing CA).
  trust = trust->with_crls({}, {});
  const auto good = trust->verify(test::der_of(signer_), {}, now());
  EXPECT_EQ(verdict(good), "accepted")
      << detail(good) << test::read_file(dir_.path() / "responder.log");
  // What it was decided on, for the evidence archive: the responder's answer as received.
  const auto& decided = *std::get<std::shared_ptr<const xmldsig::VerifiedCertificate>>(good);
  EXPECT_THAT(decided.ocsp_responder(), ::testing::StartsWith("http://127.0.0.1:"));
  const auto* der = reinterpret_cast<const unsigned char*>(decided.ocsp_response().data());
  OCSP_RESPONSE* parsed =
      d2i_OCSP_RESPONSE(nullptr, &der, static_cast<long>(decided.ocsp_response().size()));
  EXPECT_NE(parsed, nullptr) << "a DER OCSPResponse";
  OCSP_RESPONSE_free(parsed);
  const auto again = trust->verify(test::der_of(signer_), {}, now());
  EXPECT_EQ(verdict(again), "accepted");
  EXPECT_FALSE(
      std::get<std::shared_ptr<const xmldsig::VerifiedCertificate>>(again)->ocsp_response().empty())
      << "a cached answer is kept with its response";
  EXPECT_EQ(client->stats().requests, 1U) << "the good answer is reused until its nextUpdate";
  const auto unknown = trust->verify(test::der_of(other_), {}, now());
  EXPECT_EQ(verdict(unknown), "certificate.untrusted");
  EXPECT_THAT(detail(unknown), HasSubstr("does not know this certificate"));
  // Revoked while running: the next certificate asked about is refused with the time.
  ocsp.set(other_, true);
  const auto revoked = trust->verify(test::der_of(other_), {}, now());
  EXPECT_EQ(verdict(revoked), "certificate.revoked");
  EXPECT_THAT(detail(revoked), HasSubstr("revoked on 2025-01-01"));
  EXPECT_THAT(detail(revoked), HasSubstr("keyCompromise"));
}

// Answers a hostile or broken responder could send, each refused; a responder down.
class HostileOcsp : public Revocation {
 protected:
  HostileOcsp()
      : ocsp_server_([this](const test::HttpCall& call) {
          std::lock_guard lock(reply_mutex_);
          if (replay_) return test::HttpReply{200, *replay_, {}};
          auto body = make_(call);
          last_ = body;
          return test::HttpReply{200, body, {}};
        }) {}

  // `whom`'s status (the signer by default); with ocsp_then_crl, the issuing CA's CRL (which
  // lists `other_`) fetched too.
  CertificateCheck check(RevocationPolicy policy = RevocationPolicy::ocsp,
                         const test::Certificate* whom = nullptr) {
    const auto& certificate = whom != nullptr ? *whom : signer_;
    auto trust = base(policy, client_);
    if (policy == RevocationPolicy::ocsp_then_crl) {
      serve("/issuing.crl", test::crl_of(issuing_, relative(1, {other_})));
      auto fetched = fetching(trust, {{server_.url("/issuing.crl"), "configuration"}});
      fetched.refresher->refresh(true);
      return fetched.verify(certificate);
    }
    return trust->verify(test::der_of(certificate), {}, now());
  }
  void answer_with(std::function<std::string(const test::HttpCall&)> make) {
    std::lock_guard lock(reply_mutex_);
    make_ = std::move(make);
  }

  std::mutex reply_mutex_;
  std::function<std::string(const test::HttpCall&)> make_;
  std::optional<std::string> replay_;
  std::string last_;
  test::TestHttpServer ocsp_server_;
  std::shared_ptr<revocation::OcspClient> client_ = ocsp_client(ocsp_server_.url("/"));
};

TEST_F(HostileOcsp, TheCaItselfMaySign) {
  answer_with([&](const test::HttpCall& call) {
    return test::ocsp_response(call, signer_, issuing_, issuing_.certificate, issuing_.key);
  });
  EXPECT_EQ(verdict(check()), "accepted");
}

TEST_F(HostileOcsp, AResponseSignedByTheWrongKeyIsRefused) {
  // A responder certificate without id-kp-OCSPSigning, and one from another CA.
  const auto key = test::rsa_key();
  const auto not_delegated = test::issue("/C=KZ/CN=Not a responder", key, "sign_individual",
                                         issuing_.certificate, issuing_.key);
  answer_with([&](const test::HttpCall& call) {
    return test::ocsp_response(call, signer_, issuing_, not_delegated, key);
  });
  auto refused = check();
  EXPECT_EQ(verdict(refused), "certificate.untrusted");
  EXPECT_THAT(detail(refused), HasSubstr("signature"));
  const auto foreign = test::root("/C=KZ/O=NQS Revocation Test/CN=Issuing CA", test::rsa_key());
  answer_with([&](const test::HttpCall& call) {
    return test::ocsp_response(call, signer_, issuing_, foreign.certificate, foreign.key);
  });
  const auto foreign_answer = check();
  EXPECT_EQ(verdict(foreign_answer), "certificate.untrusted");
  EXPECT_THAT(detail(foreign_answer), HasSubstr("signature"));
}

TEST_F(HostileOcsp, ARevocationInTheCasCrlIsFinalWhateverTheResponderSays) {
  answer_with([&](const test::HttpCall& call) {
    return test::ocsp_response(call, other_, issuing_, issuing_.certificate, issuing_.key);
  });
  EXPECT_EQ(verdict(check(RevocationPolicy::ocsp_then_crl, &other_)), "certificate.revoked");
}

TEST_F(HostileOcsp, AStaleResponseOrOneForAnotherCertificateIsRefused) {
  answer_with([&](const test::HttpCall& call) {
    test::OcspReplyOptions stale;
    stale.this_update = -7200;
    stale.next_update = -3600;
    return test::ocsp_response(call, signer_, issuing_, issuing_.certificate, issuing_.key, stale);
  });
  EXPECT_THAT(detail(check()), HasSubstr("stale"));
  answer_with([&](const test::HttpCall& call) {
    return test::ocsp_response(call, other_, issuing_, issuing_.certificate, issuing_.key);
  });
  EXPECT_THAT(detail(check()), HasSubstr("another certificate"));
}

TEST_F(HostileOcsp, AReplayWithoutOurNonceIsRefusedOnceTheResponderEchoedIt) {
  answer_with([&](const test::HttpCall& call) {
    return test::ocsp_response(call, signer_, issuing_, issuing_.certificate, issuing_.key);
  });
  client_ = ocsp_client(ocsp_server_.url("/"));
  ASSERT_EQ(verdict(check()), "accepted");
  // The same answer again (the client's cache is another one's): its nonce is an earlier one.
  {
    std::lock_guard lock(reply_mutex_);
    replay_ = last_;
  }
  auto replayed = ocsp_client(ocsp_server_.url("/"));
  auto trust = base(RevocationPolicy::ocsp, replayed);
  // This client has not seen the responder echo a nonce: a mismatched one is still a replay.
  EXPECT_THAT(detail(trust->verify(test::der_of(signer_), {}, now())),
              HasSubstr("another request's nonce"));
  // A fresh answer without any nonce, after the responder echoed ours: a replay too.
  {
    std::lock_guard lock(reply_mutex_);
    replay_.reset();
  }
  client_ = ocsp_client(ocsp_server_.url("/"));
  ASSERT_EQ(verdict(check()), "accepted");
  answer_with([&](const test::HttpCall& call) {
    test::OcspReplyOptions no_nonce;
    no_nonce.copy_nonce = false;
    return test::ocsp_response(call, other_, issuing_, issuing_.certificate, issuing_.key,
                               no_nonce);
  });
  auto trust_other = base(RevocationPolicy::ocsp, client_);
  EXPECT_THAT(detail(trust_other->verify(test::der_of(other_), {}, now())),
              HasSubstr("lacks our nonce"));
}

TEST_F(HostileOcsp, ARevokedAnswerIsCertificateRevoked) {
  answer_with([&](const test::HttpCall& call) {
    test::OcspReplyOptions revoked;
    revoked.status = V_OCSP_CERTSTATUS_REVOKED;
    return test::ocsp_response(call, signer_, issuing_, issuing_.certificate, issuing_.key,
                               revoked);
  });
  const auto refused = check();
  EXPECT_EQ(verdict(refused), "certificate.revoked");
  EXPECT_THAT(detail(refused), HasSubstr("keyCompromise"));
}

TEST_F(HostileOcsp, WhenTheResponderIsDownThePolicyDecides) {
  ocsp_server_.stop();
  const auto ocsp_only = check(RevocationPolicy::ocsp);
  EXPECT_EQ(verdict(ocsp_only), "certificate.untrusted");
  EXPECT_THAT(detail(ocsp_only), HasSubstr("cannot be checked"));
  EXPECT_TRUE(std::get<Rejection>(ocsp_only).status_pending);
  client_ = ocsp_client(ocsp_server_.url("/"));
  // ocsp_then_crl: the CRL (which lists `other_`, not `signer_`) answers instead.
  EXPECT_EQ(verdict(check(RevocationPolicy::ocsp_then_crl)), "accepted");
  EXPECT_EQ(verdict(check(RevocationPolicy::ocsp_then_crl, &other_)), "certificate.revoked");
}

}  // namespace
}  // namespace nqs
