#include "ops/management.hpp"

#include <fmt/format.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <regex>

#include "common/base64.hpp"

namespace nqs::ops {
namespace {

std::string percent_encode(const std::string& text) {
  std::string out;
  for (const unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::int64_t number(const boost::json::object& object, const char* key) {
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_int64() ? value->get_int64() : 0;
}

}  // namespace

Result<ManagedQueue> managed_queue(const std::string& url, const std::string& vhost,
                                   const std::string& queue) {
  namespace http = boost::beast::http;
  const std::regex shape(R"(http://(?:([^:@/]+):([^@/]*)@)?([^:/]+):(\d+)/?)");
  std::smatch match;
  if (!std::regex_match(url, match, shape)) {
    return make_error("ops.management_url is not http://user:password@host:port");
  }
  try {
    boost::asio::io_context io;
    boost::asio::ip::tcp::resolver resolver(io);
    boost::beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds{5});
    stream.connect(resolver.resolve(std::string(match[3]), std::string(match[4])));
    http::request<http::empty_body> request{
        http::verb::get,
        fmt::format("/api/queues/{}/{}", percent_encode(vhost), percent_encode(queue)), 11};
    request.set(http::field::host, std::string(match[3]));
    request.set(http::field::authorization,
                "Basic " + base64(std::string(match[1]) + ":" + std::string(match[2])));
    http::write(stream, request);
    boost::beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(stream, buffer, response);
    if (response.result_int() != 200) {
      return make_error(
          fmt::format("the management API answered {} for {}", response.result_int(), queue));
    }
    boost::system::error_code ec;
    auto body = boost::json::parse(response.body(), ec);
    if (ec || !body.is_object()) return make_error("the management API answered no JSON object");
    const auto& object = body.as_object();
    return ManagedQueue{number(object, "messages_ready"), number(object, "messages_unacknowledged"),
                        number(object, "consumers")};
  } catch (const std::exception& error) {
    return make_error(fmt::format("the management API at {}:{}: {}", std::string(match[3]),
                                  std::string(match[4]), error.what()));
  }
}

}  // namespace nqs::ops
