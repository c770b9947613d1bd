// A daemon with its operations endpoints on a free port: /healthz, /readyz and /metrics read
// with real HTTP requests.
#pragma once

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <regex>
#include <sstream>

#include "daemon_fixture.hpp"

namespace nqs::test {

struct Answer {
  int status = 0;
  std::string body;
};

// One GET with Boost.Beast; status 0 when nothing answers.
inline Answer get(int port, const std::string& path) {
  namespace http = boost::beast::http;
  try {
    boost::asio::io_context io;
    boost::asio::ip::tcp::resolver resolver(io);
    boost::beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds{10});
    stream.connect(resolver.resolve("127.0.0.1", std::to_string(port)));
    http::request<http::empty_body> request{http::verb::get, path, 11};
    request.set(http::field::host, "127.0.0.1");
    http::write(stream, request);
    boost::beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(stream, buffer, response);
    return {static_cast<int>(response.result_int()), response.body()};
  } catch (const std::exception&) {
    return {};
  }
}

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

  // The value of one sample line of /metrics, or -1.
  double sample(const std::string& metrics, const std::string& series) {
    std::istringstream lines(metrics);
    std::string line;
    while (std::getline(lines, line)) {
      if (line.starts_with(series + " ")) return std::stod(line.substr(series.size() + 1));
    }
    return -1;
  }

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
