#include "amqp/fields.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <bit>
#include <cstring>
#include <set>

#include "common/base64.hpp"
#include "common/ids.hpp"

namespace nqs::amqp {
namespace {

std::string bytes_of(amqp_bytes_t bytes) {
  return bytes.bytes == nullptr ? std::string()
                                : std::string(static_cast<const char*>(bytes.bytes), bytes.len);
}

}  // namespace

bool is_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t length = c < 0x80           ? 1
                         : (c >> 5) == 0x6  ? 2
                         : (c >> 4) == 0xE  ? 3
                         : (c >> 3) == 0x1E ? 4
                                            : 0;
    if (length == 0 || i + length > text.size()) return false;
    std::uint32_t point = length == 1 ? c : c & (0xFF >> (length + 1));
    for (std::size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      point = (point << 6) | (next & 0x3F);
    }
    // Overlong forms, surrogates and values beyond Unicode are not UTF-8.
    if ((length == 2 && point < 0x80) || (length == 3 && point < 0x800) ||
        (length == 4 && point < 0x10000) || point > 0x10FFFF ||
        (point >= 0xD800 && point <= 0xDFFF)) {
      return false;
    }
    i += length;
  }
  return true;
}

std::string hex_prefix(std::string_view bytes) {
  std::string out = to_hex(bytes.substr(0, 16));
  if (bytes.size() > 16) out += "...";
  return out;
}

namespace {

std::string unbase64(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) return {};
  std::string out(text.size() / 4 * 3, '\0');
  const int length = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                     reinterpret_cast<const unsigned char*>(text.data()),
                                     static_cast<int>(text.size()));
  if (length < 0) return {};
  std::size_t padding = 0;
  if (text.back() == '=') ++padding;
  if (text[text.size() - 2] == '=') ++padding;
  out.resize(static_cast<std::size_t>(length) - padding);
  return out;
}

template <typename Float, typename Bits>
std::string bits_of(Float value) {
  return fmt::format("{:0{}x}", std::bit_cast<Bits>(value), 2 * sizeof(Bits));
}

template <typename Float, typename Bits>
Float float_of(const boost::json::value& value) {
  const auto* text = value.if_string();
  Bits bits = 0;
  if (text != nullptr) bits = static_cast<Bits>(std::stoull(std::string(*text), nullptr, 16));
  return std::bit_cast<Float>(bits);
}

boost::json::object tagged(std::string_view tag, boost::json::value value) {
  boost::json::object out;
  out[tag] = std::move(value);
  return out;
}

boost::json::value field_to_json(const amqp_field_value_t& field,
                                 std::vector<std::string>& problems, const std::string& where);

boost::json::value table_value(const amqp_table_t& table, std::vector<std::string>& problems,
                               const std::string& where) {
  std::set<std::string> seen;
  boost::json::object out;
  for (int i = 0; i < table.num_entries; ++i) {
    const auto& entry = table.entries[i];
    const std::string key = bytes_of(entry.key);
    if (!is_utf8(key)) {
      problems.push_back(
          fmt::format("a {} name that is not UTF-8 (hex {}) was left out", where, hex_prefix(key)));
      continue;
    }
    const std::string path = fmt::format("{} '{}'", where, key);
    if (!seen.insert(key).second) {
      problems.push_back(fmt::format("the {} is given twice; the second was left out", path));
      continue;
    }
    out[key] = field_to_json(entry.value, problems, path);
  }
  return out;
}

boost::json::value field_to_json(const amqp_field_value_t& field,
                                 std::vector<std::string>& problems, const std::string& where) {
  switch (field.kind) {
    case AMQP_FIELD_KIND_BOOLEAN:
      return field.value.boolean != 0;
    case AMQP_FIELD_KIND_I8:
      return tagged("$i8", field.value.i8);
    case AMQP_FIELD_KIND_U8:
      return tagged("$u8", field.value.u8);
    case AMQP_FIELD_KIND_I16:
      return tagged("$i16", field.value.i16);
    case AMQP_FIELD_KIND_U16:
      return tagged("$u16", field.value.u16);
    case AMQP_FIELD_KIND_I32:
      return tagged("$i32", field.value.i32);
    case AMQP_FIELD_KIND_U32:
      return tagged("$u32", field.value.u32);
    case AMQP_FIELD_KIND_I64:
      return field.value.i64;
    case AMQP_FIELD_KIND_U64:
      return tagged("$u64", field.value.u64);
    case AMQP_FIELD_KIND_TIMESTAMP:
      return tagged("$timestamp", field.value.u64);
    case AMQP_FIELD_KIND_F32:
      return tagged("$f32", boost::json::string(bits_of<float, std::uint32_t>(field.value.f32)));
    case AMQP_FIELD_KIND_F64:
      return tagged("$f64", boost::json::string(bits_of<double, std::uint64_t>(field.value.f64)));
    case AMQP_FIELD_KIND_DECIMAL:
      return tagged("$decimal",
                    boost::json::array{field.value.decimal.decimals, field.value.decimal.value});
    case AMQP_FIELD_KIND_UTF8: {
      auto text = bytes_of(field.value.bytes);
      if (is_utf8(text)) return boost::json::string(text);
      return tagged("$string", boost::json::string(base64(text)));
    }
    case AMQP_FIELD_KIND_BYTES:
      return tagged("$bytes", boost::json::string(base64(bytes_of(field.value.bytes))));
    case AMQP_FIELD_KIND_ARRAY: {
      boost::json::array items;
      for (int i = 0; i < field.value.array.num_entries; ++i) {
        items.push_back(field_to_json(field.value.array.entries[i], problems,
                                      fmt::format("{} [{}]", where, i)));
      }
      return tagged("$array", std::move(items));
    }
    case AMQP_FIELD_KIND_TABLE:
      return tagged("$table", table_value(field.value.table, problems, where));
    case AMQP_FIELD_KIND_VOID:
      break;
  }
  return tagged("$void", nullptr);
}

