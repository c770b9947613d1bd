// Trust that stays fresh by itself, with the daemon running: a signer revoked at the OCSP
// responder is refused at its next document; CRLs fetched from a server of the test's own,
// refreshed on a short interval, kept while the server is away, warned about before they lapse,
// failing closed after, and taken again by themselves when the server returns; the adapter's
// signing certificate 20 days from its end shown in /readyz and /metrics.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <ctime>

#include "configuration/config.hpp"
#include "ops_fixture.hpp"
#include "revocation_support.hpp"

namespace nqs::test {
namespace {

using ::testing::HasSubstr;

// YYYYMMDDHHMMSSZ, `seconds` from now.
std::string asn1_time_in(long seconds) {
  const std::time_t at = std::time(nullptr) + seconds;
  std::tm parts{};
  gmtime_r(&at, &parts);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%d%H%M%SZ", &parts);
  return text;
}

class FreshTrust : public Operations {
 protected:
  FreshTrust() : responder_port_(free_port()) {
    crls_ = std::make_unique<TestHttpServer>([this](const HttpCall& call) { return serve(call); });
    root_ = test::root("/C=KZ/O=NQS Fresh Trust/CN=Root CA", rsa_key());
    auto issuing_key = rsa_key();
    issuing_ = {issue("/C=KZ/O=NQS Fresh Trust/CN=Issuing CA", issuing_key, "ca", root_.certificate,
                      root_.key, "20200101000000Z", "20451231000000Z",
                      {{NID_crl_distribution_points, "URI:" + crls_->url("/root.crl")}}),
                issuing_key,
                {}};
    for (auto* who : {&signer_, &other_}) {
      who->key = rsa_key();
      who->certificate = issue(
          "/C=KZ/SN=IVANOV/GN=IVAN/CN=IVANOV IVAN/serialNumber=IIN850101300124", who->key,
          "sign_individual", issuing_.certificate, issuing_.key, "20200101000000Z",
          "20451231000000Z",
          {{NID_crl_distribution_points, "URI:" + crls_->url("/issuing.crl")},
           {NID_info_access, "OCSP;URI:http://127.0.0.1:" + std::to_string(responder_port_)}});
    }
    publish_crls(1, {}, -3600, 3 * 3600);
  }

  HttpReply serve(const HttpCall& call) {
    std::lock_guard lock(mutex_);
    auto found = served_.find(call.target);
    if (found == served_.end()) return {404, "", {}};
    return {200, found->second, {}};
  }

  // Both CRLs, numbered `number`, from `from` to `until` seconds from now.
  void publish_crls(long number, std::vector<Certificate> revoked, long from, long until) {
    CrlOptions options;
    options.relative = true;
    options.number = number;
    options.this_update = from;
    options.next_update = until;
    auto root_crl = crl_of(root_, options);
    options.revoked = std::move(revoked);
    auto issuing_crl = crl_of(issuing_, options);
    std::lock_guard lock(mutex_);
    served_["/root.crl"] = root_crl;
    served_["/issuing.crl"] = issuing_crl;
  }

  // The trust section: the test's own anchors (and the GOST ones the fixture's other inputs use).
  std::string trust_section(const std::string& more) {
    const auto anchors =
        dir_.write("fresh-anchors.pem", pem_of(root_.certificate) + pem_of(issuing_.certificate));
    return fmt::format("trust:\n  anchors: [{}]\n  crl_cache_dir: {}\n{}", anchors.string(),
                       (dir_.path() / "crls").string(), more);
  }

  struct Signer {
    Key key;
    Certificate certificate;
  };
  // Application n signed by `who`.
  std::string application(int n, const Signer& who) {
    Envelope envelope("voucher-application");
    envelope.set_text("ApplicationId", fmt::format("a0000000-0000-4000-8000-{:012d}", n));
    envelope.sign_with(who.key.get(), {who.certificate.get()});
    return with_message_id(envelope.bytes(), message_id_of(n));
  }

  // The dead letter of input n (its reason and detail), waiting for it.
  std::pair<std::string, std::string> dead_letter_of(int n) {
    std::pair<std::string, std::string> found;
    EXPECT_TRUE(eventually([&] {
      collect();
      for (const auto& letter : dead_letters_) {
        const auto& headers = letter.properties.headers;
        if (amqp::header_text(headers, "x-nqs-message-id") == message_id_of(n)) {
          found = {amqp::header_text(headers, "x-nqs-reason"),
                   amqp::header_text(headers, "x-nqs-detail")};
          return true;
        }
      }
      return false;
    })) << daemon_->log_text();
    return found;
  }

