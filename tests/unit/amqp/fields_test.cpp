// AMQP properties and field tables carried without loss: every field kind through the store's
// JSON and back to the wire unchanged; what cannot be carried (not UTF-8 where AMQP gives text, a
// name given twice, headers beyond the limit) left out and said.
#include "amqp/fields.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cmath>
#include <cstring>
#include <limits>

#include "amqp/properties_json.hpp"
#include "amqp/wire.hpp"

namespace nqs::amqp {
namespace {

using ::testing::HasSubstr;

amqp_bytes_t bytes(const char* text) {
  return amqp_bytes_t{std::strlen(text), const_cast<char*>(text)};
}

// Deep equality of two rabbitmq-c field values: kind and value, bytes for bytes.
bool same(const amqp_field_value_t& a, const amqp_field_value_t& b);

bool same(const amqp_table_t& a, const amqp_table_t& b) {
  if (a.num_entries != b.num_entries) return false;
  for (int i = 0; i < a.num_entries; ++i) {
    const auto& x = a.entries[i];
    const auto& y = b.entries[i];
    if (x.key.len != y.key.len || std::memcmp(x.key.bytes, y.key.bytes, x.key.len) != 0)
      return false;
    if (!same(x.value, y.value)) return false;
  }
  return true;
}

bool same(const amqp_field_value_t& a, const amqp_field_value_t& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case AMQP_FIELD_KIND_BOOLEAN:
      return (a.value.boolean != 0) == (b.value.boolean != 0);
    case AMQP_FIELD_KIND_I8:
      return a.value.i8 == b.value.i8;
    case AMQP_FIELD_KIND_U8:
      return a.value.u8 == b.value.u8;
    case AMQP_FIELD_KIND_I16:
      return a.value.i16 == b.value.i16;
    case AMQP_FIELD_KIND_U16:
      return a.value.u16 == b.value.u16;
    case AMQP_FIELD_KIND_I32:
      return a.value.i32 == b.value.i32;
    case AMQP_FIELD_KIND_U32:
      return a.value.u32 == b.value.u32;
    case AMQP_FIELD_KIND_I64:
      return a.value.i64 == b.value.i64;
    case AMQP_FIELD_KIND_U64:
    case AMQP_FIELD_KIND_TIMESTAMP:
      return a.value.u64 == b.value.u64;
    case AMQP_FIELD_KIND_F32:
      return std::memcmp(&a.value.f32, &b.value.f32, sizeof(float)) == 0;
    case AMQP_FIELD_KIND_F64:
      return std::memcmp(&a.value.f64, &b.value.f64, sizeof(double)) == 0;
    case AMQP_FIELD_KIND_DECIMAL:
      return a.value.decimal.decimals == b.value.decimal.decimals &&
             a.value.decimal.value == b.value.decimal.value;
    case AMQP_FIELD_KIND_UTF8:
    case AMQP_FIELD_KIND_BYTES:
      return a.value.bytes.len == b.value.bytes.len &&
             std::memcmp(a.value.bytes.bytes, b.value.bytes.bytes, a.value.bytes.len) == 0;
    case AMQP_FIELD_KIND_ARRAY:
      if (a.value.array.num_entries != b.value.array.num_entries) return false;
      for (int i = 0; i < a.value.array.num_entries; ++i) {
        if (!same(a.value.array.entries[i], b.value.array.entries[i])) return false;
      }
      return true;
    case AMQP_FIELD_KIND_TABLE:
      return same(a.value.table, b.value.table);
    case AMQP_FIELD_KIND_VOID:
      return true;
  }
  return false;
}

// A table with one entry of every field kind rabbitmq-c has, some at their limits.
class EveryKind {
 public:
  EveryKind() {
    auto add = [&](const char* key, amqp_field_value_t value) {
      entries_.push_back(amqp_table_entry_t{bytes(key), value});
    };
    amqp_field_value_t v{};
    v.kind = AMQP_FIELD_KIND_BOOLEAN, v.value.boolean = 1, add("bool", v);
    v = {}, v.kind = AMQP_FIELD_KIND_I8, v.value.i8 = -128, add("i8", v);
    v = {}, v.kind = AMQP_FIELD_KIND_U8, v.value.u8 = 255, add("u8", v);
    v = {}, v.kind = AMQP_FIELD_KIND_I16, v.value.i16 = -32768, add("i16", v);
    v = {}, v.kind = AMQP_FIELD_KIND_U16, v.value.u16 = 65535, add("u16", v);
    v = {}, v.kind = AMQP_FIELD_KIND_I32, v.value.i32 = -2147483647 - 1, add("i32", v);
    v = {}, v.kind = AMQP_FIELD_KIND_U32, v.value.u32 = 4294967295U, add("u32", v);
    v = {}, v.kind = AMQP_FIELD_KIND_I64, v.value.i64 = std::numeric_limits<std::int64_t>::min(),
    add("i64", v);
    v = {}, v.kind = AMQP_FIELD_KIND_U64, v.value.u64 = std::numeric_limits<std::uint64_t>::max(),
    add("u64", v);
    v = {}, v.kind = AMQP_FIELD_KIND_F32, v.value.f32 = 1.1F, add("f32", v);
    v = {}, v.kind = AMQP_FIELD_KIND_F64, v.value.f64 = std::nan(""), add("f64-nan", v);
    v = {}, v.kind = AMQP_FIELD_KIND_F64, v.value.f64 = -0.1, add("f64", v);
    v = {}, v.kind = AMQP_FIELD_KIND_DECIMAL, v.value.decimal = {2, 1250075}, add("decimal", v);
    v = {}, v.kind = AMQP_FIELD_KIND_TIMESTAMP, v.value.u64 = 1756700100, add("timestamp", v);
    v = {}, v.kind = AMQP_FIELD_KIND_UTF8, v.value.bytes = bytes("Сварщик"), add("utf8", v);
    v = {}, v.kind = AMQP_FIELD_KIND_UTF8, v.value.bytes = amqp_bytes_t{3, binary_},
    add("not-utf8", v);
    v = {}, v.kind = AMQP_FIELD_KIND_BYTES, v.value.bytes = amqp_bytes_t{3, binary_},
    add("bytes", v);
    v = {}, v.kind = AMQP_FIELD_KIND_VOID, add("void", v);
    items_[0].kind = AMQP_FIELD_KIND_I8, items_[0].value.i8 = 7;
    items_[1].kind = AMQP_FIELD_KIND_UTF8, items_[1].value.bytes = bytes("x");
    inner_[0] = amqp_table_entry_t{bytes("$i8"), items_[0]};  // a key that looks like a tag
    v = {}, v.kind = AMQP_FIELD_KIND_ARRAY, v.value.array = amqp_array_t{2, items_},
    add("array", v);
    v = {}, v.kind = AMQP_FIELD_KIND_TABLE, v.value.table = amqp_table_t{1, inner_},
    add("table", v);
  }
  amqp_table_t table() { return amqp_table_t{static_cast<int>(entries_.size()), entries_.data()}; }