// The one tagged member of a value, or nothing.
const boost::json::key_value_pair* tag_of(const boost::json::value& value) {
  const auto* object = value.if_object();
  if (object == nullptr || object->size() != 1) return nullptr;
  const auto& member = *object->begin();
  return member.key().starts_with("$") ? &member : nullptr;
}

std::size_t string_size(std::size_t length) {
  return 4 + length;
}

std::int64_t signed_of(const boost::json::value& inner) {
  return inner.is_int64()    ? inner.get_int64()
         : inner.is_uint64() ? static_cast<std::int64_t>(inner.get_uint64())
                             : 0;
}

std::uint64_t unsigned_of(const boost::json::value& inner) {
  return inner.is_uint64()  ? inner.get_uint64()
         : inner.is_int64() ? static_cast<std::uint64_t>(inner.get_int64())
                            : 0;
}

// Fills out from a tagged number ($i8 to $u64, $timestamp, $f32, $f64); false for other tags.
bool number_field(std::string_view name, const boost::json::value& inner, amqp_field_value_t& out) {
  if (name == "$i8") {
    out.kind = AMQP_FIELD_KIND_I8;
    out.value.i8 = static_cast<std::int8_t>(signed_of(inner));
  } else if (name == "$u8") {
    out.kind = AMQP_FIELD_KIND_U8;
    out.value.u8 = static_cast<std::uint8_t>(unsigned_of(inner));
  } else if (name == "$i16") {
    out.kind = AMQP_FIELD_KIND_I16;
    out.value.i16 = static_cast<std::int16_t>(signed_of(inner));
  } else if (name == "$u16") {
    out.kind = AMQP_FIELD_KIND_U16;
    out.value.u16 = static_cast<std::uint16_t>(unsigned_of(inner));
  } else if (name == "$i32") {
    out.kind = AMQP_FIELD_KIND_I32;
    out.value.i32 = static_cast<std::int32_t>(signed_of(inner));
  } else if (name == "$u32") {
    out.kind = AMQP_FIELD_KIND_U32;
    out.value.u32 = static_cast<std::uint32_t>(unsigned_of(inner));
  } else if (name == "$u64") {
    out.kind = AMQP_FIELD_KIND_U64;
    out.value.u64 = unsigned_of(inner);
  } else if (name == "$timestamp") {
    out.kind = AMQP_FIELD_KIND_TIMESTAMP;
    out.value.u64 = unsigned_of(inner);
  } else if (name == "$f32") {
    out.kind = AMQP_FIELD_KIND_F32;
    out.value.f32 = float_of<float, std::uint32_t>(inner);
  } else if (name == "$f64") {
    out.kind = AMQP_FIELD_KIND_F64;
    out.value.f64 = float_of<double, std::uint64_t>(inner);
  } else {
    return false;
  }
  return true;
}

}  // namespace

boost::json::object table_to_json(const amqp_table_t& table, std::vector<std::string>& problems,
                                  const std::string& where) {
  return table_value(table, problems, where).as_object();
}

boost::json::object table_to_json(const amqp_table_t& table) {
  std::vector<std::string> ignored;
  return table_to_json(table, ignored);
}

std::size_t encoded_size(const boost::json::value& field) {
  // The kind byte, then the value.
  if (field.is_bool()) return 1 + 1;
  if (field.is_int64() || field.is_uint64()) return 1 + 8;
  if (const auto* text = field.if_string()) return 1 + string_size(text->size());
  const auto* tag = tag_of(field);
  if (tag == nullptr) return 1;
  const auto& name = tag->key();
  const auto& value = tag->value();
  if (name == "$i8" || name == "$u8") return 2;
  if (name == "$i16" || name == "$u16") return 3;
  if (name == "$i32" || name == "$u32" || name == "$f32") return 5;
  if (name == "$u64" || name == "$timestamp" || name == "$f64") return 9;
  if (name == "$decimal") return 6;
  if (name == "$string" || name == "$bytes") {
    return 1 + string_size(value.is_string() ? value.get_string().size() * 3 / 4 : 0);
  }
  if (name == "$array" && value.is_array()) {
    std::size_t size = 1 + 4;
    for (const auto& item : value.get_array())
      size += encoded_size(item);
    return size;
  }
  if (name == "$table" && value.is_object()) {
    std::size_t size = 1 + 4;
    for (const auto& [key, item] : value.get_object())
      size += 1 + key.size() + encoded_size(item);
    return size;
  }
  return 1;
}

