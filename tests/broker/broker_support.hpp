#pragma once

// Support for the tests against a real broker: the broker started by the CTest fixture
// (tests/broker/broker.sh), a fresh vhost per test, a synchronous AMQP client for the test's own
// side, and the daemon as a real child process.
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "amqp/connection.hpp"
#include "amqp/wire.hpp"
#include "test_support.hpp"

namespace nqs::test {

// The broker of the CTest fixture broker.start (tests/CMakeLists.txt).
inline int broker_port() {
  return NQS_TEST_AMQP_PORT;
}
inline std::string broker_dir() {
  return NQS_TEST_BROKER_DIR;
}

// A broker node of the tests: its broker.sh folder and AMQP port.
struct BrokerNode {
  std::string dir = broker_dir();
  int port = broker_port();
};

// rabbitmqctl (through broker.sh) against the test broker, or another node; its exit status.
inline int broker_ctl(const std::string& arguments, const BrokerNode& node = {}) {
  const std::string command =
      fmt::format("{} ctl {} {} {} >/dev/null 2>&1", source_path("tests/broker/broker.sh").string(),
                  node.dir, node.port, arguments);
  return std::system(command.c_str());
}

inline void restart_broker_app() {
  const std::string command =
      fmt::format("{} restart-app {} {} >/dev/null 2>&1",
                  source_path("tests/broker/broker.sh").string(), broker_dir(), broker_port());
  if (std::system(command.c_str()) != 0) throw std::runtime_error("broker restart failed");
}

// Polls `condition` until it holds or `limit` passes (a bound, never an assertion on speed).
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::seconds limit = std::chrono::seconds{90}) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  }
  return condition();
}

// The trust section for the test PKI `pki` (a block, ending in a newline): the RSA hierarchy, and
// with `gost` NCA's GOST one beside it, as in production.
inline std::string trust_section(const std::string& pki, bool gost) {
  return fmt::format(
      "trust:\n  anchors: [{0}/ca-chain.pem{1}]\n"
      "  crls: [{0}/root.crl.pem, {0}/issuing.crl.pem{2}]\n",
      pki, gost ? fmt::format(", {}/gost-ca-chain.pem", pki) : "",
      gost ? fmt::format(", {0}/gost-root.crl.pem, {0}/gost-issuing.crl.pem", pki) : "");
}

// The value of the signing key for the adapter's key of the test PKI `pki` (a YAML flow map): its
// RSA key, or with `gost` its GOST 34.10-2015/512 key in a PKCS#12 file.
inline std::string signing_value(const std::string& pki, bool gost) {
  return gost ? fmt::format(
                    "{{pkcs12: {0}/gost-adapter-sign.p12, password_file: "
                    "{0}/gost-adapter-sign.password}}",
                    pki)
              : fmt::format("{{key: {0}/adapter-sign.key, certificate: {0}/adapter-chain.pem}}",
                            pki);
}

// Every outbound mapping of the source tree, as a YAML flow list's items.
inline std::string outbound_mappings() {
  std::string out;
  for (const char* name : {"application-refused", "application-to-recognition-center",
                           "voucher-delivered", "voucher-validity-extended", "voucher-annulled"}) {
    if (!out.empty()) out += ", ";
    out += source_path(std::string("mappings/outbound/") + name + ".yaml").string();
  }
  return out;
}

struct Received {
  amqp::Properties properties;
  std::string body;
  std::string routing_key;
};

