#pragma once

#include <amqp.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// AMQP field tables (headers) as JSON, without loss, so that a message can be kept in the store
// and published again exactly as it came: every field kind of rabbitmq-c keeps its kind and
// value. A UTF-8 long string, a boolean and a signed 64-bit integer are themselves; every other
// kind is an object of one tagged member: {"$i8": -5}, {"$u8": 200}, {"$i16"}, {"$u16"}, {"$i32"},
// {"$u32"}, {"$u64"}, {"$f32": "3fc00000"} and {"$f64": "..."} (the bits, in hex: NaN and the
// infinities too), {"$decimal": [decimals, value]}, {"$timestamp": seconds}, {"$bytes": "base64"}
// (a byte array), {"$string": "base64"} (a long string that is not UTF-8), {"$void": null},
// {"$array": [...]}, {"$table": {...}}. A nested table is always tagged, so a JSON object in a
// value is never ambiguous.
namespace nqs::amqp {

bool is_utf8(std::string_view text);
// The first bytes of `bytes` in hex, for saying which bytes in a message.
std::string hex_prefix(std::string_view bytes);

// Reads a table; an entry that cannot be carried (a name that is not UTF-8, a name given twice)
// is left out and said in `problems`, with `where` (e.g. "header") and its path.
boost::json::object table_to_json(const amqp_table_t& table, std::vector<std::string>& problems,
                                  const std::string& where = "header");
// The same, for readers that need no report.
boost::json::object table_to_json(const amqp_table_t& table);

// The bytes a table takes on the wire.
std::size_t encoded_size(const amqp_table_t& table);
std::size_t encoded_size(const boost::json::value& field);

// A text header (a UTF-8 long string), or empty.
std::string header_text(const boost::json::object& headers, std::string_view key);
// An integer header of any integer kind, or 0.
std::int64_t header_integer(const boost::json::object& headers, std::string_view key);
// The contents of a tagged array or table, or nullptr when the value is not one.
const boost::json::array* as_array(const boost::json::value& value);
const boost::json::object* as_table(const boost::json::value& value);
// The seconds of a timestamp field, or nothing.
std::optional<std::uint64_t> as_timestamp(const boost::json::value& value);

// Holds a rabbitmq-c table built from that JSON until it is sent.
class TableBuilder {
 public:
  explicit TableBuilder(const boost::json::object& object);
  TableBuilder(const TableBuilder&) = delete;
  TableBuilder& operator=(const TableBuilder&) = delete;
  amqp_table_t table() const { return root_; }

 private:
  amqp_table_t build(const boost::json::object& object);
  amqp_field_value_t field(const boost::json::value& value);
  amqp_bytes_t keep(std::string text);

  std::deque<std::string> strings_;                     // stable addresses
  std::deque<std::vector<amqp_table_entry_t>> tables_;  // likewise
  std::deque<std::vector<amqp_field_value_t>> arrays_;
  amqp_table_t root_{};
};

}  // namespace nqs::amqp
