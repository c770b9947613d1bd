#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/result.hpp"

namespace nqs::revocation {

// What a CRL distribution point or an OCSP responder may cost one request.
struct HttpLimits {
  std::chrono::milliseconds timeout{10000};  // the whole exchange: resolve, connect, send, read
  std::size_t max_body_bytes = 64 * 1024 * 1024;
};

// An http:// URL as CDPs and AIA name them (RFC 5280, 4.2.1.13: CRLs are fetched over plain HTTP,
// their signatures protect them). No user information, no fragment.
struct HttpUrl {
  std::string host;
  std::string port = "80";
  std::string target = "/";
};
Result<HttpUrl> parse_http_url(const std::string& url);

struct HttpAnswer {
  int status = 0;
  std::string body;
  std::string etag;
  std::string last_modified;
};

struct HttpRequest {
  std::string url;
  std::string method = "GET";
  std::string content_type;  // POST only
  std::string body;          // POST only
  std::vector<std::pair<std::string, std::string>> headers;
};

// One request over a connection of its own, bounded by `limits` (a body over the limit and an
// exchange over the timeout are errors); blocks the calling thread, never an event loop. Any
// status is returned as is; redirects are not followed.
Result<HttpAnswer> http_exchange(const HttpRequest& request, const HttpLimits& limits);

}  // namespace nqs::revocation