 private:
  char binary_[3] = {'\xff', '\x00', '\xfe'};
  amqp_field_value_t items_[2]{};
  amqp_table_entry_t inner_[1]{};
  std::vector<amqp_table_entry_t> entries_;
};

TEST(AmqpFields, EveryKindSurvivesTheStoresJsonBitForBit) {
  EveryKind every;
  std::vector<std::string> problems;
  const auto json = table_to_json(every.table(), problems);
  EXPECT_TRUE(problems.empty());
  // Through text, as the outbox keeps it.
  const auto stored = boost::json::parse(boost::json::serialize(json)).as_object();
  TableBuilder built(stored);
  EXPECT_TRUE(same(every.table(), built.table())) << boost::json::serialize(json);
  // Readable where it can be: a UTF-8 string, a boolean and a long are themselves.
  EXPECT_EQ(json.at("utf8").as_string(), "Сварщик");
  EXPECT_EQ(json.at("bool").as_bool(), true);
  EXPECT_EQ(json.at("u8").at("$u8").to_number<std::int64_t>(), 255);
  EXPECT_EQ(encoded_size(every.table()), encoded_size(built.table()));
}

TEST(AmqpProperties, EveryPropertyThroughTheStoreAndBack) {
  EveryKind every;
  amqp_basic_properties_t in{};
  in._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_CONTENT_ENCODING_FLAG |
              AMQP_BASIC_HEADERS_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_PRIORITY_FLAG |
              AMQP_BASIC_CORRELATION_ID_FLAG | AMQP_BASIC_REPLY_TO_FLAG |
              AMQP_BASIC_EXPIRATION_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_TIMESTAMP_FLAG |
              AMQP_BASIC_TYPE_FLAG | AMQP_BASIC_USER_ID_FLAG | AMQP_BASIC_APP_ID_FLAG |
              AMQP_BASIC_CLUSTER_ID_FLAG;
  in.content_type = bytes("text/xml");
  in.content_encoding = bytes("identity");
  in.headers = every.table();
  in.delivery_mode = 2;
  in.priority = 7;
  in.correlation_id = bytes("c-1");
  in.reply_to = bytes("amq.rabbitmq.reply-to");
  in.expiration = bytes("60000");
  in.message_id = bytes("m-1");
  in.timestamp = 1756700100;
  in.type = bytes("VoucherApplication");
  in.user_id = bytes("guest");
  in.app_id = bytes("nqs-platform");
  in.cluster_id = bytes("c");
  const auto read = read_properties(in);
  EXPECT_TRUE(read.problems.empty());
  auto stored = properties_from_json(properties_to_json(read));
  ASSERT_TRUE(stored.has_value());
  TableBuilder headers(stored.value().headers);
  const auto out = write_properties(stored.value(), headers);
  EXPECT_EQ(out._flags, in._flags);
  for (auto [a, b] :
       {std::pair{in.content_type, out.content_type},
        std::pair{in.content_encoding, out.content_encoding},
        std::pair{in.correlation_id, out.correlation_id}, std::pair{in.reply_to, out.reply_to},
        std::pair{in.expiration, out.expiration}, std::pair{in.message_id, out.message_id},
        std::pair{in.type, out.type}, std::pair{in.user_id, out.user_id},
        std::pair{in.app_id, out.app_id}, std::pair{in.cluster_id, out.cluster_id}}) {
    EXPECT_EQ(std::string(static_cast<char*>(a.bytes), a.len),
              std::string(static_cast<char*>(b.bytes), b.len));
  }
  EXPECT_EQ(out.priority, 7);
  EXPECT_EQ(out.timestamp, in.timestamp);
  EXPECT_EQ(out.delivery_mode, 2);
  EXPECT_TRUE(same(in.headers, out.headers));
}

TEST(AmqpProperties, WhatCannotBeCarriedIsLeftOutAndSaid) {
  char bad[] = {'m', '\xff', '\xfe'};
  amqp_table_entry_t entries[4]{};
  amqp_field_value_t text{};
  text.kind = AMQP_FIELD_KIND_UTF8;
  text.value.bytes = bytes("v");
  entries[0] = {amqp_bytes_t{3, bad}, text};  // a name that is not UTF-8
  entries[1] = {bytes("twice"), text};
  entries[2] = {bytes("twice"), text};
  std::string big(40000, 'x');
  amqp_field_value_t large{};
  large.kind = AMQP_FIELD_KIND_UTF8;
  large.value.bytes = amqp_bytes_t{big.size(), big.data()};
  entries[3] = {bytes("big"), large};
  amqp_basic_properties_t in{};
  in._flags = AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_HEADERS_FLAG;
  in.message_id = amqp_bytes_t{3, bad};
  in.headers = amqp_table_t{4, entries};
  const auto read = read_properties(in, 32768);
  EXPECT_THAT(read.problems,
              ::testing::ElementsAre(HasSubstr("the property message_id is not UTF-8 (hex 6dfffe)"),
                                     HasSubstr("a header name that is not UTF-8 (hex 6dfffe)"),
                                     HasSubstr("the header 'twice' is given twice"),
                                     HasSubstr("the header 'big' (40009 bytes) was left out")));
  EXPECT_TRUE(read.message_id.empty());
  EXPECT_EQ(read.headers.size(), 1U) << boost::json::serialize(read.headers);
  EXPECT_TRUE(read.headers.contains("twice"));
}

}  // namespace
}  // namespace nqs::amqp
