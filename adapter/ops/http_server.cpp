#include "ops/http_server.hpp"

#include <fmt/format.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <memory>

namespace nqs::ops {
namespace {

namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

// One connection: read a request (bounded size, a deadline), answer, close.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const HttpServer::Handler& handler)
      : stream_(std::move(socket)), handler_(handler) {}

  void start() {
    stream_.expires_after(std::chrono::seconds{10});
    parser_.body_limit(8192);
    parser_.header_limit(8192);
    http::async_read(
        stream_, buffer_, parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

 private:
  void on_read(beast::error_code ec) {
    if (ec) return;
    const auto& request = parser_.get();
    HttpResponse answer;
    if (request.method() != http::verb::get && request.method() != http::verb::head) {
      answer = {405, "text/plain; charset=utf-8", "only GET\n"};
    } else {
      std::string path(request.target());
      if (const auto query = path.find('?'); query != std::string::npos) path.resize(query);
      answer = handler_(path);
    }
    response_.result(static_cast<unsigned>(answer.status));
    response_.version(request.version());
    response_.set(http::field::server, "nqs-adapter");
    response_.set(http::field::content_type, answer.content_type);
    response_.set(http::field::cache_control, "no-store");
    response_.keep_alive(false);
    response_.body() = request.method() == http::verb::head ? std::string() : answer.body;
    response_.prepare_payload();
    http::async_write(stream_, response_,
                      [self = shared_from_this()](beast::error_code, std::size_t) {
                        beast::error_code ignored;
                        self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
                      });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request_parser<http::string_body> parser_;
  http::response<http::string_body> response_;
  const HttpServer::Handler& handler_;
};

}  // namespace

HttpServer::HttpServer(boost::asio::io_context& io, Handler handler)
    : handler_(std::move(handler)), acceptor_(io) {}

Result<tcp::endpoint> HttpServer::listen(const std::string& host_port) {
  const auto colon = host_port.rfind(':');
  if (colon == std::string::npos)
    return make_error(fmt::format("'{}' is not HOST:PORT", host_port));
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(host_port.substr(0, colon), ec);
  if (ec) return make_error(fmt::format("'{}': {}", host_port, ec.message()));
  const auto port = static_cast<unsigned short>(std::stoi(host_port.substr(colon + 1)));
  const tcp::endpoint endpoint(address, port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(64, ec);
  if (ec) return make_error(fmt::format("cannot listen on {}: {}", host_port, ec.message()));
  accept();
  return acceptor_.local_endpoint();
}

void HttpServer::stop() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

void HttpServer::accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    if (ec == boost::asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (!ec) std::make_shared<Session>(std::move(socket), handler_)->start();
    accept();
  });
}

}  // namespace nqs::ops
