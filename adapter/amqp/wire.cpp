#include "amqp/wire.hpp"

#include <fmt/format.h>

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

boost::json::value field_to_json(const amqp_field_value_t& field);

boost::json::value array_to_json(const amqp_array_t& array) {
  boost::json::array out;
  for (int i = 0; i < array.num_entries; ++i)
    out.push_back(field_to_json(array.entries[i]));
  return out;
}

boost::json::value field_to_json(const amqp_field_value_t& field) {
  switch (field.kind) {
    case AMQP_FIELD_KIND_BOOLEAN:
      return field.value.boolean != 0;
    case AMQP_FIELD_KIND_I8:
      return field.value.i8;
    case AMQP_FIELD_KIND_U8:
      return field.value.u8;
    case AMQP_FIELD_KIND_I16:
      return field.value.i16;
    case AMQP_FIELD_KIND_U16:
      return field.value.u16;
    case AMQP_FIELD_KIND_I32:
      return field.value.i32;
    case AMQP_FIELD_KIND_U32:
      return field.value.u32;
    case AMQP_FIELD_KIND_I64:
      return field.value.i64;
    case AMQP_FIELD_KIND_U64:
    case AMQP_FIELD_KIND_TIMESTAMP:
      return field.value.u64;
    case AMQP_FIELD_KIND_F32:
      return static_cast<double>(field.value.f32);
    case AMQP_FIELD_KIND_F64:
      return field.value.f64;
    case AMQP_FIELD_KIND_UTF8:
    case AMQP_FIELD_KIND_BYTES:
      return boost::json::string(to_string(field.value.bytes));
    case AMQP_FIELD_KIND_ARRAY:
      return array_to_json(field.value.array);
    case AMQP_FIELD_KIND_TABLE:
      return table_to_json(field.value.table);
    case AMQP_FIELD_KIND_DECIMAL:
      return boost::json::string(
          fmt::format("{}e-{}", field.value.decimal.value, field.value.decimal.decimals));
    case AMQP_FIELD_KIND_VOID:
      break;
  }
  return nullptr;
}

Properties read_properties(const amqp_basic_properties_t& in) {
  Properties out;
  if (in._flags & AMQP_BASIC_CONTENT_TYPE_FLAG) out.content_type = to_string(in.content_type);
  if (in._flags & AMQP_BASIC_MESSAGE_ID_FLAG) out.message_id = to_string(in.message_id);
  if (in._flags & AMQP_BASIC_CORRELATION_ID_FLAG) out.correlation_id = to_string(in.correlation_id);
  if (in._flags & AMQP_BASIC_TYPE_FLAG) out.type = to_string(in.type);
  if (in._flags & AMQP_BASIC_TIMESTAMP_FLAG)
    out.timestamp = static_cast<std::int64_t>(in.timestamp);
  out.persistent = (in._flags & AMQP_BASIC_DELIVERY_MODE_FLAG) && in.delivery_mode == 2;
  if (in._flags & AMQP_BASIC_HEADERS_FLAG) out.headers = table_to_json(in.headers);
  return out;
}

TableBuilder::TableBuilder(const boost::json::object& object) {
  entries_.reserve(object.size());
  for (const auto& [key, value] : object) {
    amqp_table_entry_t entry{};
    entry.key = keep(std::string(key));
    if (value.is_string()) {
      entry.value.kind = AMQP_FIELD_KIND_UTF8;
      entry.value.value.bytes = keep(std::string(value.get_string()));
    } else if (value.is_int64()) {
      entry.value.kind = AMQP_FIELD_KIND_I64;
      entry.value.value.i64 = value.get_int64();
    } else if (value.is_uint64()) {
      entry.value.kind = AMQP_FIELD_KIND_I64;
      entry.value.value.i64 = static_cast<std::int64_t>(value.get_uint64());
    } else if (value.is_bool()) {
      entry.value.kind = AMQP_FIELD_KIND_BOOLEAN;
      entry.value.value.boolean = value.get_bool() ? 1 : 0;
    } else {
      continue;  // nested values are never written by the adapter
    }
    entries_.push_back(entry);
  }
}

boost::json::object table_to_json(const amqp_table_t& table) {
  boost::json::object out;
  for (int i = 0; i < table.num_entries; ++i) {
    out[to_string(table.entries[i].key)] = field_to_json(table.entries[i].value);
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
  if (!in.content_type.empty()) {
    properties._flags |= AMQP_BASIC_CONTENT_TYPE_FLAG;
    properties.content_type = as_bytes(in.content_type);
  }
  if (!in.message_id.empty()) {
    properties._flags |= AMQP_BASIC_MESSAGE_ID_FLAG;
    properties.message_id = as_bytes(in.message_id);
  }
  if (!in.correlation_id.empty()) {
    properties._flags |= AMQP_BASIC_CORRELATION_ID_FLAG;
    properties.correlation_id = as_bytes(in.correlation_id);
  }
  if (!in.type.empty()) {
    properties._flags |= AMQP_BASIC_TYPE_FLAG;
    properties.type = as_bytes(in.type);
  }
  if (in.timestamp) {
    properties._flags |= AMQP_BASIC_TIMESTAMP_FLAG;
    properties.timestamp = static_cast<std::uint64_t>(*in.timestamp);
  }
  if (!in.headers.empty()) {
    properties._flags |= AMQP_BASIC_HEADERS_FLAG;
    properties.headers = headers.table();
  }
  return properties;
}

}  // namespace nqs::amqp
