#pragma once

// The demo's side of the bus and its view of the store (cli/demo.cpp): it publishes as the
// platform and the AIS would, watches what the daemon sends on a queue of its own, reads stages
// and deadlines from the store, and prints each.
#include <boost/json/object.hpp>
#include <boost/uuid/random_generator.hpp>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "amqp/sync_client.hpp"
#include "configuration/config.hpp"
#include "store/store.hpp"

namespace nqs::cli::demo {

class Player {
 public:
  // `watch`: the client's queue bound to the commands, notifications and dead letters.
  Player(const configuration::Setup& setup, amqp::SyncClient& client, store::Store& store,
         std::string watch, bool step);

  [[nodiscard]] Instant now() const;
  [[nodiscard]] calendar::Date today() const { return zone_.local_date(now()); }
  [[nodiscard]] const calendar::WorkingCalendar& zone() const { return zone_; }
  [[nodiscard]] const configuration::Config& config() const { return config_; }
  [[nodiscard]] store::Store& store() const { return store_; }
  std::string fresh_id();
  // Commands and notifications about this application are looked for; others are dropped.
  void follow(const std::string& application_id) { applications_.insert(application_id); }

  // A new step: its title (after Enter, with --step).
  void step(const std::string& title);
  // An indented line: what (in, out, now) and the text.
  void say(const std::string& what, const std::string& text) const;

  // An AIS event published to the events queue, with a new eventId.
  Result<void> event(const std::string& type, const boost::json::object& payload);
  // A signed document published to the bus's queue under its envelope's message id.
  Result<void> document(const std::string& kind, Result<std::string> bytes,
                        const std::string& message_id, const std::string& signer);
  // The next command or notification of this type about `application`, printed; a dead letter
  // of one of the demo's inputs ends the demo with its reason.
  Result<amqp::Held> expect(const std::string& type, const std::string& application);
  // Waits until the store has the application at `stage`; prints it and its next deadline.
  Result<void> stage(const std::string& application, domain::Stage stage);
  // Waits until `done` gives true (what an input that sends nothing changes in the store).
  Result<void> await(const std::function<Result<bool>()>& done, const std::string& what);

  // What went in and came out, for the summary.
  [[nodiscard]] std::string counts() const;

 private:
  void print_output(const amqp::Held& held);
  // The next message of the watch queue kept in seen_; false when there was none.
  Result<bool> take_one();

  const configuration::Config& config_;
  const calendar::WorkingCalendar& zone_;
  amqp::SyncClient& client_;
  store::Store& store_;
  std::string watch_;
  bool step_;
  boost::uuids::random_generator uuids_;
  std::vector<amqp::Held> seen_;
  std::vector<std::string> sent_;
  std::set<std::string> applications_;
  int steps_ = 0;
  int documents_ = 0;
  int events_ = 0;
  int commands_ = 0;
  int notifications_ = 0;
};

}  // namespace nqs::cli::demo
