// nqs-adapter send: publishes saved messages to an input queue, as the bus or the AIS would, for
// integration tests and support (a SOAP file, a JSON event, a dead letter's body saved with
// `dlq show --raw`).
#include <fmt/format.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid_io.hpp>
#include <iostream>
#include <string_view>

#include "cli/cli.hpp"
#include "cli/commands.hpp"

namespace nqs::cli {
namespace {

// The id a message names itself by, when it does: a SOAP header's messageId, an event's eventId
// (the daemon's inbox keys on those, not on the AMQP property). Only read, never trusted: kept
// when it is printable ASCII of at most 255 bytes (an AMQP short string), else none.
std::string own_id(std::string_view body) {
  auto trimmed = [](std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return std::string_view();
    return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
  };
  auto usable = [](std::string_view id) {
    return !id.empty() && id.size() <= 255 &&
           std::all_of(id.begin(), id.end(), [](char c) { return c > ' ' && c < 127; });
  };
  if (body.starts_with("\xEF\xBB\xBF")) body.remove_prefix(3);  // a byte-order mark
  body = trimmed(body);
  std::string id;
  if (body.starts_with("{")) {
    boost::system::error_code ec;
    const auto value = boost::json::parse(body, ec);
    if (!ec && value.is_object()) {
      if (const auto* event_id = value.as_object().if_contains("eventId");
          event_id != nullptr && event_id->is_string()) {
        id = std::string(event_id->as_string());
      }
    }
  } else if (const auto tag = body.find("messageId>"); tag != std::string_view::npos) {
    const auto start = tag + std::string_view("messageId>").size();
    const auto end = body.find('<', start);
    if (end != std::string_view::npos && end - start <= 1024)
      id = std::string(trimmed(body.substr(start, end - start)));
  }
  return usable(id) ? id : std::string();
}

}  // namespace

int send(const SendArguments& arguments) {
  if (arguments.files.size() > 1 && !arguments.message_id.empty()) {
    std::cerr << "--message-id names one message: give one FILE with it\n";
    return kExitUsage;
  }
  if (arguments.message_id.size() > 255) {
    std::cerr << "--message-id: at most 255 bytes (an AMQP short string)\n";
    return kExitUsage;
  }
  const auto bodies = read_files_or_report(arguments.files, /*regular_only=*/true);
  if (!bodies) return kExitUsage;
  auto setup = load_or_report(arguments.config, Parts::calendar);
  if (!setup) return kExitProblem;
  const auto& config = setup->config;
  if (config.profile == "production" && !arguments.yes) {
    std::cerr << "the production profile: what is sent is processed for real; give --yes to send\n";
    return kExitProblem;
  }
  const bool gov = arguments.queue == "gov" || arguments.queue == config.amqp.gov_in;
  const bool ais = arguments.queue == "ais" || arguments.queue == config.amqp.ais_events;
  if (!gov && !ais) {
    std::cerr << fmt::format("--queue '{}': gov, ais, {} or {}\n", arguments.queue,
                             config.amqp.gov_in, config.amqp.ais_events);
    return kExitUsage;
  }
  auto client = connect_broker(config);
  if (!client) {
    std::cerr << client.error().message << '\n';
    return kExitProblem;
  }
  boost::uuids::random_generator fresh_id;
  for (std::size_t i = 0; i < bodies->size(); ++i) {
    amqp::Outgoing message;
    message.routing_key = gov ? config.amqp.gov_in : config.amqp.ais_events;
    message.properties.content_type = gov ? "text/xml; charset=utf-8" : "application/json";
    auto id = arguments.message_id.empty() ? own_id((*bodies)[i]) : arguments.message_id;
    message.properties.message_id = id.empty() ? boost::uuids::to_string(fresh_id()) : id;
    message.properties.app_id = "nqs-adapter send";
    message.body = (*bodies)[i];
    if (auto sent = client.value()->publish(message); !sent) {
      std::cerr << fmt::format("{}: not sent: {}\n", arguments.files[i], sent.error().message);
      return kExitProblem;
    }
    std::cout << fmt::format("{}: sent to {} ({} bytes, message id {}), confirmed\n",
                             arguments.files[i], message.routing_key, message.body.size(),
                             message.properties.message_id);
  }
  return kExitOk;
}

}  // namespace nqs::cli
