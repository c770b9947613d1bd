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

#include "amqp/fields.hpp"
#include "amqp/message.hpp"
#include "amqp/url.hpp"
#include "common/result.hpp"

namespace nqs::amqp {

std::string to_string(amqp_bytes_t bytes);
amqp_bytes_t as_bytes(const std::string& text);
std::string reply_text(const amqp_rpc_reply_t& reply);
// The properties as they came; what cannot be carried (not UTF-8 where AMQP gives text, a
// header name given twice, headers beyond `max_header_bytes`) is left out and said in
// Properties::problems.
Properties read_properties(const amqp_basic_properties_t& in,
                           std::size_t max_header_bytes = kMaxHeaderBytes);
timeval as_timeval(std::chrono::milliseconds duration);

// Opens the socket to the node `settings` names, over TLS for amqps (the broker's certificate
// verified against tls.ca_file or the system's CAs, and its name against the host unless
// tls.verify_hostname is off), within the connect timeout. An error names the node and, for TLS,
// what OpenSSL found wrong.
Result<void> open_socket(amqp_connection_state_t state, const ConnectionSettings& settings);

// The broker's product and version from the server properties of connection.start; empty when it
// gave none.
ServerVersion server_version(amqp_connection_state_t state);

// The rabbitmq-c properties of `in`; `headers` must outlive the publish (it holds the table).
amqp_basic_properties_t write_properties(const Properties& in, TableBuilder& headers);

}  // namespace nqs::amqp
