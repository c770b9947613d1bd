// nqs-adapter send: publishes saved messages to an input queue, as the bus or the AIS would, for
// integration tests and support (a SOAP file, a JSON event, a dead letter's body saved with
// `dlq show --raw`).
#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid_io.hpp>
#include <fstream>
#include <iostream>
#include <iterator>

#include "cli/cli.hpp"
#include "cli/commands.hpp"

namespace nqs::cli {
namespace {

// The id a message names itself by, when it does: a SOAP header's messageId, an event's eventId
// (the daemon's inbox keys on those, not on the AMQP property). Only read, never trusted.
std::string own_id(const std::string& body) {
  if (body.starts_with("{")) {
    boost::system::error_code ec;
    const auto value = boost::json::parse(body, ec);
    if (!ec && value.is_object()) {
      if (const auto* id = value.as_object().if_contains("eventId"); id && id->is_string())
        return std::string(id->as_string());
    }
    return {};
  }
  const auto tag = body.find("messageId>");
  if (tag == std::string::npos) return {};
  const auto start = tag + std::string_view("messageId>").size();
  const auto end = body.find('<', start);
  if (end == std::string::npos || end - start > 100) return {};
  return body.substr(start, end - start);
}

std::optional<std::string> read_whole(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

int send(const SendArguments& arguments) {
  if (arguments.files.size() > 1 && !arguments.message_id.empty()) {
    std::cerr << "--message-id names one message: give one FILE with it\n";
    return kExitUsage;
  }
  // Every file must be readable before any is sent.
  std::vector<std::string> bodies;
  for (const auto& file : arguments.files) {
    auto body = read_whole(file);
    if (!body) {
      std::cerr << fmt::format("{}: cannot be read\n", file);
      return kExitUsage;
    }
    bodies.push_back(std::move(*body));
  }
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
  for (std::size_t i = 0; i < bodies.size(); ++i) {
    amqp::Outgoing message;
    message.routing_key = gov ? config.amqp.gov_in : config.amqp.ais_events;
    message.properties.content_type = gov ? "text/xml; charset=utf-8" : "application/json";
    message.properties.message_id = !arguments.message_id.empty() ? arguments.message_id
                                    : !own_id(bodies[i]).empty()
                                        ? own_id(bodies[i])
                                        : boost::uuids::to_string(fresh_id());
    message.properties.app_id = "nqs-adapter send";
    message.body = bodies[i];
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
