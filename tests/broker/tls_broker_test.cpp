// TLS to the broker (amqps://) against the test broker's TLS listener (its AMQP port + 1, a
// throw-away CA from tests/broker/make-tls.sh): the right CA connects, a wrong one or a host the
// certificate does not name is refused with an error that names the node, and the daemon runs
// over it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "amqp/sync_client.hpp"
#include "common/openssl_key_methods.hpp"
#include "daemon_fixture.hpp"

namespace nqs::test {
namespace {

using ::testing::HasSubstr;

const std::string kTls = NQS_TEST_BROKER_TLS_DIR;

amqp::ConnectionSettings tls_node(const std::string& host, const std::string& ca) {
  auto node =
      amqp::parse_amqp_url(fmt::format("amqps://guest:guest@{}:{}/", host, broker_port() + 1))
          .value();
  node.tls.ca_file = ca;
  node.connect_timeout = std::chrono::seconds{10};
  return node;
}

TEST(BrokerTls, TheRightCaConnectsAndTheBrokerSaysItsVersion) {
  auto client = amqp::SyncClient::connect(tls_node("localhost", kTls + "/ca.pem"));
  ASSERT_TRUE(client.has_value()) << client.error().message;
  EXPECT_EQ(client.value()->server().product, "RabbitMQ");
  EXPECT_FALSE(client.value()->server().version.empty());
}

TEST(BrokerTls, AClientCertificateIsPresentedWhenGiven) {
  auto node = tls_node("localhost", kTls + "/ca.pem");
  node.tls.certificate = kTls + "/client.pem";
  node.tls.key = kTls + "/client.key";
  auto client = amqp::SyncClient::connect(node);
  ASSERT_TRUE(client.has_value()) << client.error().message;
  node.tls.key = kTls + "/server.key";  // not the certificate's key
  auto mismatched = amqp::SyncClient::connect(node);
  ASSERT_FALSE(mismatched.has_value());
  EXPECT_THAT(mismatched.error().message, HasSubstr("cannot be used"));
}

// The same with RSA on OpenSSL's built-in method, as the daemon runs it (it reads certificates
// that way): the client's key signs the handshake, the broker's certificate verifies.
TEST(BrokerTls, AClientCertificateWorksWithTheBuiltInRsaMethod) {
  use_builtin_key_methods();
  auto node = tls_node("localhost", kTls + "/ca.pem");
  node.tls.certificate = kTls + "/client.pem";
  node.tls.key = kTls + "/client.key";
  auto client = amqp::SyncClient::connect(node);
  ASSERT_TRUE(client.has_value()) << client.error().message;
  EXPECT_EQ(client.value()->server().product, "RabbitMQ");
}

TEST(BrokerTls, ACertificateThatDoesNotVerifyIsAClearErrorNamingTheNode) {
  auto wrong_ca = amqp::SyncClient::connect(tls_node("localhost", kTls + "/other-ca.pem"));
  ASSERT_FALSE(wrong_ca.has_value());
  const auto node = fmt::format("localhost:{}", broker_port() + 1);
  EXPECT_THAT(wrong_ca.error().message, HasSubstr("cannot connect to " + node + " over TLS"));
  EXPECT_THAT(
      wrong_ca.error().message,
      HasSubstr("the broker's certificate does not verify against " + kTls + "/other-ca.pem"));

  // The certificate names localhost, not 127.0.0.1.
  auto wrong_name = amqp::SyncClient::connect(tls_node("127.0.0.1", kTls + "/ca.pem"));
  ASSERT_FALSE(wrong_name.has_value());
  EXPECT_THAT(wrong_name.error().message,
              HasSubstr(fmt::format("cannot connect to 127.0.0.1:{} over TLS", broker_port() + 1)));
  auto unchecked = tls_node("127.0.0.1", kTls + "/ca.pem");
  unchecked.tls.verify_hostname = false;
  auto connected = amqp::SyncClient::connect(unchecked);
  EXPECT_TRUE(connected.has_value()) << "with verify_hostname off, the CA alone decides: "
                                     << (connected ? "" : connected.error().message);

  // A plain AMQP client on the TLS port gets no broker, and says where it tried.
  auto plain = amqp::SyncClient::connect(
      amqp::parse_amqp_url(fmt::format("amqp://guest:guest@127.0.0.1:{}/", broker_port() + 1))
          .value());
  EXPECT_FALSE(plain.has_value());
}

class DaemonOverTls : public DaemonWithBroker {
 protected:
  void SetUp() override {
    DaemonWithBroker::SetUp();
    amqp_url_ =
        fmt::format("amqps://guest:guest@localhost:{}/{}", broker_port() + 1, vhost_.name());
    amqp_extra_ = fmt::format("  tls: {{ca_file: {}/ca.pem}}\n", kTls);
    write_config();
  }
};

TEST_F(DaemonOverTls, InputsBecomeCommandsOverTheTlsConnection) {
  start_daemon();
  for (int n = 1; n <= 3; ++n)
    client_->publish(kGovIn, application_message(n), message_id_of(n));
  wait_for_distinct_commands(3);
  EXPECT_THAT(daemon_->log_text(), HasSubstr("tls=true"));
  EXPECT_EQ(daemon_->stop(), 0);
}

TEST_F(DaemonOverTls, CheckConfigNamesAMissingCaFile) {
  amqp_extra_ = "  tls: {ca_file: /nonexistent/ca.pem}\n";
  write_config();
  const auto out = dir_.path() / "check.out";
  const int status = std::system(fmt::format("{} check-config --config {} >{} 2>&1",
                                             NQS_ADAPTER_BINARY, config_.string(), out.string())
                                     .c_str());
  EXPECT_NE(WEXITSTATUS(status), 0);
  EXPECT_THAT(read_file(out), HasSubstr("amqp.tls.ca_file"));
}

}  // namespace
}  // namespace nqs::test