  void accepted(int n) {
    EXPECT_TRUE(eventually([&] {
      collect();
      for (const auto& command : commands_)
        if (command.body.find(message_id_of(n)) != std::string::npos) return true;
      return false;
    })) << n
        << " not accepted\n"
        << daemon_->log_text();
  }

  boost::json::object readiness_check(const std::string& name) {
    const auto body = get(port_, "/readyz").body;
    auto parsed = boost::json::parse(body);
    return parsed.as_object().at("checks").as_object().at(name).as_object();
  }

  std::filesystem::path clock_file() const { return dir_.path() / "clock"; }

  // Moves the daemon's clock forward and waits until the daemon has read it.
  void advance_clock(std::chrono::minutes by) {
    auto moves = [&] {
      const auto log = daemon_->log_text();
      int count = 0;
      for (auto at = log.find("the clock was moved"); at != std::string::npos;
           at = log.find("the clock was moved", at + 1)) {
        ++count;
      }
      return count;
    };
    const int before = moves();
    ASSERT_TRUE(configuration::advance_clock_control(clock_file(), by));
    ASSERT_TRUE(eventually([&] { return moves() > before; })) << daemon_->log_text();
  }

  std::mutex mutex_;
  std::map<std::string, std::string> served_;
  std::unique_ptr<TestHttpServer> crls_;
  unsigned short responder_port_;
  Ca root_;
  Ca issuing_;
  Signer signer_;
  Signer other_;
};

class FreshTrustByOcsp : public FreshTrust {
 protected:
  void configure() override {
    // Answers are reused for a second only, so that the revocation shows at the next document.
    trust_ = trust_section(
        fmt::format("  crls: [{}]\n  crl_fetch: false\n  revocation: ocsp\n  ocsp_max_age: 1s\n",
                    dir_.write("root.crl.pem", served_["/root.crl"]).string()));
    write_config();
    responder_ = std::make_unique<OpensslResponder>(dir_.path(), responder_port_, issuing_,
                                                    issuing_.certificate, issuing_.key);
    responder_->set(signer_.certificate, false);
    responder_->start();
  }
  std::unique_ptr<OpensslResponder> responder_;
};

TEST_F(FreshTrustByOcsp, ASignerRevokedAtTheResponderIsRefusedAtItsNextDocument) {
  client_->publish(kGovIn, application(1, signer_), message_id_of(1));
  accepted(1);
  responder_->set(signer_.certificate, true);
  // The good answer is kept for ocsp_max_age (1 s): past it, the responder is asked again.
  std::this_thread::sleep_for(std::chrono::milliseconds{1500});
  client_->publish(kGovIn, application(2, signer_), message_id_of(2));
  const auto [reason, detail] = dead_letter_of(2);
  EXPECT_EQ(reason, "certificate.revoked");
  EXPECT_THAT(detail, HasSubstr("says the OCSP responder http://127.0.0.1:"));
  const auto metrics = get(port_, "/metrics").body;
  EXPECT_GE(sample(metrics, "nqs_ocsp_answers_total{status=\"good\"}"), 1);
  EXPECT_EQ(sample(metrics, "nqs_ocsp_answers_total{status=\"revoked\"}"), 1);
  EXPECT_GE(sample(metrics, "nqs_ocsp_request_seconds_count"), 2);
  EXPECT_THAT(readiness_check("trust").at("detail").as_string().c_str(), HasSubstr("OCSP (ocsp)"));
}

class FreshTrustByCrls : public FreshTrust {
 protected:
  void configure() override {
    // Nothing but the anchors: the root's CRL from the issuing CA certificate's distribution
    // point, the issuing CA's from its first signer's; refreshed every second.
    trust_ = trust_section(
        "  crl_refresh_interval: 1s\n  crl_refresh_before: 30m\n  crl_warn_before: 1h\n");
    // The adapter's signing certificate ends in 20 days.
    auto key = rsa_key();
    auto certificate =
        issue("/C=KZ/O=NQS Fresh Trust/CN=Adapter Signing", key, "sign_head", issuing_.certificate,
              issuing_.key, "20200101000000Z", asn1_time_in(20 * 24 * 3600));
    signing_ =
        fmt::format("{{key: {}, certificate: {}}}", dir_.write("adapter.key", pem_of(key)).string(),
                    dir_.write("adapter.pem", pem_of(certificate)).string());
    extra_config_ += fmt::format("clock: {{control_file: {}}}\n", clock_file().string());
    write_config();
  }
};

TEST_F(FreshTrustByCrls, CrlsStayFreshWithoutAnOperator) {
  ASSERT_TRUE(eventually([&] { return get(port_, "/readyz").status == 200; }))
      << get(port_, "/readyz").body << daemon_->log_text();
  // The first document of the issuing CA: held while its CRL is fetched, then accepted.
  client_->publish(kGovIn, application(1, signer_), message_id_of(1));
  accepted(1);
  EXPECT_THAT(daemon_->log_text(),
              HasSubstr("the signer's status cannot be had yet; the input is held and read again"));
  EXPECT_EQ(inbox_count("rejected"), 0);
  // The signing certificate's end, ahead of time.
  const auto certificates = readiness_check("certificates");
  EXPECT_TRUE(certificates.at("ok").as_bool());
  EXPECT_THAT(
      certificates.at("detail").as_string().c_str(),
      HasSubstr("the signing certificate 'CN=Adapter Signing,O=NQS Fresh Trust,C=KZ' ends on"));
  const auto left =
      sample(get(port_, "/metrics").body,
             "nqs_certificate_expires_in_seconds{role=\"signing\",subject=\"CN=Adapter "
             "Signing,O=NQS Fresh Trust,C=KZ\"}");
  EXPECT_GT(left, 19 * 24 * 3600);
  EXPECT_LE(left, 20 * 24 * 3600);

  // Revoked this morning: after the next refresh (a second), its next document is refused.
  publish_crls(2, {signer_.certificate}, -3600, 3 * 3600);
  ASSERT_TRUE(eventually([&] { return daemon_->log_text().find("number=2") != std::string::npos; }))
      << daemon_->log_text();
  client_->publish(kGovIn, application(2, signer_), message_id_of(2));
  EXPECT_EQ(dead_letter_of(2).first, "certificate.revoked");
  client_->publish(kGovIn, application(3, other_), message_id_of(3));
  accepted(3);

  // The CRL server goes away: the CRLs in use stay until they lapse, and readiness fails an hour
  // ahead (trust.crl_warn_before), not at the lapse.
  const auto port = crls_->port();
  crls_->stop();
  advance_clock(std::chrono::minutes{130});
  ASSERT_TRUE(eventually([&] {
    return get(port_, "/readyz").status == 503 &&
           std::string(readiness_check("trust").at("detail").as_string().c_str())
                   .find("the last fetch failed") != std::string::npos;
  })) << get(port_, "/readyz").body;
  const auto trust = readiness_check("trust");
  EXPECT_FALSE(trust.at("ok").as_bool());
  EXPECT_THAT(trust.at("detail").as_string().c_str(),
              HasSubstr("within trust.crl_warn_before and not refreshed"));
  EXPECT_THAT(daemon_->log_text(), HasSubstr("a CRL could not be fetched"));
  client_->publish(kGovIn, application(4, other_), message_id_of(4));
  accepted(4);
  // Lapsed: fail closed.
  advance_clock(std::chrono::minutes{60});
  client_->publish(kGovIn, application(5, other_), message_id_of(5));
  EXPECT_EQ(dead_letter_of(5).first, "certificate.untrusted");

  // It comes back: the daemon takes the new CRLs by itself, no SIGHUP.
  publish_crls(3, {signer_.certificate}, -3600, 8 * 3600);
  crls_ =
      std::make_unique<TestHttpServer>([this](const HttpCall& call) { return serve(call); }, port);
  ASSERT_TRUE(eventually([&] { return get(port_, "/readyz").status == 200; }))
      << get(port_, "/readyz").body << daemon_->log_text();
  client_->publish(kGovIn, application(6, other_), message_id_of(6));
  accepted(6);
  const auto metrics = get(port_, "/metrics").body;
  EXPECT_EQ(
      sample(metrics, fmt::format("nqs_crl_fetch_ok{{url=\"{}\"}}", crls_->url("/issuing.crl"))),
      1);
  EXPECT_GE(sample(metrics, fmt::format("nqs_crl_fetch_failures_total{{url=\"{}\"}}",
                                        crls_->url("/issuing.crl"))),
            1);
}

}  // namespace
}  // namespace nqs::test
