#include "amqp/wire.hpp"

#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>
#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

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

namespace {

// What OpenSSL last found wrong (the reason of its newest queued error), and the queue cleared.
std::string openssl_reason() {
  std::string reason;
  while (const unsigned long code = ERR_get_error()) {
    const char* text = ERR_reason_error_string(code);
    reason = text != nullptr ? text : fmt::format("OpenSSL error {:#x}", code);
  }
  return reason;
}

}  // namespace

Result<void> open_socket(amqp_connection_state_t state, const ConnectionSettings& settings) {
  const auto& tls = settings.tls;
  amqp_socket_t* socket = tls.enabled ? amqp_ssl_socket_new(state) : amqp_tcp_socket_new(state);
  if (socket == nullptr) {
    return make_error(
        fmt::format("{}: cannot create a {} socket", settings.node(), tls.enabled ? "TLS" : "TCP"));
  }
  if (tls.enabled) {
    ERR_clear_error();
    amqp_ssl_socket_set_verify_peer(socket, 1);
    amqp_ssl_socket_set_verify_hostname(socket, tls.verify_hostname ? 1 : 0);
    if (!tls.ca_file.empty()) {
      if (amqp_ssl_socket_set_cacert(socket, tls.ca_file.c_str()) != AMQP_STATUS_OK) {
        return make_error(fmt::format("{}: amqp.tls.ca_file {} cannot be read: {}", settings.node(),
                                      tls.ca_file, openssl_reason()),
                          Failure::permanent);
      }
    } else if (auto* context = static_cast<SSL_CTX*>(amqp_ssl_socket_get_context(socket));
               context == nullptr || SSL_CTX_set_default_verify_paths(context) != 1) {
      return make_error(
          fmt::format("{}: the system's CA certificates cannot be loaded", settings.node()),
          Failure::permanent);
    }
    if (!tls.certificate.empty() && amqp_ssl_socket_set_key(socket, tls.certificate.c_str(),
                                                            tls.key.c_str()) != AMQP_STATUS_OK) {
      return make_error(fmt::format("{}: the client certificate {} and key {} cannot be used: {}",
                                    settings.node(), tls.certificate, tls.key, openssl_reason()),
                        Failure::permanent);
    }
  }
  auto timeout = as_timeval(settings.connect_timeout);
  const int opened =
      amqp_socket_open_noblock(socket, settings.host.c_str(), settings.port, &timeout);
  if (opened == AMQP_STATUS_OK) return outcome::success();
  if (!tls.enabled) {
    return make_error(
        fmt::format("cannot connect to {}: {}", settings.node(), amqp_error_string2(opened)));
  }
  const auto reason = openssl_reason();
  std::string hint;
  if (opened == AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED) {
    hint = fmt::format("; the broker's certificate does not name {}", settings.host);
  } else if (reason.find("certificate verify failed") != std::string::npos ||
             opened == AMQP_STATUS_SSL_PEER_VERIFY_FAILED) {
    hint = fmt::format("; the broker's certificate does not verify against {}",
                       tls.ca_file.empty() ? "the system's CAs" : tls.ca_file);
  }
  return make_error(fmt::format(
      "cannot connect to {} over TLS: {}{}{}", settings.node(), amqp_error_string2(opened),
      reason.empty() ? std::string() : fmt::format(" ({})", reason), hint));
}

ServerVersion server_version(amqp_connection_state_t state) {
  ServerVersion out;
  const amqp_table_t* properties = amqp_get_server_properties(state);
  if (properties == nullptr) return out;
  for (int i = 0; i < properties->num_entries; ++i) {
    const auto& entry = properties->entries[i];
    if (entry.value.kind != AMQP_FIELD_KIND_UTF8 && entry.value.kind != AMQP_FIELD_KIND_BYTES) {
      continue;
    }
    const auto key = to_string(entry.key);
    if (key == "product") out.product = to_string(entry.value.value.bytes);
    if (key == "version") out.version = to_string(entry.value.value.bytes);
  }
  return out;
}

}  // namespace nqs::amqp
