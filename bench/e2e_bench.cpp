// End-to-end throughput and latency through a local RabbitMQ (scripts/bench.sh starts it):
//   adapter mode: N signed applications published to nqs.gov.in, the real daemon (a child
//                 process) verifies, commits and publishes each command with confirms;
//   null mode:    the same N messages through a relay that only consumes, republishes with
//                 confirms and acks (no intake, no store): the broker's own ceiling here.
// Latency is from the publish of an input to the arrival of its command. Reported, not asserted.
//   e2e_bench [N]
#include <amqp.h>

#include <algorithm>
#include <atomic>
#include <boost/json/parse.hpp>
#include <iostream>
#include <map>
#include <thread>

#include "bench_support.hpp"
#include "broker_support.hpp"
#include "intake_support.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using nqs::test::broker_port;

constexpr const char* kGovIn = "nqs.gov.in";
constexpr const char* kCommands = "bench.commands";

amqp_connection_state_t connect(const std::string& vhost) {
  amqp_connection_state_t state = amqp_new_connection();
  amqp_socket_t* socket = amqp_tcp_socket_new(state);
  if (amqp_socket_open(socket, "127.0.0.1", broker_port()) != AMQP_STATUS_OK) {
    throw std::runtime_error("cannot connect");
  }
  if (amqp_login(state, vhost.c_str(), 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, "guest", "guest")
          .reply_type != AMQP_RESPONSE_NORMAL) {
    throw std::runtime_error("login failed");
  }
  amqp_channel_open(state, 1);
  return state;
}

std::string bytes_to_string(amqp_bytes_t bytes) {
  return {static_cast<const char*>(bytes.bytes), bytes.len};
}

// Publishes every input (pipelined confirms) and records when each went out.
void publish_all(const std::string& vhost, const std::vector<std::string>& bodies,
                 const std::vector<std::string>& ids,
                 std::map<std::string, Clock::time_point>& sent) {
  auto state = connect(vhost);
  amqp_confirm_select(state, 1);
  amqp_basic_properties_t properties{};
  properties._flags =
      AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_CONTENT_TYPE_FLAG;
  properties.delivery_mode = 2;
  properties.content_type = amqp_cstring_bytes("text/xml");
  for (std::size_t i = 0; i < bodies.size(); ++i) {
    properties.message_id = amqp_cstring_bytes(ids[i].c_str());
    sent[ids[i]] = Clock::now();
    amqp_basic_publish(state, 1, amqp_empty_bytes, amqp_cstring_bytes(kGovIn), 1, 0, &properties,
                       amqp_bytes_t{bodies[i].size(), const_cast<char*>(bodies[i].data())});
  }
  // Wait for the last confirm.
  std::uint64_t confirmed = 0;
  while (confirmed < bodies.size()) {
    amqp_frame_t frame;
    if (amqp_simple_wait_frame(state, &frame) != AMQP_STATUS_OK) break;
    if (frame.frame_type == AMQP_FRAME_METHOD && frame.payload.method.id == AMQP_BASIC_ACK_METHOD) {
      confirmed = static_cast<amqp_basic_ack_t*>(frame.payload.method.decoded)->delivery_tag;
    }
  }
  amqp_connection_close(state, AMQP_REPLY_SUCCESS);
  amqp_destroy_connection(state);
}

// Consumes commands until all N arrived (or the limit), recording arrival per causing input.
std::map<std::string, Clock::time_point> receive_all(const std::string& vhost, std::size_t n,
                                                     std::atomic<bool>& ready) {
  std::map<std::string, Clock::time_point> arrived;
  auto state = connect(vhost);
  amqp_basic_consume(state, 1, amqp_cstring_bytes(kCommands), amqp_empty_bytes, 0, 1, 0,
                     amqp_empty_table);
  ready = true;
  const auto deadline = Clock::now() + std::chrono::minutes{5};
  timeval wait{1, 0};
  while (arrived.size() < n && Clock::now() < deadline) {
    amqp_envelope_t envelope;
    amqp_maybe_release_buffers(state);
    const auto reply = amqp_consume_message(state, &envelope, &wait, 0);
    if (reply.reply_type != AMQP_RESPONSE_NORMAL) continue;
    const auto now = Clock::now();
    const auto body = bytes_to_string(envelope.message.body);
    const auto key = std::string("\"causationId\":\"");
    const auto at = body.find(key);
    if (at != std::string::npos) {
      const auto from = at + key.size();
      arrived.emplace(body.substr(from, body.find('"', from) - from), now);
    }
    amqp_destroy_envelope(&envelope);
  }
  amqp_connection_close(state, AMQP_REPLY_SUCCESS);
  amqp_destroy_connection(state);
  return arrived;
}