// A plain synchronous client for the test's side of the broker.
class TestClient {
 public:
  // On the test broker, or on a node of a cluster; with `quorum`, the test's own queues are
  // quorum queues (replicated: they outlive any one node of a cluster).
  explicit TestClient(const std::string& vhost, int port = broker_port(), bool quorum = false)
      : quorum_(quorum) {
    state_ = amqp_new_connection();
    amqp_socket_t* socket = amqp_tcp_socket_new(state_);
    if (amqp_socket_open(socket, "127.0.0.1", port) != AMQP_STATUS_OK) {
      throw std::runtime_error("test client cannot connect");
    }
    auto login =
        amqp_login(state_, vhost.c_str(), 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, "guest", "guest");
    if (login.reply_type != AMQP_RESPONSE_NORMAL)
      throw std::runtime_error("test client login failed");
    amqp_channel_open(state_, 1);
    check("channel");
    amqp_confirm_select(state_, 1);
    check("confirm.select");
  }
  ~TestClient() {
    amqp_channel_close(state_, 1, AMQP_REPLY_SUCCESS);
    amqp_connection_close(state_, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(state_);
  }
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  // A queue of the test's own, bound to an exchange (declared if missing).
  void bind_queue(const std::string& queue, const std::string& exchange, const std::string& key,
                  const std::string& exchange_type = "topic") {
    amqp_exchange_declare(state_, 1, amqp_cstring_bytes(exchange.c_str()),
                          amqp_cstring_bytes(exchange_type.c_str()), 0, 1, 0, 0, amqp_empty_table);
    check("exchange.declare");
    amqp_table_entry_t type{amqp_cstring_bytes("x-queue-type"), {}};
    type.value.kind = AMQP_FIELD_KIND_UTF8;
    type.value.value.bytes = amqp_cstring_bytes("quorum");
    amqp_queue_declare(state_, 1, amqp_cstring_bytes(queue.c_str()), 0, 1, 0, 0,
                       quorum_ ? amqp_table_t{1, &type} : amqp_empty_table);
    check("queue.declare");
    amqp_queue_bind(state_, 1, amqp_cstring_bytes(queue.c_str()),
                    amqp_cstring_bytes(exchange.c_str()), amqp_cstring_bytes(key.c_str()),
                    amqp_empty_table);
    check("queue.bind");
  }

  // A queue that holds at most `max_length` messages and refuses more (basic.nack to publishers).
  void bind_full_queue(const std::string& queue, const std::string& exchange,
                       const std::string& key, std::int64_t max_length) {
    amqp_table_entry_t arguments[2]{};
    arguments[0].key = amqp_cstring_bytes("x-max-length");
    arguments[0].value.kind = AMQP_FIELD_KIND_I64;
    arguments[0].value.value.i64 = max_length;
    arguments[1].key = amqp_cstring_bytes("x-overflow");
    arguments[1].value.kind = AMQP_FIELD_KIND_UTF8;
    arguments[1].value.value.bytes = amqp_cstring_bytes("reject-publish");
    amqp_exchange_declare(state_, 1, amqp_cstring_bytes(exchange.c_str()),
                          amqp_cstring_bytes("topic"), 0, 1, 0, 0, amqp_empty_table);
    check("exchange.declare");
    amqp_queue_declare(state_, 1, amqp_cstring_bytes(queue.c_str()), 0, 1, 0, 0,
                       amqp_table_t{2, arguments});
    check("queue.declare");
    amqp_queue_bind(state_, 1, amqp_cstring_bytes(queue.c_str()),
                    amqp_cstring_bytes(exchange.c_str()), amqp_cstring_bytes(key.c_str()),
                    amqp_empty_table);
    check("queue.bind");
  }

  // Publishes to a queue through the default exchange and waits for the confirm.
  void publish(const std::string& queue, const std::string& body, const std::string& message_id,
               const std::string& content_type = "text/xml") {
    amqp_basic_properties_t properties{};
    properties._flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_CONTENT_TYPE_FLAG |
                        AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_HEADERS_FLAG;
    properties.delivery_mode = 2;
    properties.content_type = amqp_cstring_bytes(content_type.c_str());
    properties.message_id = amqp_cstring_bytes(message_id.c_str());
    amqp_table_entry_t header{};
    header.key = amqp_cstring_bytes("x-test-origin");
    header.value.kind = AMQP_FIELD_KIND_UTF8;
    header.value.value.bytes = amqp_cstring_bytes("nqs-tests");
    properties.headers = amqp_table_t{1, &header};
    amqp_bytes_t bytes{body.size(), const_cast<char*>(body.data())};
    if (amqp_basic_publish(state_, 1, amqp_empty_bytes, amqp_cstring_bytes(queue.c_str()), 1, 0,
                           &properties, bytes) != AMQP_STATUS_OK) {
      throw std::runtime_error("test publish failed");
    }
    // Wait for the confirm of this one publish.
    for (;;) {
      amqp_frame_t frame;
      if (amqp_simple_wait_frame(state_, &frame) != AMQP_STATUS_OK)
        throw std::runtime_error("no confirm");
      if (frame.frame_type != AMQP_FRAME_METHOD) continue;
      if (frame.payload.method.id == AMQP_BASIC_ACK_METHOD) return;
      if (frame.payload.method.id == AMQP_BASIC_NACK_METHOD)
        throw std::runtime_error("publish nacked");
      if (frame.payload.method.id == AMQP_BASIC_RETURN_METHOD) {
        amqp_message_t message;
        amqp_read_message(state_, frame.channel, &message, 0);
        amqp_destroy_message(&message);
        throw std::runtime_error("publish returned: no such queue " + queue);
      }
    }
  }

  // Publishes with exactly these properties (any bytes, any field kinds).
  void publish_raw(const std::string& queue, const std::string& body,
                   const amqp_basic_properties_t& properties) {
    amqp_bytes_t bytes{body.size(), const_cast<char*>(body.data())};
    if (amqp_basic_publish(state_, 1, amqp_empty_bytes, amqp_cstring_bytes(queue.c_str()), 1, 0,
                           &properties, bytes) != AMQP_STATUS_OK) {
      throw std::runtime_error("test publish failed");
    }
    await_confirm();
  }

  // Publishes a message taken from a queue again, its properties and headers as read.
  void republish(const std::string& queue, const Received& message) {
    amqp::TableBuilder headers(message.properties.headers);
    const auto properties = amqp::write_properties(message.properties, headers);
    amqp_bytes_t bytes{message.body.size(), const_cast<char*>(message.body.data())};
    if (amqp_basic_publish(state_, 1, amqp_empty_bytes, amqp_cstring_bytes(queue.c_str()), 1, 0,
                           &properties, bytes) != AMQP_STATUS_OK) {
      throw std::runtime_error("test republish failed");
    }
    await_confirm();
  }

  void await_confirm() {
    for (;;) {
      amqp_frame_t frame;
      if (amqp_simple_wait_frame(state_, &frame) != AMQP_STATUS_OK)
        throw std::runtime_error("no confirm");
      if (frame.frame_type != AMQP_FRAME_METHOD) continue;
      if (frame.payload.method.id == AMQP_BASIC_ACK_METHOD) return;
      throw std::runtime_error("publish not confirmed");
    }
  }

  // Takes one message from a queue (basic.get with auto-ack), if there is one.
  std::optional<Received> get(const std::string& queue) {
    auto reply = amqp_basic_get(state_, 1, amqp_cstring_bytes(queue.c_str()), 1);
    if (reply.reply_type != AMQP_RESPONSE_NORMAL)
      throw std::runtime_error("basic.get failed on " + queue);
    if (reply.reply.id == AMQP_BASIC_GET_EMPTY_METHOD) return std::nullopt;
    const auto* ok = static_cast<amqp_basic_get_ok_t*>(reply.reply.decoded);
    Received received;
    received.routing_key =
        std::string(static_cast<const char*>(ok->routing_key.bytes), ok->routing_key.len);
    amqp_message_t message;
    if (amqp_read_message(state_, 1, &message, 0).reply_type != AMQP_RESPONSE_NORMAL) {
      throw std::runtime_error("reading a got message failed");
    }
    received.body = std::string(static_cast<const char*>(message.body.bytes), message.body.len);
    received.properties = amqp::read_properties(message.properties);
    amqp_destroy_message(&message);
    return received;
  }

  std::vector<Received> drain(const std::string& queue) {
    std::vector<Received> out;
    while (auto message = get(queue))
      out.push_back(std::move(*message));
    return out;
  }

  // Ready messages and consumers of a queue (passive declare); nothing if it does not exist.
  std::optional<std::pair<std::uint32_t, std::uint32_t>> queue_state(const std::string& queue) {
    // A failed passive declare closes the channel: use a throw-away one each time.
    const amqp_channel_t channel = next_channel_++;
    amqp_channel_open(state_, channel);
    check("opening a channel");
    const auto* ok = amqp_queue_declare(state_, channel, amqp_cstring_bytes(queue.c_str()), 1, 0, 0,
                                        0, amqp_empty_table);
    const auto reply = amqp_get_rpc_reply(state_);
    if (reply.reply_type != AMQP_RESPONSE_NORMAL) {
      if (reply.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION &&
          reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
        amqp_channel_close_ok_t close_ok{};
        amqp_send_method(state_, channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &close_ok);
      }
      return std::nullopt;
    }
    std::pair<std::uint32_t, std::uint32_t> state{ok->message_count, ok->consumer_count};
    amqp_channel_close(state_, channel, AMQP_REPLY_SUCCESS);
    return state;
  }

 private:
  void check(const char* what) {
    if (amqp_get_rpc_reply(state_).reply_type != AMQP_RESPONSE_NORMAL) {
      throw std::runtime_error(std::string("test client: ") + what + " failed");
    }
  }
  amqp_connection_state_t state_;
  amqp_channel_t next_channel_ = 2;
  bool quorum_ = false;
};

// A vhost of its own for one test, deleted after it.
class TestVhost {
 public:
  explicit TestVhost(BrokerNode node = {}) : node_(std::move(node)) {
    static int counter = 0;
    name_ = fmt::format("test-{}-{}", ::getpid(), ++counter);
    if (broker_ctl("add_vhost " + name_, node_) != 0 ||
        broker_ctl("set_permissions -p " + name_ + " guest '.*' '.*' '.*'", node_) != 0) {
      throw std::runtime_error("cannot create vhost " + name_);
    }
  }
  ~TestVhost() { broker_ctl("delete_vhost " + name_, node_); }
  TestVhost(const TestVhost&) = delete;
  TestVhost& operator=(const TestVhost&) = delete;
  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] std::string url(int port = 0) const {
    return fmt::format("amqp://guest:guest@127.0.0.1:{}/{}", port != 0 ? port : node_.port, name_);
  }

