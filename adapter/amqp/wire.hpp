#pragma once

// The AMQP wire types of rabbitmq-c and the adapter's own (Properties as JSON headers), shared by
// the daemon's asynchronous connection and the command line's synchronous one.
#include <amqp.h>
#include <sys/time.h>

#include <boost/json/object.hpp>
#include <chrono>
#include <deque>
#include <string>
#include <vector>

#include "amqp/connection.hpp"

namespace nqs::amqp {

std::string to_string(amqp_bytes_t bytes);
amqp_bytes_t as_bytes(const std::string& text);
std::string reply_text(const amqp_rpc_reply_t& reply);
Properties read_properties(const amqp_basic_properties_t& in);
timeval as_timeval(std::chrono::milliseconds duration);

// Holds the entries and strings of an AMQP table built from JSON until it is sent.
class TableBuilder {
 public:
  explicit TableBuilder(const boost::json::object& object);
  TableBuilder(const TableBuilder&) = delete;
  TableBuilder& operator=(const TableBuilder&) = delete;
  amqp_table_t table() {
    return amqp_table_t{static_cast<int>(entries_.size()),
                        entries_.empty() ? nullptr : entries_.data()};
  }

 private:
  amqp_bytes_t keep(std::string text) {
    strings_.push_back(std::move(text));
    return as_bytes(strings_.back());
  }
  std::deque<std::string> strings_;  // stable addresses
  std::vector<amqp_table_entry_t> entries_;
};

// The rabbitmq-c properties of `in`; `headers` must outlive the publish (it holds the table).
amqp_basic_properties_t write_properties(const Properties& in, TableBuilder& headers);

}  // namespace nqs::amqp