// The null relay: consume nqs.gov.in, republish a tiny command with confirms, ack after confirm.
void null_relay(const std::string& vhost, std::size_t n, std::atomic<bool>& stop) {
  auto state = connect(vhost);
  amqp_channel_open(state, 2);
  amqp_confirm_select(state, 2);
  amqp_basic_qos(state, 1, 0, 32, 0);
  amqp_basic_consume(state, 1, amqp_cstring_bytes(kGovIn), amqp_empty_bytes, 0, 0, 0,
                     amqp_empty_table);
  std::map<std::uint64_t, std::uint64_t> delivery_of_publish;
  std::uint64_t next_tag = 1;
  std::size_t acked = 0;
  timeval wait{0, 200000};
  while (!stop && acked < n) {
    amqp_frame_t frame;
    const int status = amqp_simple_wait_frame_noblock(state, &frame, &wait);
    if (status == AMQP_STATUS_TIMEOUT) continue;
    if (status != AMQP_STATUS_OK) break;
    if (frame.frame_type != AMQP_FRAME_METHOD) continue;
    if (frame.payload.method.id == AMQP_BASIC_DELIVER_METHOD) {
      const auto delivery =
          static_cast<amqp_basic_deliver_t*>(frame.payload.method.decoded)->delivery_tag;
      amqp_message_t message;
      amqp_read_message(state, frame.channel, &message, 0);
      const std::string id = bytes_to_string(message.properties.message_id);
      amqp_destroy_message(&message);
      const std::string body = "{\"causationId\":\"" + id + "\"}";
      amqp_basic_properties_t properties{};
      properties._flags = AMQP_BASIC_DELIVERY_MODE_FLAG;
      properties.delivery_mode = 2;
      amqp_basic_publish(state, 2, amqp_cstring_bytes("ais.commands"),
                         amqp_cstring_bytes("RegisterApplication"), 1, 0, &properties,
                         amqp_bytes_t{body.size(), const_cast<char*>(body.data())});
      delivery_of_publish[next_tag++] = delivery;
    } else if (frame.payload.method.id == AMQP_BASIC_ACK_METHOD) {
      const auto* ack = static_cast<amqp_basic_ack_t*>(frame.payload.method.decoded);
      while (!delivery_of_publish.empty() &&
             delivery_of_publish.begin()->first <= ack->delivery_tag &&
             (ack->multiple || delivery_of_publish.begin()->first == ack->delivery_tag)) {
        amqp_basic_ack(state, 1, delivery_of_publish.begin()->second, 0);
        delivery_of_publish.erase(delivery_of_publish.begin());
        ++acked;
      }
    }
  }
  amqp_connection_close(state, AMQP_REPLY_SUCCESS);
  amqp_destroy_connection(state);
}

struct Figures {
  double per_second = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  std::size_t received = 0;
};

Figures figures_of(const std::map<std::string, Clock::time_point>& sent,
                   const std::map<std::string, Clock::time_point>& arrived) {
  Figures out;
  std::vector<double> latencies;
  Clock::time_point first = Clock::time_point::max();
  Clock::time_point last = Clock::time_point::min();
  for (const auto& [id, when] : arrived) {
    auto from = sent.find(id);
    if (from == sent.end()) continue;
    latencies.push_back(std::chrono::duration<double, std::milli>(when - from->second).count());
    first = std::min(first, from->second);
    last = std::max(last, when);
  }
  out.received = latencies.size();
  if (latencies.empty()) return out;
  std::sort(latencies.begin(), latencies.end());
  out.p50_ms = latencies[latencies.size() / 2];
  out.p99_ms = latencies[std::min(latencies.size() - 1, latencies.size() * 99 / 100)];
  out.per_second =
      static_cast<double>(latencies.size()) / std::chrono::duration<double>(last - first).count();
  return out;
}

