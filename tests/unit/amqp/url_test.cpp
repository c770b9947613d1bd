// Broker URLs as RabbitMQ's URI specification writes them, and what the adapter refuses with a
// message that says what to write instead.
#include "amqp/url.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/redact.hpp"

namespace nqs::amqp {
namespace {

using ::testing::HasSubstr;

std::string error_of(std::string_view url) {
  auto parsed = parse_amqp_url(url);
  return parsed ? std::string("(accepted)") : parsed.error().message;
}

TEST(AmqpUrl, ReadsEveryPartAndDefaultsTheRest) {
  const auto full = parse_amqp_url("amqp://nqs:p%40ss@broker-1.example:5673/nqs%2Fprod").value();
  EXPECT_EQ(full.user, "nqs");
  EXPECT_EQ(full.password, "p@ss");
  EXPECT_EQ(full.host, "broker-1.example");
  EXPECT_EQ(full.port, 5673);
  EXPECT_EQ(full.vhost, "nqs/prod");
  EXPECT_FALSE(full.tls.enabled);
  EXPECT_EQ(full.node(), "broker-1.example:5673");

  const auto bare = parse_amqp_url("amqp://10.0.0.7").value();
  EXPECT_EQ(bare.port, 5672);
  EXPECT_EQ(bare.vhost, "/");
  EXPECT_EQ(bare.user, "guest");

  const auto tls = parse_amqp_url("amqps://broker.example/").value();
  EXPECT_TRUE(tls.tls.enabled);
  EXPECT_EQ(tls.port, 5671) << "amqps defaults to 5671";

  const auto ipv6 = parse_amqp_url("amqp://[::1]:5680/").value();
  EXPECT_EQ(ipv6.host, "::1");
  EXPECT_EQ(ipv6.port, 5680);
  EXPECT_EQ(ipv6.node(), "[::1]:5680");
  EXPECT_EQ(parse_amqp_url("amqp://h/%2F").value().vhost, "/");
}

TEST(AmqpUrl, RefusesWhatItCannotUseAndSaysWhy) {
  EXPECT_THAT(error_of("http://nope"), HasSubstr("is not an amqp:// or amqps:// URL"));
  EXPECT_THAT(error_of("amqp://h1:5672,h2:5672/"),
              HasSubstr("names several hosts in one URL; give amqp.url a list of URLs"));
  EXPECT_THAT(error_of("amqp://h:0/"), HasSubstr("'0' is not a port (1 to 65535)"));
  EXPECT_THAT(error_of("amqp://h:65536/"), HasSubstr("'65536' is not a port"));
  EXPECT_THAT(error_of("amqp://h:56x/"), HasSubstr("'56x' is not a port"));
  EXPECT_THAT(error_of("amqp://h:/"), HasSubstr("'' is not a port"));
  EXPECT_THAT(error_of("amqp:///vh"), HasSubstr("names no host"));
  EXPECT_THAT(error_of("amqp://bad host/"), HasSubstr("no spaces or control characters"));
  EXPECT_THAT(error_of("amqp://h$st/"), HasSubstr("'h$st' is not a host name or address"));
  EXPECT_THAT(error_of("amqp://h/a/b"), HasSubstr("write a '/' inside it as %2F"));
  EXPECT_THAT(error_of("amqp://h/%zz"), HasSubstr("bad percent-encoding in the vhost"));
  EXPECT_THAT(error_of("amqp://h/v?heartbeat=10"), HasSubstr("a query or fragment is not read"));
  EXPECT_THAT(error_of("amqp://[::1/"), HasSubstr("without its ']'"));
  EXPECT_THAT(error_of("amqp://u:%4@h/"),
              HasSubstr("bad percent-encoding in the user or password"));
}

TEST(AmqpUrl, APasswordIsNeverRepeated) {
  EXPECT_EQ(redact_password("amqp://nqs:s3cret@h:5672/v"), "amqp://nqs:***@h:5672/v");
  EXPECT_EQ(redact_password("amqp://h:5672/v"), "amqp://h:5672/v");
  EXPECT_EQ(redact_password("amqp://nqs:se/cr@et@h:5672/v"), "amqp://nqs:***@h:5672/v")
      << "a password with characters it should have encoded";
  EXPECT_THAT(error_of("amqp://nqs:s3cret@h:99999/"), ::testing::Not(HasSubstr("s3cret")));
}

TEST(AmqpUrl, TheNodesOfOneClusterShareSchemeCredentialsAndVhost) {
  const auto nodes =
      parse_amqp_urls({"amqp://u:p@n1:5672/v", "amqp://u:p@n2:5672/v", "amqp://u:p@n3/v"}).value();
  ASSERT_EQ(nodes.size(), 3U);
  EXPECT_EQ(nodes[2].node(), "n3:5672");
  EXPECT_THAT(parse_amqp_urls({"amqp://u:p@n1/v", "amqp://u:q@n2/v"}).error().message,
              HasSubstr("share the scheme, the user, the password and the vhost"));
  EXPECT_THAT(parse_amqp_urls({"amqp://u:p@n1/v", "amqps://u:p@n2/v"}).error().message,
              HasSubstr("share the scheme"));
  EXPECT_THAT(parse_amqp_urls({"amqp://n1/v", "amqp://n1:5672/v"}).error().message,
              HasSubstr("the node n1:5672 is given twice"));
  EXPECT_THAT(parse_amqp_urls({}).error().message, HasSubstr("no broker URL"));
}

TEST(AmqpUrl, AnEnvironmentListIsSplitAtCommas) {
  EXPECT_EQ(split_url_list("amqp://a/, amqp://b/,amqp://c/"),
            (std::vector<std::string>{"amqp://a/", "amqp://b/", "amqp://c/"}));
  EXPECT_EQ(split_url_list("amqp://a/"), (std::vector<std::string>{"amqp://a/"}));
}

TEST(AmqpUrl, RabbitMqFrom310On) {
  for (const char* version : {"3.10.8", "3.13.7", "4.0.9", "4.3.3", "10.0.0", "", "unknown"})
    EXPECT_TRUE(supported_rabbitmq_version(version)) << version;
  for (const char* version : {"3.9.29", "3.8.0", "2.8.7"})
    EXPECT_FALSE(supported_rabbitmq_version(version)) << version;
}

}  // namespace
}  // namespace nqs::amqp
