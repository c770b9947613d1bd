#include "amqp/wire.hpp"

#include <fmt/format.h>

#include "amqp/fields.hpp"

namespace nqs::amqp {

std::string to_string(amqp_bytes_t bytes) {
  return bytes.bytes == nullptr ? std::string()
                                : std::string(static_cast<const char*>(bytes.bytes), bytes.len);
}

amqp_bytes_t as_bytes(const std::string& text) {
  return amqp_bytes_t{text.size(), const_cast<char*>(text.data())};
}

std::string reply_text(const amqp_rpc_reply_t& reply) {
  switch (reply.reply_type) {
    case AMQP_RESPONSE_NORMAL:
      return "ok";
    case AMQP_RESPONSE_NONE:
      return "no reply";
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
      return amqp_error_string2(reply.library_error);
    case AMQP_RESPONSE_SERVER_EXCEPTION:
      if (reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
        const auto* close = static_cast<amqp_connection_close_t*>(reply.reply.decoded);
        return fmt::format("connection closed by the broker: {} {}", close->reply_code,
                           to_string(close->reply_text));
      }
      if (reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
        const auto* close = static_cast<amqp_channel_close_t*>(reply.reply.decoded);
        return fmt::format("channel closed by the broker: {} {}", close->reply_code,
                           to_string(close->reply_text));
      }
      return fmt::format("broker error, method {:#x}", reply.reply.id);
  }
  return "unknown reply";
}

namespace {

// A short string property, if it is UTF-8 (AMQP gives these to programs as text); else it is
// left out and said in `problems`.
std::string text_property(amqp_bytes_t bytes, const char* name,
                          std::vector<std::string>& problems) {
  auto text = to_string(bytes);
  if (is_utf8(text)) return text;
  problems.push_back(fmt::format("the property {} is not UTF-8 (hex {}); it was left out", name,
                                 hex_prefix(text)));
  return {};
}

}  // namespace

Properties read_properties(const amqp_basic_properties_t& in, std::size_t max_header_bytes) {
  Properties out;
  auto& problems = out.problems;
  const auto flags = in._flags;
  if (flags & AMQP_BASIC_CONTENT_TYPE_FLAG)
    out.content_type = text_property(in.content_type, "content_type", problems);
  if (flags & AMQP_BASIC_CONTENT_ENCODING_FLAG)
    out.content_encoding = text_property(in.content_encoding, "content_encoding", problems);
  if (flags & AMQP_BASIC_MESSAGE_ID_FLAG)
    out.message_id = text_property(in.message_id, "message_id", problems);
  if (flags & AMQP_BASIC_CORRELATION_ID_FLAG)
    out.correlation_id = text_property(in.correlation_id, "correlation_id", problems);
  if (flags & AMQP_BASIC_REPLY_TO_FLAG)
    out.reply_to = text_property(in.reply_to, "reply_to", problems);
  if (flags & AMQP_BASIC_EXPIRATION_FLAG)
    out.expiration = text_property(in.expiration, "expiration", problems);
  if (flags & AMQP_BASIC_TYPE_FLAG) out.type = text_property(in.type, "type", problems);
  if (flags & AMQP_BASIC_USER_ID_FLAG) out.user_id = text_property(in.user_id, "user_id", problems);
  if (flags & AMQP_BASIC_APP_ID_FLAG) out.app_id = text_property(in.app_id, "app_id", problems);
  if (flags & AMQP_BASIC_CLUSTER_ID_FLAG)
    out.cluster_id = text_property(in.cluster_id, "cluster_id", problems);
  if (flags & AMQP_BASIC_TIMESTAMP_FLAG) out.timestamp = static_cast<std::int64_t>(in.timestamp);
  if (flags & AMQP_BASIC_PRIORITY_FLAG) out.priority = in.priority;
  out.persistent = (flags & AMQP_BASIC_DELIVERY_MODE_FLAG) && in.delivery_mode == 2;
  if (flags & AMQP_BASIC_HEADERS_FLAG) {
    out.headers = table_to_json(in.headers, problems);
    // Beyond the limit, the largest headers are left out until the rest fits: whatever a
    // dead letter adds, it must still fit a frame.
    std::size_t size = 4;
    for (const auto& [key, value] : out.headers)
      size += 1 + key.size() + encoded_size(value);
    while (size > max_header_bytes && !out.headers.empty()) {
      auto largest = out.headers.begin();
      std::size_t largest_size = 0;
      for (auto it = out.headers.begin(); it != out.headers.end(); ++it) {
        const auto entry_size = 1 + it->key().size() + encoded_size(it->value());
        if (entry_size > largest_size) {
          largest = it;
          largest_size = entry_size;
        }
      }
      problems.push_back(fmt::format(
          "the headers take {} bytes, beyond amqp.max_header_bytes ({}): the header '{}' ({} "
          "bytes) was left out",
          size, max_header_bytes, std::string(largest->key()), largest_size));
      size -= largest_size;
      out.headers.erase(largest);
    }
  }
  return out;
}

timeval as_timeval(std::chrono::milliseconds duration) {
  timeval out{};
  out.tv_sec = static_cast<decltype(out.tv_sec)>(duration.count() / 1000);
  out.tv_usec = static_cast<decltype(out.tv_usec)>((duration.count() % 1000) * 1000);
  return out;
}

amqp_basic_properties_t write_properties(const Properties& in, TableBuilder& headers) {
  amqp_basic_properties_t properties{};
  properties._flags = AMQP_BASIC_DELIVERY_MODE_FLAG;
  properties.delivery_mode = in.persistent ? 2 : 1;
  auto text = [&](const std::string& value, amqp_flags_t flag, amqp_bytes_t& field) {
    if (value.empty()) return;
    properties._flags |= flag;
    field = as_bytes(value);
  };
  text(in.content_type, AMQP_BASIC_CONTENT_TYPE_FLAG, properties.content_type);
  text(in.content_encoding, AMQP_BASIC_CONTENT_ENCODING_FLAG, properties.content_encoding);
  text(in.message_id, AMQP_BASIC_MESSAGE_ID_FLAG, properties.message_id);
  text(in.correlation_id, AMQP_BASIC_CORRELATION_ID_FLAG, properties.correlation_id);
  text(in.reply_to, AMQP_BASIC_REPLY_TO_FLAG, properties.reply_to);
  text(in.expiration, AMQP_BASIC_EXPIRATION_FLAG, properties.expiration);
  text(in.type, AMQP_BASIC_TYPE_FLAG, properties.type);
  text(in.user_id, AMQP_BASIC_USER_ID_FLAG, properties.user_id);
  text(in.app_id, AMQP_BASIC_APP_ID_FLAG, properties.app_id);
  text(in.cluster_id, AMQP_BASIC_CLUSTER_ID_FLAG, properties.cluster_id);
  if (in.timestamp) {
    properties._flags |= AMQP_BASIC_TIMESTAMP_FLAG;
    properties.timestamp = static_cast<std::uint64_t>(*in.timestamp);
  }
  if (in.priority) {
    properties._flags |= AMQP_BASIC_PRIORITY_FLAG;
    properties.priority = *in.priority;
  }
  if (!in.headers.empty()) {
    properties._flags |= AMQP_BASIC_HEADERS_FLAG;
    properties.headers = headers.table();
  }
  return properties;
}

}  // namespace nqs::amqp
