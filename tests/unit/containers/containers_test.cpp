// containers/: Docker cannot run on these machines, so this checks that every file, port and
// path the Dockerfile, the compose file, the RabbitMQ definitions and the systemd unit reference
// exists and agrees with the adapter's configuration: the container's adapter.yaml is loaded
// and checked in full on a tree laid out as the image lays it out.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <boost/json/parse.hpp>
#include <cstdlib>
#include <map>
#include <regex>
#include <sstream>

#include "amqp/connection.hpp"
#include "configuration/config.hpp"
#include "daemon/daemon.hpp"
#include "intake/intake.hpp"
#include "test_support.hpp"

namespace nqs::test {
namespace {

using ::testing::HasSubstr;

struct Dockerfile {
  std::map<std::string, std::string> copies;  // container path -> repository path
  std::string binary;                         // COPY --from=build ... <binary>
  std::string entrypoint;
  std::string config;  // the --config of CMD
  std::string user;
  std::string expose;
  std::string text;
};

Dockerfile read_dockerfile() {
  Dockerfile out;
  out.text = read_file(source_path("containers/Dockerfile"));
  std::istringstream lines(out.text);
  std::string line;
  const std::regex copy(R"(^COPY (--from=\S+ )?(\S+) (\S+)$)");
  const std::regex entrypoint(R"x(^ENTRYPOINT \["([^"]+)"\])x");
  const std::regex cmd(R"x(^CMD \[.*"--config", "([^"]+)"\])x");
  std::smatch match;
  while (std::getline(lines, line)) {
    if (std::regex_match(line, match, copy)) {
      if (match[1].matched) {
        out.binary = match[3];
      } else if (std::string(match[3]).starts_with("/")) {
        out.copies[match[3]] = match[2];
      }
    } else if (std::regex_search(line, match, entrypoint)) {
      out.entrypoint = match[1];
    } else if (std::regex_search(line, match, cmd)) {
      out.config = match[1];
    } else if (line.starts_with("USER ")) {
      out.user = line.substr(5);
    } else if (line.starts_with("EXPOSE ")) {
      out.expose = line.substr(7);
    }
  }
  return out;
}

TEST(Containers, TheDockerfileCopiesWhatExistsAndRunsItsConfigurationAsNonRoot) {
  const auto docker = read_dockerfile();
  ASSERT_FALSE(docker.copies.empty());
  for (const auto& [target, source] : docker.copies) {
    EXPECT_TRUE(std::filesystem::exists(source_path(source))) << source << " -> " << target;
  }
  // The build stage's sources.
  for (const char* source : {"CMakeLists.txt", "adapter", "scripts", "tests", "bench"}) {
    EXPECT_THAT(docker.text, HasSubstr(fmt::format("COPY {} ", source)));
    EXPECT_TRUE(std::filesystem::exists(source_path(source))) << source;
  }
  EXPECT_EQ(docker.binary, "/usr/local/bin/nqs-adapter");
  EXPECT_EQ(docker.entrypoint, docker.binary);
  EXPECT_EQ(docker.config, "/etc/nqs-adapter/adapter.yaml");
  EXPECT_EQ(docker.copies.at(docker.config), "containers/adapter.yaml");
  EXPECT_EQ(docker.user, "nqs");
  EXPECT_THAT(docker.text, HasSubstr("useradd --system --uid 10001"));
  EXPECT_THAT(docker.text, HasSubstr("FROM debian:12 AS build"));
  EXPECT_THAT(docker.text, HasSubstr("FROM debian:12-slim"));
  EXPECT_THAT(docker.text, HasSubstr("-DNQS_BUILD_TESTS=OFF"));
}

// The image's /etc/nqs-adapter built from the Dockerfile's COPY lines, the trust folder that
// compose mounts filled with the test PKI; then the container's configuration loaded in full.
class ContainerConfiguration : public ::testing::Test {
 protected:
  void SetUp() override {
    ::unsetenv("NQS_AMQP_URL");
    ::unsetenv("NQS_STORE_URL");
    const auto docker = read_dockerfile();
    const std::string prefix = "/etc/nqs-adapter/";
    for (const auto& [target, source] : docker.copies) {
      ASSERT_TRUE(target.starts_with(prefix)) << target;
      const auto placed = root_.path() / target.substr(prefix.size());
      std::filesystem::create_directories(placed.parent_path());
      std::filesystem::create_symlink(source_path(source), placed);
    }
    compose_ = YAML::LoadFile(source_path("containers/compose.yaml").string());
    // The adapter's volumes: the trust material, and its state (the fetched CRLs).
    for (const auto& volume : compose_["services"]["adapter"]["volumes"]) {
      const auto text = volume.as<std::string>();
      const auto colon = text.find(':');
      const auto target = text.substr(colon + 1, text.find(':', colon + 1) - colon - 1);
      if (target == "/var/lib/nqs-adapter") {
        state_volume_ = target;
        continue;
      }
      ASSERT_TRUE(target.starts_with(prefix)) << text;
      std::filesystem::create_symlink(NQS_TEST_PKI_DIR,
                                      root_.path() / target.substr(prefix.size()));
    }
    yaml::Diagnostics diagnostics;
    setup_ = configuration::load_setup(root_.path() / "adapter.yaml", diagnostics);
    ASSERT_TRUE(diagnostics.empty()) << join(diagnostics.problems());
    ASSERT_TRUE(setup_.has_value());
  }

  TempDir root_;
  std::string state_volume_;
  YAML::Node compose_;
  std::optional<configuration::Setup> setup_;
};

TEST_F(ContainerConfiguration, LoadsInFullInTheProductionProfile) {
  const auto& config = setup_->config;
  EXPECT_EQ(config.profile, "production");
  EXPECT_EQ(config.log.format, log::LogFormat::json);
  EXPECT_EQ(config.intake.mappings.size(), 5U);
  EXPECT_EQ(config.outbound.mappings.size(), 5U);
  EXPECT_EQ(setup_->calendar->coverage(), "2023-2027");
  // Fetched CRLs outlive the container: kept in its state volume.
  EXPECT_EQ(state_volume_, "/var/lib/nqs-adapter");
  EXPECT_EQ(config.trust.crl_cache_dir, "/var/lib/nqs-adapter/crls");
  // NCA's two hierarchies, and the adapter's key as NCA delivers it.
  EXPECT_EQ(setup_->intake->trust()->anchor_count(), 4U);
  EXPECT_EQ(config.outbound.signing_pkcs12.filename(), "gost-adapter-sign.p12");
  ASSERT_NE(setup_->notifications, nullptr);
}

TEST_F(ContainerConfiguration, PortsHostsAndCredentialsAgreeWithTheComposeFile) {
  const auto& config = setup_->config;
  const auto services = compose_["services"];
  // The endpoints: published by compose, exposed by the image.
  const auto listen_port = config.ops.listen.substr(config.ops.listen.rfind(':') + 1);
  EXPECT_EQ(services["adapter"]["ports"][0].as<std::string>(),
            fmt::format("{}:{}", listen_port, listen_port));
  EXPECT_EQ(read_dockerfile().expose, listen_port);
  EXPECT_EQ(services["adapter"]["build"]["context"].as<std::string>(), "..");
  EXPECT_TRUE(std::filesystem::exists(
      source_path(services["adapter"]["build"]["dockerfile"].as<std::string>())));
  // The broker: the service's name, its AMQP port, the vhost and user of its definitions.
  const auto amqp = amqp::parse_amqp_url(config.amqp.urls.front()).value();
  EXPECT_TRUE(services[amqp.host]) << amqp.host << " is not a service";
  EXPECT_EQ(services["rabbitmq"]["ports"][0].as<std::string>(),
            fmt::format("{}:{}", amqp.port, amqp.port));
  const auto definitions =
      boost::json::parse(read_file(source_path("containers/rabbitmq/definitions.json")))
          .as_object();
  EXPECT_EQ(definitions.at("vhosts").at(0).at("name").as_string(), amqp.vhost);
  EXPECT_EQ(definitions.at("users").at(0).at("name").as_string(), amqp.user);
  EXPECT_EQ(definitions.at("users").at(0).at("password").as_string(), amqp.password);
  // The broker loads those definitions from where compose mounts them.
  std::map<std::string, std::string> mounts;
  for (const auto& volume : services["rabbitmq"]["volumes"]) {
    const auto text = volume.as<std::string>();
    const auto first = text.find(':');
    if (!text.starts_with("./")) continue;
    const auto second = text.find(':', first + 1);
    mounts[text.substr(first + 1, second - first - 1)] = text.substr(0, first);
    EXPECT_TRUE(std::filesystem::exists(source_path("containers/" + text.substr(2, first - 2))))
        << text;
  }
  const auto conf = read_file(source_path("containers/rabbitmq/rabbitmq.conf"));
  std::smatch match;
  ASSERT_TRUE(std::regex_search(conf, match, std::regex(R"(load_definitions = (\S+))")));
  EXPECT_EQ(mounts.at(match[1]), "./rabbitmq/definitions.json");
  // PostgreSQL: the service, its user, password and database.
  const std::regex postgres(R"(postgresql://([^:]+):([^@]+)@([^:]+):(\d+)/(\S+))");
  ASSERT_TRUE(std::regex_match(config.store.url, match, postgres)) << config.store.url;
  EXPECT_TRUE(services[std::string(match[3])]) << match[3] << " is not a service";
  const auto environment = services["postgres"]["environment"];
  EXPECT_EQ(environment["POSTGRES_USER"].as<std::string>(), match[1]);
  EXPECT_EQ(environment["POSTGRES_PASSWORD"].as<std::string>(), match[2]);
  EXPECT_EQ(environment["POSTGRES_DB"].as<std::string>(), match[5]);
  EXPECT_EQ(match[4], "5432");
  // Stopping gives the adapter more than its grace period.
  EXPECT_EQ(services["adapter"]["stop_grace_period"].as<std::string>(), "40s");
  EXPECT_LT(config.processing.grace_period, std::chrono::seconds{40});
}

TEST_F(ContainerConfiguration, TheBrokerDefinitionsAreTheTopologyTheAdapterDeclares) {
  const auto definitions =
      boost::json::parse(read_file(source_path("containers/rabbitmq/definitions.json")))
          .as_object();
  const auto topology = daemon::topology_of(setup_->config.amqp);
  std::map<std::string, std::string> exchanges;
  for (const auto& exchange : definitions.at("exchanges").as_array()) {
    exchanges[std::string(exchange.at("name").as_string())] =
        std::string(exchange.at("type").as_string());
  }
  for (const auto& exchange : topology.exchanges)
    EXPECT_EQ(exchanges[exchange.name], exchange.type) << exchange.name;
  std::map<std::string, boost::json::object> queues;
  for (const auto& queue : definitions.at("queues").as_array()) {
    queues[std::string(queue.at("name").as_string())] = queue.at("arguments").as_object();
  }
  EXPECT_EQ(queues.size(), topology.queues.size());
  for (const auto& queue : topology.queues) {
    // Declared with other arguments, the broker would refuse the adapter's declaration.
    EXPECT_EQ(queues[queue.name], queue.arguments) << queue.name;
  }
  std::set<std::tuple<std::string, std::string, std::string>> bindings;
  for (const auto& binding : definitions.at("bindings").as_array()) {
    bindings.insert({std::string(binding.at("destination").as_string()),
                     std::string(binding.at("source").as_string()),
                     std::string(binding.at("routing_key").as_string())});
  }
  EXPECT_EQ(bindings.size(), topology.bindings.size());
  for (const auto& binding : topology.bindings) {
    EXPECT_TRUE(bindings.contains({binding.queue, binding.exchange, binding.routing_key}))
        << binding.queue << " <- " << binding.exchange << " " << binding.routing_key;
  }
}

TEST(Containers, TheSystemdUnitRunsTheImagesLayoutAndReloadsWithSighup) {
  const auto unit = read_file(source_path("containers/nqs-adapter.service"));
  const auto docker = read_dockerfile();
  EXPECT_THAT(
      unit, HasSubstr(fmt::format("ExecStart={} run --config {}\n", docker.binary, docker.config)));
  EXPECT_THAT(unit, HasSubstr(fmt::format("ExecStartPre={} check-config --config {}\n",
                                          docker.binary, docker.config)));
  EXPECT_THAT(unit, HasSubstr("User=" + docker.user + "\n"));
  EXPECT_THAT(unit, HasSubstr("ExecReload=/bin/kill -HUP $MAINPID\n"));
  EXPECT_THAT(unit, HasSubstr("RestartPreventExitStatus=78\n")) << "EX_CONFIG: no restart loop";
  EXPECT_THAT(unit, HasSubstr("ReadWritePaths=/var/lib/nqs-adapter\n"));
  EXPECT_THAT(docker.text, HasSubstr("--home-dir /var/lib/nqs-adapter"));
}

}  // namespace
}  // namespace nqs::test
