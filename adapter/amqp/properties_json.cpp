#include "amqp/properties_json.hpp"

#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace nqs::amqp {

std::string properties_to_json(const Properties& properties) {
  boost::json::object out;
  out["content_type"] = properties.content_type;
  out["message_id"] = properties.message_id;
  out["correlation_id"] = properties.correlation_id;
  out["type"] = properties.type;
  if (properties.timestamp) out["timestamp"] = *properties.timestamp;
  out["persistent"] = properties.persistent;
  out["headers"] = properties.headers;
  return boost::json::serialize(out);
}

Result<Properties> properties_from_json(const std::string& json) {
  boost::system::error_code ec;
  auto value = boost::json::parse(json, ec);
  if (ec || !value.is_object()) return make_error(fmt::format("bad stored properties: {}", json));
  const auto& object = value.get_object();
  auto text = [&](const char* key) {
    const auto* field = object.if_contains(key);
    return field != nullptr && field->is_string() ? std::string(field->get_string())
                                                  : std::string();
  };
  Properties out;
  out.content_type = text("content_type");
  out.message_id = text("message_id");
  out.correlation_id = text("correlation_id");
  out.type = text("type");
  if (const auto* timestamp = object.if_contains("timestamp"); timestamp && timestamp->is_int64()) {
    out.timestamp = timestamp->get_int64();
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