 private:
  BrokerNode node_;
  std::string name_;
};

// `nqs-adapter run` as a child process, its standard error in a file.
class DaemonProcess {
 public:
  DaemonProcess(std::filesystem::path config, std::filesystem::path log)
      : config_(std::move(config)), log_(std::move(log)) {}
  ~DaemonProcess() {
    if (pid_ > 0) kill_hard();
  }
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  // `environment`: NAME=VALUE entries added to the daemon's environment.
  void start(const std::vector<std::string>& environment = {}) {
    pid_ = ::fork();
    if (pid_ == 0) {
      for (const auto& entry : environment)
        ::putenv(const_cast<char*>(entry.c_str()));
      const int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(fd, STDERR_FILENO);
      ::dup2(fd, STDOUT_FILENO);
      ::execl(NQS_ADAPTER_BINARY, NQS_ADAPTER_BINARY, "run", "--config", config_.c_str(), nullptr);
      ::_exit(127);
    }
  }
  // SIGTERM and wait; returns the exit status.
  int stop() {
    ::kill(pid_, SIGTERM);
    return wait();
  }
  void kill_hard() {
    ::kill(pid_, SIGKILL);
    wait();
  }
  [[nodiscard]] pid_t pid() const { return pid_; }
  [[nodiscard]] bool running() const {
    if (pid_ <= 0) return false;
    int status = 0;
    return ::waitpid(pid_, &status, WNOHANG) == 0;
  }
  [[nodiscard]] std::string log_text() const {
    std::ifstream in(log_);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

 private:
  int wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  std::filesystem::path config_;
  std::filesystem::path log_;
  pid_t pid_ = -1;
};

}  // namespace nqs::test
