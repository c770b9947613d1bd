#include "amqp/properties_json.hpp"

#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace nqs::amqp {
namespace {

// The text properties, by their stored name.
constexpr std::pair<const char*, std::string Properties::*> kTexts[] = {
    {"content_type", &Properties::content_type},
    {"content_encoding", &Properties::content_encoding},
    {"message_id", &Properties::message_id},
    {"correlation_id", &Properties::correlation_id},
    {"reply_to", &Properties::reply_to},
    {"expiration", &Properties::expiration},
    {"type", &Properties::type},
    {"user_id", &Properties::user_id},
    {"app_id", &Properties::app_id},
    {"cluster_id", &Properties::cluster_id},
};

}  // namespace

std::string properties_to_json(const Properties& properties) {
  boost::json::object out;
  for (const auto& [name, field] : kTexts) {
    if (!(properties.*field).empty()) out[name] = properties.*field;
  }
  if (properties.timestamp) out["timestamp"] = *properties.timestamp;
  if (properties.priority) out["priority"] = *properties.priority;
  out["persistent"] = properties.persistent;
  out["headers"] = properties.headers;
  return boost::json::serialize(out);
}

Result<Properties> properties_from_json(const std::string& json) {
  boost::system::error_code ec;
  auto value = boost::json::parse(json, ec);
  if (ec || !value.is_object()) return make_error(fmt::format("bad stored properties: {}", json));
  const auto& object = value.get_object();
  Properties out;
  for (const auto& [name, field] : kTexts) {
    const auto* text = object.if_contains(name);
    if (text != nullptr && text->is_string()) out.*field = std::string(text->get_string());
  }
  if (const auto* timestamp = object.if_contains("timestamp"); timestamp && timestamp->is_int64()) {
    out.timestamp = timestamp->get_int64();
  }
  if (const auto* priority = object.if_contains("priority"); priority && priority->is_int64()) {
    out.priority = static_cast<std::uint8_t>(priority->get_int64());
  }
  if (const auto* persistent = object.if_contains("persistent");
      persistent && persistent->is_bool()) {
    out.persistent = persistent->get_bool();
  }
  if (const auto* headers = object.if_contains("headers"); headers && headers->is_object()) {
    out.headers = headers->get_object();
  }
  return out;
}

}  // namespace nqs::amqp
