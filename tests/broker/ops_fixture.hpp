// A daemon with its operations endpoints on a free port: /healthz, /readyz and /metrics read
// with real HTTP requests.
#pragma once

#include <regex>
#include <sstream>

#include "daemon_fixture.hpp"
#include "ops_http.hpp"

namespace nqs::test {

class Operations : public DaemonWithBroker {
 protected:
  void SetUp() override {
    // The test broker runs its management API on its AMQP port + 2000 (tests/broker/broker.sh).
    extra_config_ = fmt::format(
        "ops: {{listen: '127.0.0.1:0', queue_poll_interval: 200ms, management_url: "
        "'http://guest:guest@127.0.0.1:{}'}}\n",
        broker_port() + 2000);
    DaemonWithBroker::SetUp();
    configure();
    start_daemon();
    // The daemon listens on a free port and says which.
    const std::regex listening("operations endpoints listening address=127\\.0\\.0\\.1:([0-9]+)");
    ASSERT_TRUE(eventually([&] {
      std::smatch match;
      const auto log = daemon_->log_text();
      if (!std::regex_search(log, match, listening)) return false;
      port_ = std::stoi(match[1]);
      return true;
    })) << daemon_->log_text();
  }

  // Changes the configuration before the daemon starts.
  virtual void configure() {}

  // How many lines of a log hold both strings.
  static int count_lines(const std::string& log, const std::string& one, const std::string& other) {
    std::istringstream lines(log);
    int count = 0;
    for (std::string line; std::getline(lines, line);)
      count += line.find(one) != std::string::npos && line.find(other) != std::string::npos;
    return count;
  }

  int port_ = 0;
};

}  // namespace nqs::test
