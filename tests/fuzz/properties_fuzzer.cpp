// libFuzzer target: arbitrary bytes as the properties of an AMQP content header, as a delivery
// from the bus brings them (rabbitmq-c decodes them; read_properties reads them for the adapter).
// Whatever they hold, reading them must return, what was read must be stored and read back
// unchanged (the outbox keeps a dead letter's properties as JSON), and written and read again it
// must be what it was (a dead letter and its replay carry them as they came), within the size
// limit that keeps every dead letter inside a frame.
#include <amqp.h>
#include <amqp_framing.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "amqp/fields.hpp"
#include "amqp/properties_json.hpp"
#include "amqp/wire.hpp"

namespace {

constexpr std::size_t kMaxHeaderBytes = 32768;

// Properties equal as the adapter carries them (problems are not carried).
bool same(const nqs::amqp::Properties& a, const nqs::amqp::Properties& b) {
  return a.content_type == b.content_type && a.content_encoding == b.content_encoding &&
         a.message_id == b.message_id && a.correlation_id == b.correlation_id &&
         a.reply_to == b.reply_to && a.expiration == b.expiration && a.type == b.type &&
         a.user_id == b.user_id && a.app_id == b.app_id && a.cluster_id == b.cluster_id &&
         a.timestamp == b.timestamp && a.priority == b.priority && a.persistent == b.persistent &&
         a.headers == b.headers;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  amqp_pool_t pool;
  init_amqp_pool(&pool, 4096);
  void* decoded = nullptr;
  amqp_bytes_t encoded{size, const_cast<std::uint8_t*>(data)};
  if (amqp_decode_properties(AMQP_BASIC_CLASS, &pool, encoded, &decoded) < 0 ||
      decoded == nullptr) {
    empty_amqp_pool(&pool);
    return 0;
  }
  const auto read = nqs::amqp::read_properties(
      *static_cast<const amqp_basic_properties_t*>(decoded), kMaxHeaderBytes);
  // Within the limit, whatever came (measured as read_properties measures it).
  std::size_t header_bytes = 4;
  for (const auto& [key, value] : read.headers)
    header_bytes += 1 + key.size() + nqs::amqp::encoded_size(value);
  if (header_bytes > kMaxHeaderBytes) __builtin_trap();
  // Stored and read back: the same.
  auto stored = nqs::amqp::properties_from_json(nqs::amqp::properties_to_json(read));
  if (!stored || !same(stored.value(), read)) __builtin_trap();
  // Written to the wire and read again: the same, with nothing left to refuse.
  nqs::amqp::TableBuilder headers(read.headers);
  auto written = nqs::amqp::write_properties(read, headers);
  std::vector<std::uint8_t> buffer(256 * 1024);
  const int length = amqp_encode_properties(AMQP_BASIC_CLASS, &written,
                                            amqp_bytes_t{buffer.size(), buffer.data()});
  if (length < 0) __builtin_trap();
  void* again = nullptr;
  if (amqp_decode_properties(AMQP_BASIC_CLASS, &pool,
                             amqp_bytes_t{static_cast<std::size_t>(length), buffer.data()},
                             &again) < 0) {
    __builtin_trap();
  }
  const auto reread = nqs::amqp::read_properties(
      *static_cast<const amqp_basic_properties_t*>(again), kMaxHeaderBytes);
  if (!reread.problems.empty() || !same(reread, read)) __builtin_trap();
  empty_amqp_pool(&pool);
  return 0;
}
