#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cstddef>
#include <thread>
#include <utility>

namespace nqs::daemon {

// The threads that do what an input makes costly (intake: parsing, schemas, c14n, signatures; the
// signing of notifications), so that the event loop never waits for it: heartbeats, confirms and
// the operations endpoints keep flowing whatever one input costs. Each piece of work runs on a
// worker; its result is handed back to the event loop, where everything else happens (the store,
// the broker, the metrics), so that nothing but the work itself crosses threads.
class Workers {
 public:
  // `threads`: 0 for one per core.
  Workers(boost::asio::io_context& io, std::size_t threads)
      : io_(io), threads_(threads == 0 ? default_threads() : threads), pool_(threads_) {}
  ~Workers() { stop(); }
  Workers(const Workers&) = delete;
  Workers& operator=(const Workers&) = delete;

  // Runs `work()` on a worker, then `done(result)` on the event loop. `work` must own or share
  // everything it reads.
  template <class Work, class Done>
  void run(Work work, Done done) {
    boost::asio::post(pool_, [&io = io_, work = std::move(work), done = std::move(done)]() mutable {
      auto result = work();
      boost::asio::post(io, [result = std::move(result), done = std::move(done)]() mutable {
        done(std::move(result));
      });
    });
  }

  // Waits for the work started to end; its results are left to the event loop (which, stopped,
  // drops them: the broker redelivers what was not acknowledged).
  void stop() {
    pool_.stop();
    pool_.join();
  }

  [[nodiscard]] std::size_t threads() const { return threads_; }

 private:
  static std::size_t default_threads() {
    const auto cores = std::thread::hardware_concurrency();
    return cores == 0 ? 1 : cores;
  }

  boost::asio::io_context& io_;
  std::size_t threads_;
  boost::asio::thread_pool pool_;
};

}  // namespace nqs::daemon
