// The worker threads of the daemon: work runs off the event loop, its result comes back on it, and
// one intake pipeline serves several workers at once with the outcomes it gives alone (run under
// ThreadSanitizer in CI).
#include "daemon/workers.hpp"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <thread>

#include "intake_support.hpp"

namespace nqs::daemon {
namespace {

using test::Envelope;

TEST(Workers, WorkRunsOnAWorkerAndItsResultOnTheEventLoop) {
  boost::asio::io_context io;
  auto guard = boost::asio::make_work_guard(io);
  Workers workers(io, 2);
  EXPECT_EQ(workers.threads(), 2U);
  const auto loop = std::this_thread::get_id();
  int done = 0;
  for (int i = 0; i < 16; ++i) {
    workers.run([] { return std::this_thread::get_id(); },
                [&](std::thread::id worker) {
                  EXPECT_NE(worker, loop);
                  EXPECT_EQ(std::this_thread::get_id(), loop);
                  if (++done == 16) guard.reset();
                });
  }
  io.run();
  EXPECT_EQ(done, 16);
}

// The reason code of an outcome, or "accepted".
std::string verdict(const intake::IntakeOutcome& outcome) {
  if (std::holds_alternative<intake::Accepted>(outcome)) return "accepted";
  return std::string(code(std::get<intake::Rejected>(outcome).rejection.reason));
}

TEST(Workers, OneIntakeServesSeveralWorkersAtOnceAsItDoesAlone) {
  const auto intake = test::make_intake();
  std::vector<std::string> documents;
  documents.push_back(Envelope("voucher-application").sign("individual-sign").bytes());
  test::flavor() = test::Flavor::gost;
  documents.push_back(Envelope("voucher-application").sign("individual-sign").bytes());
  test::flavor() = test::Flavor::rsa;
  auto altered = documents.front();
  altered.replace(altered.find("Сварщик"), 14, "Инженер");
  documents.push_back(altered);
  documents.emplace_back("<not-closed>");
  std::vector<std::string> alone;
  for (const auto& document : documents)
    alone.push_back(verdict(intake->process(document, test::test_now())));
  EXPECT_EQ(alone.front(), "accepted");
  EXPECT_EQ(alone[1], "accepted");
  EXPECT_EQ(alone[2], "signature.invalid");

  boost::asio::io_context io;
  auto guard = boost::asio::make_work_guard(io);
  Workers workers(io, 4);
  constexpr std::size_t kRuns = 64;
  std::size_t done = 0;
  for (std::size_t i = 0; i < kRuns; ++i) {
    const auto which = i % documents.size();
    workers.run(
        [intake, &document = documents[which]] {
          return verdict(intake->process(document, test::test_now()));
        },
        [&, which](const std::string& got) {
          EXPECT_EQ(got, alone[which]) << "document " << which;
          if (++done == kRuns) guard.reset();
        });
  }
  io.run();
  EXPECT_EQ(done, kRuns);
}

}  // namespace
}  // namespace nqs::daemon
