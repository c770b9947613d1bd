#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <string>

#include "common/result.hpp"

namespace nqs::ops {

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// A minimal HTTP/1.1 server (Boost.Beast) on the daemon's event loop: GET only, one request per
// connection, small bodies. Answering is itself the proof that the event loop runs (/healthz).
class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const std::string& path)>;

  HttpServer(boost::asio::io_context& io, Handler handler);
  // Binds HOST:PORT (port 0: any free one) and starts accepting.
  Result<boost::asio::ip::tcp::endpoint> listen(const std::string& host_port);
  void stop();

 private:
  void accept();

  Handler handler_;
  boost::asio::ip::tcp::acceptor acceptor_;
};

}  // namespace nqs::ops
