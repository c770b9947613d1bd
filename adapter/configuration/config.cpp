#include "configuration/config.hpp"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <fstream>

#include "configuration/rules_config.hpp"
#include "intake/intake_config.hpp"

namespace nqs::configuration {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using yaml::Diagnostics;
using yaml::Reader;
namespace {

void read_clock(Reader clock, const std::string& profile, ClockConfig& out) {
  out.offset = clock.duration("offset", milliseconds{0}, std::chrono::hours{24 * 3650}, out.offset);
  if (clock.field("control_file")) {
    std::filesystem::path path(clock.text("control_file", ""));
    if (path.is_relative()) path = (clock.file().parent_path() / path).lexically_normal();
    out.control_file = path;
  }
  // Production runs on the real clock: a shifted one would move every deadline.
  if (profile == "production" && out.offset != milliseconds{0}) {
    clock.field("offset")->problem("not allowed in the production profile");
  }
  if (profile == "production" && !out.control_file.empty()) {
    clock.field("control_file")->problem("not allowed in the production profile");
  }
  clock.finish();
}

void read_ops(Reader ops, OpsConfig& out) {
  out.listen = ops.text("listen", out.listen);
  if (!out.listen.empty()) {
    const auto colon = out.listen.rfind(':');
    int port = 0;
    if (colon == std::string::npos ||
        std::from_chars(out.listen.data() + colon + 1, out.listen.data() + out.listen.size(), port)
                .ec != std::errc{} ||
        port < 0 || port > 65535) {
      ops.field("listen")->problem(
          fmt::format("'{}' is not HOST:PORT (port 0: any free one; empty turns the endpoints off)",
                      out.listen));
    }
  }
  out.replay_cap = ops.integer("replay_cap", 1, 1000, out.replay_cap);
  out.queue_poll_interval =
      ops.duration("queue_poll_interval", milliseconds{100}, minutes{10}, out.queue_poll_interval);
  out.management_url = ops.text("management_url", out.management_url);
  if (!out.management_url.empty() && !out.management_url.starts_with("http://")) {
    ops.field("management_url")
        ->problem("give http://user:password@host:port of the RabbitMQ management API");
  }
  out.dead_letter_alert_after =
      ops.duration("dead_letter_alert_after", seconds{1}, std::chrono::hours{24 * 30},
                   out.dead_letter_alert_after);
  out.outbox_stuck_after = ops.duration("outbox_stuck_after", seconds{1}, std::chrono::hours{24},
                                        out.outbox_stuck_after);
  ops.finish();
}

void read_processing(Reader processing, ProcessingConfig& out) {
  out.retry_initial_delay = processing.duration("retry_initial_delay", milliseconds{10}, minutes{5},
                                                out.retry_initial_delay);
  out.retry_max_delay =
      processing.duration("retry_max_delay", milliseconds{10}, minutes{60}, out.retry_max_delay);
  out.outbox_scan_interval = processing.duration("outbox_scan_interval", milliseconds{100},
                                                 minutes{10}, out.outbox_scan_interval);
  out.max_in_flight = processing.integer("max_in_flight", 1, 100000, out.max_in_flight);
  out.max_attempts =
      static_cast<int>(processing.integer("max_attempts", 1, 1000, out.max_attempts));
  out.grace_period = processing.duration("grace_period", seconds{0}, minutes{10}, out.grace_period);
  out.workers = processing.integer("workers", 0, 64, out.workers);
  processing.finish();
}

}  // namespace

Result<std::chrono::milliseconds> read_clock_control(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::string text;
  if (in) std::getline(in, text);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.pop_back();
  if (text.empty()) return milliseconds{0};
  auto parsed = yaml::parse_duration(text);
  if (!parsed) {
    return make_error(
        fmt::format("{}: '{}' is not a duration (such as 36h or 70d)", file.string(), text));
  }
  return *parsed;
}

Result<std::chrono::milliseconds> advance_clock_control(const std::filesystem::path& file,
                                                        std::chrono::milliseconds by) {
  BOOST_OUTCOME_TRY(auto current, read_clock_control(file));
  const auto next = current + by;
  const auto temporary = file.string() + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    // In the largest whole unit, so that parse_duration's bound (10^9 of the unit) is far.
    const auto ms = next.count();
    if (ms % 86'400'000 == 0) {
      out << ms / 86'400'000 << "d\n";
    } else if (ms % 3'600'000 == 0) {
      out << ms / 3'600'000 << "h\n";
    } else if (ms % 60'000 == 0) {
      out << ms / 60'000 << "m\n";
    } else if (ms % 1000 == 0) {
      out << ms / 1000 << "s\n";
    } else {
      out << ms << "ms\n";
    }
    if (!out) return make_error(fmt::format("cannot write {}", temporary));
  }
  std::error_code ec;
  std::filesystem::rename(temporary, file, ec);
  if (ec) return make_error(fmt::format("cannot replace {}: {}", file.string(), ec.message()));
  return next;
}

std::optional<Config> read_config(Reader root, Diagnostics& diagnostics) {
  const auto problems_before = diagnostics.problems().size();
  Config config;
  config.source = root.file();

  config.profile = root.choice("profile", {"local", "production"}, "local");
  read_clock(root.section("clock"), config.profile, config.clock);
  read_deadlines(root.section("deadlines"), config.deadlines);

  config.log = log::read_log_config(root.section("log"));
  calendar::read_calendar_config(root.section("calendar"), config.calendar);
  intake::read_intake_config(root.section("intake"), config.intake);
  xmldsig::read_trust_config(root.section("trust"), config.trust);
  read_domain(root.section("domain"), config.domain);
  notify::read_outbound_config(root.section("signing"), root.section("outbound"), config.outbound);
  amqp::read_amqp_config(root.section("amqp"), config.amqp);
  store::read_store_config(root.section("store"), config.store);
  read_processing(root.section("processing"), config.processing);
  read_ops(root.section("ops"), config.ops);
  auto evidence = root.section("evidence");
  config.evidence.keep_rejected = evidence.flag("keep_rejected", config.evidence.keep_rejected);
  config.evidence.retention =
      evidence.duration("retention", std::chrono::hours{24}, std::chrono::hours{24 * 36500},
                        config.evidence.retention);
  evidence.finish();

  root.finish();
  if (diagnostics.problems().size() != problems_before) return std::nullopt;
  return config;
}

}  // namespace nqs::configuration