std::size_t peak_rss_kib(pid_t pid) {
  std::ifstream status(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmHWM:")) return std::stoul(line.substr(6));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace nqs::test;
  const std::size_t n = argc > 1 ? std::stoul(argv[1]) : 2000;
  // Each a new application (its own applicationId) of the one applicant the test PKI has: nothing
  // is known of the applicant, so each is refused by the automatic checks, which costs the most
  // (a command to the AIS and a signed ApplicationRefused to the bus).
  std::vector<std::string> ids;
  std::vector<std::string> bodies;
  std::size_t application_size = 0;
  for (std::size_t i = 0; i < n; ++i) {
    ids.push_back(fmt::format("00000000-0000-4000-8000-{:012d}", i + 1));
    Envelope envelope("voucher-application");
    envelope.set_text("ApplicationId", fmt::format("b0000000-0000-4000-8000-{:012d}", i + 1));
    std::string body = envelope.sign("individual-sign").bytes();
    const auto from = body.find("<messageId>") + 11;
    body.replace(from, body.find("</messageId>") - from, ids.back());
    application_size = body.size();
    bodies.push_back(std::move(body));
  }

  // Adapter mode.
  TestVhost vhost;
  TempDir dir;
  {
    TestClient client(vhost.name());
    client.bind_queue(kCommands, "ais.commands", "#");
    client.bind_queue("bench.outbound", "gov.outbound", "#");
  }
  const auto config = bench_config(dir, "adapter", vhost.url(), dir.path() / "store.sqlite");
  DaemonProcess daemon(config, dir.path() / "daemon.log");
  daemon.start();
  {
    TestClient client(vhost.name());
    if (!eventually([&] {
          auto state = client.queue_state(kGovIn);
          return state && state->second >= 1;
        })) {
      std::cerr << "the daemon did not start:\n" << daemon.log_text();
      return 1;
    }
  }
  std::map<std::string, Clock::time_point> sent;
  std::atomic<bool> ready = false;
  std::map<std::string, Clock::time_point> arrived;
  std::thread receiver([&] { arrived = receive_all(vhost.name(), n, ready); });
  while (!ready)
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  publish_all(vhost.name(), bodies, ids, sent);
  receiver.join();
  const auto adapter = figures_of(sent, arrived);
  const auto rss = peak_rss_kib(daemon.pid());
  daemon.stop();

  // Null mode: the same messages, the same broker, no intake and no store.
  std::map<std::string, Clock::time_point> null_sent;
  std::map<std::string, Clock::time_point> null_arrived;
  std::atomic<bool> null_ready = false;
  std::atomic<bool> stop = false;
  std::thread relay([&] { null_relay(vhost.name(), n, stop); });
  std::thread null_receiver([&] { null_arrived = receive_all(vhost.name(), n, null_ready); });
  while (!null_ready)
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  publish_all(vhost.name(), bodies, ids, null_sent);
  null_receiver.join();
  stop = true;
  relay.join();
  const auto null_figures = figures_of(null_sent, null_arrived);

  std::cout << fmt::format(
      "inputs: {} signed applications of {} bytes (RSA-2048), each refused with a command and a "
      "signed notification\n",
      n, application_size);
  std::cout << fmt::format(
      "adapter: {:.0f} inputs/s end to end, latency p50 {:.1f} ms, p99 {:.1f} ms, {} of {} "
      "commands, peak RSS {} MiB\n",
      adapter.per_second, adapter.p50_ms, adapter.p99_ms, adapter.received, n, rss / 1024);
  std::cout << fmt::format(
      "null relay (broker only): {:.0f} messages/s, latency p50 {:.1f} ms, p99 {:.1f} ms, {} of "
      "{}\n",
      null_figures.per_second, null_figures.p50_ms, null_figures.p99_ms, null_figures.received, n);
  if (null_figures.per_second > 0) {
    std::cout << fmt::format("ratio adapter / null: {:.2f}\n",
                             adapter.per_second / null_figures.per_second);
  }
  return adapter.received == n ? 0 : 1;
}
