#pragma once

#include <amqp.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "amqp/acknowledgements.hpp"
#include "amqp/message.hpp"
#include "amqp/url.hpp"
#include "common/result.hpp"

namespace nqs::amqp {

class ContentAssembler;

struct QueueSpec {
  std::string name;
  boost::json::object arguments;  // x-queue-type, x-dead-letter-exchange, ...
};
struct ExchangeSpec {
  std::string name;
  std::string type;  // topic, direct
};
struct BindingSpec {
  std::string queue;
  std::string exchange;
  std::string routing_key;
};
struct Topology {
  std::vector<ExchangeSpec> exchanges;
  std::vector<QueueSpec> queues;
  std::vector<BindingSpec> bindings;
};

struct QueueState {
  std::uint32_t messages = 0;
  std::uint32_t consumers = 0;
};

// One AMQP 0-9-1 connection (rabbitmq-c) run on an io_context; rabbitmq-c is not thread-safe, so
// every call happens on that io_context's one thread. Channel 2 publishes in confirm mode; each
// queue consumed has a channel of its own (1, then 3, 4, ...), on which its deliveries, taken in
// their order, are acknowledged in runs (Acknowledgements). Frames are read when the socket is
// readable, after every RPC (which may leave frames of other channels queued in the library), and
// on a timer that also keeps heartbeats going; a message's content is put together as its frames
// come, never waited for. Events arrive through the handlers, on the io_context thread.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  struct Handlers {
    std::function<void(Delivery)> on_delivery;
    // Publisher confirms: basic.ack (`acked`) or basic.nack for one tag or all up to it.
    std::function<void(std::uint64_t tag, bool multiple, bool acked)> on_confirm;
    // basic.return of a mandatory publish that no queue took (matched by message_id).
    std::function<void(std::string message_id, std::string reply)> on_return;
    // The broker cancelled a consumer (its queue was deleted).
    std::function<void(std::string queue)> on_consumer_cancelled;
    // connection.blocked / unblocked: the broker's resource alarms.
    std::function<void(bool blocked, std::string reason)> on_blocked;
    // The connection is gone; the object is closed and can be dropped.
    std::function<void(std::string reason)> on_lost;
  };

  Connection(boost::asio::io_context& io, ConnectionSettings settings, Handlers handlers,
             std::uint64_t generation);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Connects, logs in, opens the publishing channel in confirm mode (each consumed queue's
  // channel is opened, with the prefetch, by consume). Blocks for at most the connect and RPC
  // timeouts.
  Result<void> open();
  Result<void> declare(const Topology& topology);
  // Passive declare: does the queue exist, how many messages and consumers.
  Result<QueueState> inspect_queue(const std::string& queue);
  // Deliveries whose body is over `max_body` bytes come with the body unread
  // (Delivery::unread_body_bytes): never held, whatever size the broker lets a message be. A
  // failure leaves the connection to be dropped (the broker may have closed the channel).
  Result<void> consume(const std::string& queue, std::size_t max_body);
  Result<void> cancel(const std::string& queue);
  // Publishes on the confirm channel; returns its delivery tag for on_confirm.
  Result<std::uint64_t> publish(const Outgoing& message);
  // Asks for the delivery's acknowledgement, sent when the loop's turn ends: those of a turn go
  // together (Acknowledgements). A connection lost first loses them, as it loses any in flight:
  // the broker delivers those messages again.
  Result<void> ack(const Delivery& delivery);
  // basic.reject without requeue: the queue's dead-letter exchange takes the message as it is.
  Result<void> reject(const Delivery& delivery);
  // Starts reading frames (after open and the first consume).
  void start();
  // Sends the acks asked for and closes politely (each channel's close bounded by the RPC
  // timeout); no handler is called after.
  void close();

  [[nodiscard]] bool is_open() const { return state_ != nullptr; }
  [[nodiscard]] std::uint64_t generation() const { return generation_; }
  // The broker's product and version as it announced them at connection.start.
  [[nodiscard]] const std::string& server() const { return server_; }

 private:
  static constexpr amqp_channel_t kPublishChannel = 2;  // publishes, confirmed
  // A queue's consuming channel: its deliveries and their acknowledgements.
  struct ConsumeChannel {
    amqp_channel_t number = 0;
    std::string queue;
    Acknowledgements acks;
  };
  // The queue's channel, opened (with the prefetch) the first time the queue is consumed.
  Result<amqp_channel_t> channel_for(const std::string& queue);
  ConsumeChannel* find_channel(amqp_channel_t number);
  // The channel a delivery of this connection came on; none for another connection's.
  ConsumeChannel* channel_of(const Delivery& delivery);
  void wait_readable();
  void schedule_poll();
  // Reads every frame that is buffered or readable now, without blocking.
  void drain();
  void handle(const amqp_frame_t& frame);
  // A delivery, whose header and body frames follow (ContentAssembler).
  void handle_delivery(const amqp_frame_t& frame);
  // A message the broker could not route; its content follows and is not kept.
  void handle_return(const amqp_frame_t& frame);
  // A header or body frame; hands on the message it completes.
  void handle_content(const amqp_frame_t& frame);
  // The broker cancelled a consumer (its queue was deleted, say).
  void handle_consumer_cancel(const amqp_basic_cancel_t& cancel);
  // Sends the acknowledgements asked for since the last time; a failed write loses the
  // connection (write_acks: the first failure's status).
  void send_acks();
  int write_acks();
  Result<void> check_rpc(std::string_view doing);
  void lose(std::string reason);
  // What a connection that is gone held: its consumers, channels, contents and asked acks.
  void forget();
  void release_socket();

  boost::asio::io_context& io_;
  ConnectionSettings settings_;
  Handlers handlers_;
  std::uint64_t generation_;
  amqp_connection_state_t state_ = nullptr;
  std::optional<boost::asio::posix::stream_descriptor> socket_;
  boost::asio::steady_timer poll_timer_;
  std::string server_;
  std::uint64_t next_publish_tag_ = 1;
  struct Consumer {
    std::string tag;
    std::string queue;
    std::size_t max_body = 0;
    amqp_channel_t channel = 0;
    bool cancelled = false;  // by the adapter or the broker
  };
  std::vector<Consumer> consumers_;
  std::unique_ptr<ContentAssembler> contents_;  // messages whose content is still coming
  bool draining_ = false;
  std::vector<ConsumeChannel> channels_;
  bool acks_posted_ = false;
};

}  // namespace nqs::amqp
