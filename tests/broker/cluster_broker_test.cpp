// The daemon on a three-node RabbitMQ cluster (tests/broker/cluster.sh, started by the CTest
// fixture cluster.start): losing any one node, the one the daemon is connected to or the one that
// leads its input queue, costs a reconnect to another node, not the length of the outage, and
// loses no input. The order of events is asserted, never a time.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <regex>

#include "daemon/daemon.hpp"
#include "daemon_fixture.hpp"

namespace nqs::test {
namespace {

using ::testing::HasSubstr;

constexpr int kFirst = NQS_TEST_CLUSTER_PORT;
const std::vector<int> kNodes{kFirst, kFirst + 10, kFirst + 20};

int cluster(const std::string& action, int port, const std::string& arguments = "") {
  const auto command =
      fmt::format("{} {} {} {} {} >/dev/null 2>&1", source_path("tests/broker/cluster.sh").string(),
                  action, NQS_TEST_CLUSTER_DIR, port, arguments);
  return std::system(command.c_str());
}

BrokerNode node_of(int port) {
  return BrokerNode{fmt::format("{}/node-{}", NQS_TEST_CLUSTER_DIR, port), port};
}

class ClusterFailover : public DaemonWithBroker {
 protected:
  ClusterFailover() : DaemonWithBroker(node_of(kFirst), true) {}

  void TearDown() override {
    // Every node up again for the next test (a killed one rejoins the cluster).
    for (int port : killed_)
      EXPECT_EQ(cluster("revive", port), 0) << port;
  }

  // The daemon given every node; returns the port of the node it connected to.
  int start_on(const std::vector<int>& ports) {
    std::string urls;
    for (int port : ports)
      urls += (urls.empty() ? "" : ", ") + vhost_.url(port);
    amqp_url_ = "[" + urls + "]";
    write_config();
    start_daemon();
    return connected_node(0);
  }

  // The node of the daemon's `n`th connection (0: the first), from its log.
  int connected_node(std::size_t n) {
    std::vector<int> nodes;
    EXPECT_TRUE(eventually([&] {
      nodes.clear();
      static const std::regex connected("connected to the broker node=127\\.0\\.0\\.1:([0-9]+)");
      const auto log = daemon_->log_text();
      for (std::sregex_iterator it(log.begin(), log.end(), connected), end; it != end; ++it)
        nodes.push_back(std::stoi((*it)[1]));
      return nodes.size() > n;
    })) << daemon_->log_text();
    return nodes.size() > n ? nodes[n] : 0;
  }

  // The test's client on a node that stays.
  void move_client_off(int doomed) {
    for (int port : kNodes) {
      if (port == doomed) continue;
      client_ = std::make_unique<TestClient>(vhost_.name(), port, true);
      return;
    }
  }

  void kill(int port) {
    ASSERT_EQ(cluster("kill", port), 0);
    killed_.push_back(port);
  }

  // The node that leads a quorum queue of the test's vhost, as the second node sees it (the
  // first is the one these tests kill).
  int leader_of(const std::string& queue) {
    const auto out = dir_.path() / "leader.out";
    const auto command =
        fmt::format("{} ctl {} {} -q list_queues -p {} --no-table-headers name leader >{} 2>&1",
                    source_path("tests/broker/cluster.sh").string(), NQS_TEST_CLUSTER_DIR,
                    kFirst + 10, vhost_.name(), out.string());
    if (std::system(command.c_str()) != 0) return 0;
    std::istringstream lines(read_file(out));
    std::string name;
    std::string leader;
    while (lines >> name >> leader) {
      if (name == queue) return std::stoi(leader.substr(4, leader.find('@') - 4));  // nqs-PORT@
    }
    return 0;
  }

  // Until `count` distinct commands have arrived, reading through a node that stays: a queue
  // whose leader was just lost refuses reads until it has a new one (the client is replaced).
  void wait_for_all(std::size_t count) {
    ASSERT_TRUE(eventually([&] {
      try {
        collect();
      } catch (const std::runtime_error&) {
        move_client_off(killed_.empty() ? 0 : killed_.back());
        return false;
      }
      return distinct_command_ids().size() == count;
    })) << distinct_command_ids().size()
        << " distinct commands\n"
        << daemon_->log_text();
  }

  // Publishes applications first..last to the input queue.
  void publish(int first, int last) {
    for (int n = first; n <= last; ++n)
      client_->publish(kGovIn, application_message(n), message_id_of(n));
  }

  std::vector<int> killed_;
};

TEST_F(ClusterFailover, KillingTheNodeTheDaemonIsOnMovesItToAnotherAndLosesNoInput) {
  const int first = start_on(kNodes);
  ASSERT_NE(first, 0);
  move_client_off(first);
  publish(1, 20);
  kill(first);  // while the first inputs are still being processed
  publish(21, 40);
  wait_for_all(40);
  collect();
  EXPECT_TRUE(dead_letters_.empty()) << dead_letters_.size() << " dead letters";
  const int second = connected_node(1);
  EXPECT_NE(second, first);
  const auto log = daemon_->log_text();
  const auto lost = log.find(fmt::format("lost the broker node node=127.0.0.1:{}", first));
  const auto moved = log.find(fmt::format("connected to the broker node=127.0.0.1:{}", second));
  ASSERT_NE(lost, std::string::npos) << log;
  EXPECT_LT(lost, moved) << "lost, then connected to another node";
  // Straight to another node: no round of every node failing, so no backoff.
  EXPECT_THAT(log.substr(lost, moved - lost),
              ::testing::Not(HasSubstr("broker unavailable; trying again after a delay")))
      << log;
  EXPECT_EQ(daemon_->stop(), 0);
  // What the failover took, in the test's report (gtest --gtest_output): how many connections
  // were lost, and how many left a node that refused every publish.
  for (const std::string event : {"lost the broker node", "refused every publish"}) {
    int count = 0;
    for (auto at = log.find(event); at != std::string::npos; at = log.find(event, at + 1))
      ++count;
    RecordProperty(event, count);
  }
}

TEST_F(ClusterFailover, KillingTheNodeThatLeadsTheInputQueueLosesNoInput) {
  // The queues are declared from the first node, which leads them; the daemon is on another.
  {
    boost::asio::io_context io;
    auto settings = amqp::parse_amqp_url(vhost_.url(kFirst)).value();
    auto declarer =
        std::make_shared<amqp::Connection>(io, settings, amqp::Connection::Handlers{}, 1);
    ASSERT_TRUE(declarer->open().has_value());
    ASSERT_TRUE(declarer->declare(daemon::topology_of(configuration::AmqpConfig{})).has_value());
    declarer->close();
  }
  ASSERT_EQ(leader_of(kGovIn), kFirst);
  const int on = start_on({kFirst + 10, kFirst + 20});
  ASSERT_NE(on, kFirst);
  move_client_off(kFirst);
  publish(1, 20);
  kill(kFirst);
  publish(21, 40);
  wait_for_all(40);
  collect();
  EXPECT_TRUE(dead_letters_.empty()) << dead_letters_.size() << " dead letters";
  EXPECT_TRUE(eventually([&] { return leader_of(kGovIn) != 0 && leader_of(kGovIn) != kFirst; }))
      << "a new leader was elected";
  EXPECT_EQ(daemon_->stop(), 0);
}

}  // namespace
}  // namespace nqs::test
