#include "revocation/http_fetch.hpp"

#include <fmt/format.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <charconv>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace nqs::revocation {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

Result<HttpUrl> parse_http_url(const std::string& url) {
  constexpr std::string_view scheme = "http://";
  if (url.size() > 2048) return make_error("a URL longer than 2048 characters");
  if (url.compare(0, scheme.size(), scheme) != 0) {
    return make_error(
        fmt::format("'{}' is not an http:// URL (CRLs and OCSP are fetched over "
                    "plain HTTP; their signatures protect them)",
                    url));
  }
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= ' ' || static_cast<unsigned char>(c) >= 0x7f) {
      return make_error(fmt::format("'{}' has a space or a character outside ASCII", url));
    }
  }
  if (url.find('#') != std::string::npos)
    return make_error(fmt::format("'{}' has a fragment", url));
  HttpUrl out;
  const auto rest = std::string_view(url).substr(scheme.size());
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) out.target = std::string(rest.substr(slash));
  if (authority.find('@') != std::string_view::npos) {
    return make_error(fmt::format("'{}' carries user information", url));
  }
  std::string_view host = authority;
  std::string_view port;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return make_error(fmt::format("'{}': an unclosed [", url));
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return make_error(fmt::format("'{}': a bad host", url));
      port = authority.substr(close + 2);
    }
  } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return make_error(fmt::format("'{}' names no host", url));
  out.host = std::string(host);
  if (!port.empty()) {
    int number = 0;
    auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), number);
    if (error != std::errc{} || end != port.data() + port.size() || number < 1 || number > 65535) {
      return make_error(fmt::format("'{}': the port is not 1-65535", url));
    }
    out.port = std::string(port);
  }
  return out;
}

namespace {

// The addresses of `host` within `timeout`: a literal address at once; a name on a thread of its
// own, left to finish alone if the deadline passes (getaddrinfo cannot be cancelled, and a
// resolver of Asio's would make the caller wait for it when destroyed).
Result<std::vector<asio::ip::tcp::endpoint>> resolve(const HttpUrl& url,
                                                     std::chrono::milliseconds timeout) {
  const auto port = static_cast<unsigned short>(std::stoi(url.port));
  boost::system::error_code ec;
  if (auto address = asio::ip::make_address(url.host, ec); !ec) {
    return std::vector<asio::ip::tcp::endpoint>{{address, port}};
  }
  struct Shared {
    std::mutex mutex;
    std::condition_variable done_cv;
    bool done = false;
    std::vector<asio::ip::tcp::endpoint> endpoints;
    boost::system::error_code error;
  };
  auto shared = std::make_shared<Shared>();
  std::thread([shared, host = url.host, service = url.port] {
    asio::io_context io;
    asio::ip::tcp::resolver resolver(io);
    boost::system::error_code error;
    auto results = resolver.resolve(host, service, error);
    std::lock_guard lock(shared->mutex);
    for (const auto& entry : results)
      shared->endpoints.push_back(entry.endpoint());
    shared->error = error;
    shared->done = true;
    shared->done_cv.notify_all();
  }).detach();
  std::unique_lock lock(shared->mutex);
  if (!shared->done_cv.wait_for(lock, timeout, [&] { return shared->done; })) {
    return make_error(fmt::format("{}: not resolved within {} ms", url.host, timeout.count()));
  }
  if (shared->error) return make_error(fmt::format("{}: {}", url.host, shared->error.message()));
  if (shared->endpoints.empty()) return make_error(fmt::format("{}: no address", url.host));
  return shared->endpoints;
}

}  // namespace

Result<HttpAnswer> http_exchange(const HttpRequest& request, const HttpLimits& limits) {
  BOOST_OUTCOME_TRY(auto url, parse_http_url(request.url));
  http::request<http::string_body> message{
      request.method == "POST" ? http::verb::post : http::verb::get, url.target, 11};
  message.set(http::field::host, url.port == "80" ? url.host : url.host + ":" + url.port);
  message.set(http::field::user_agent, "nqs-adapter");
  message.set(http::field::connection, "close");
  for (const auto& [name, value] : request.headers)
    message.set(name, value);
  if (request.method == "POST") {
    message.set(http::field::content_type, request.content_type);
    message.body() = request.body;
    message.prepare_payload();
  }

  // The deadline covers every step: resolution, then a private loop on the calling thread
  // (run_for returns when it passes, and what is pending is dropped with the loop).
  const auto started = std::chrono::steady_clock::now();
  auto endpoints = resolve(url, limits.timeout);
  if (!endpoints) {
    return make_error(fmt::format("{}: resolve: {}", request.url, endpoints.error().message));
  }
  const auto left = limits.timeout - std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::steady_clock::now() - started);
  asio::io_context io;
  beast::tcp_stream stream(io);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.header_limit(32 * 1024);
  parser.body_limit(limits.max_body_bytes);
  std::optional<std::string> failure;
  bool done = false;
  auto fail = [&](const char* step, const beast::error_code& ec) {
    if (ec == http::error::body_limit) {
      failure =
          fmt::format("{}: the answer is larger than {} bytes", request.url, limits.max_body_bytes);
    } else if (ec == beast::error::timeout) {
      // The stream's deadline and the loop's are the same: whichever ends first, one message.
      failure = fmt::format("{}: no answer within {} ms", request.url, limits.timeout.count());
    } else {
      failure = fmt::format("{}: {}: {}", request.url, step, ec.message());
    }
    done = true;
  };
  stream.expires_after(left);
  stream.async_connect(
      endpoints.value(), [&](const beast::error_code& connected, const asio::ip::tcp::endpoint&) {
        if (connected) return fail("connect", connected);
        http::async_write(stream, message, [&](const beast::error_code& sent, std::size_t) {
          if (sent) return fail("send", sent);
          http::async_read(stream, buffer, parser, [&](const beast::error_code& read, std::size_t) {
            if (read) return fail("read", read);
            done = true;
          });
        });
      });
  io.run_for(left);
  if (!done) {
    return make_error(
        fmt::format("{}: no answer within {} ms", request.url, limits.timeout.count()));
  }
  if (failure) return make_error(*failure);
  beast::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  auto& answer = parser.get();
  HttpAnswer out;
  out.status = static_cast<int>(answer.result_int());
  out.body = std::move(answer.body());
  if (auto found = answer.find(http::field::etag); found != answer.end())
    out.etag = std::string(found->value());
  if (auto found = answer.find(http::field::last_modified); found != answer.end())
    out.last_modified = std::string(found->value());
  return out;
}

}  // namespace nqs::revocation