std::size_t encoded_size(const amqp_table_t& table) {
  std::vector<std::string> ignored;
  return encoded_size(boost::json::value(tagged("$table", table_value(table, ignored, "")))) - 1;
}

std::string header_text(const boost::json::object& headers, std::string_view key) {
  const auto* value = headers.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->get_string()) : std::string();
}

std::int64_t header_integer(const boost::json::object& headers, std::string_view key) {
  const auto* value = headers.if_contains(key);
  if (value == nullptr) return 0;
  if (value->is_int64()) return value->get_int64();
  if (const auto* tag = tag_of(*value)) {
    if (tag->value().is_int64()) return tag->value().get_int64();
    if (tag->value().is_uint64()) return static_cast<std::int64_t>(tag->value().get_uint64());
  }
  return 0;
}

const boost::json::array* as_array(const boost::json::value& value) {
  const auto* tag = tag_of(value);
  return tag != nullptr && tag->key() == "$array" ? tag->value().if_array() : nullptr;
}

const boost::json::object* as_table(const boost::json::value& value) {
  const auto* tag = tag_of(value);
  return tag != nullptr && tag->key() == "$table" ? tag->value().if_object() : nullptr;
}

std::optional<std::uint64_t> as_timestamp(const boost::json::value& value) {
  const auto* tag = tag_of(value);
  if (tag == nullptr || tag->key() != "$timestamp") return std::nullopt;
  if (tag->value().is_uint64()) return tag->value().get_uint64();
  if (tag->value().is_int64()) return static_cast<std::uint64_t>(tag->value().get_int64());
  return std::nullopt;
}

TableBuilder::TableBuilder(const boost::json::object& object) : root_(build(object)) {}

amqp_bytes_t TableBuilder::keep(std::string text) {
  strings_.push_back(std::move(text));
  return amqp_bytes_t{strings_.back().size(), strings_.back().data()};
}

amqp_table_t TableBuilder::build(const boost::json::object& object) {
  auto& entries = tables_.emplace_back();
  entries.reserve(object.size());
  for (const auto& [key, value] : object) {
    amqp_table_entry_t entry{};
    entry.key = keep(std::string(key));
    entry.value = field(value);
    entries.push_back(entry);
  }
  return amqp_table_t{static_cast<int>(entries.size()), entries.empty() ? nullptr : entries.data()};
}

amqp_field_value_t TableBuilder::field(const boost::json::value& value) {
  amqp_field_value_t out{};
  if (value.is_bool()) {
    out.kind = AMQP_FIELD_KIND_BOOLEAN;
    out.value.boolean = value.get_bool() ? 1 : 0;
    return out;
  }
  if (value.is_int64() || value.is_uint64()) {
    out.kind = AMQP_FIELD_KIND_I64;
    out.value.i64 =
        value.is_int64() ? value.get_int64() : static_cast<std::int64_t>(value.get_uint64());
    return out;
  }
  if (const auto* text = value.if_string()) {
    out.kind = AMQP_FIELD_KIND_UTF8;
    out.value.bytes = keep(std::string(*text));
    return out;
  }
  const auto* tag = tag_of(value);
  out.kind = AMQP_FIELD_KIND_VOID;
  if (tag == nullptr) return out;
  const std::string_view name = tag->key();
  const auto& inner = tag->value();
  if (number_field(name, inner, out)) return out;
  if (name == "$decimal" && inner.is_array() && inner.get_array().size() == 2) {
    out.kind = AMQP_FIELD_KIND_DECIMAL;
    const auto& parts = inner.get_array();
    out.value.decimal.decimals = static_cast<std::uint8_t>(parts[0].to_number<std::int64_t>());
    out.value.decimal.value = static_cast<std::uint32_t>(parts[1].to_number<std::int64_t>());
  } else if ((name == "$string" || name == "$bytes") && inner.is_string()) {
    out.kind = name == "$string" ? AMQP_FIELD_KIND_UTF8 : AMQP_FIELD_KIND_BYTES;
    out.value.bytes = keep(unbase64(inner.get_string()));
  } else if (name == "$array" && inner.is_array()) {
    auto& items = arrays_.emplace_back();
    for (const auto& item : inner.get_array())
      items.push_back(field(item));
    out.kind = AMQP_FIELD_KIND_ARRAY;
    out.value.array =
        amqp_array_t{static_cast<int>(items.size()), items.empty() ? nullptr : items.data()};
  } else if (name == "$table" && inner.is_object()) {
    out.kind = AMQP_FIELD_KIND_TABLE;
    out.value.table = build(inner.get_object());
  }
  return out;
}

}  // namespace nqs::amqp
