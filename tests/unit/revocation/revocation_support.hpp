#pragma once

// What the revocation tests serve on loopback: an HTTP server of their own (CRLs, hostile OCSP
// answers), `openssl ocsp` as a real responder, and a PKI whose certificates name them.
#include <fcntl.h>
#include <openssl/ocsp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "free_port.hpp"
#include "pki/test_ca.hpp"
#include "test_support.hpp"

namespace nqs::test {

struct HttpCall {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;
  std::string body;
};
struct HttpReply {
  int status = 200;
  std::string body;
  std::map<std::string, std::string> headers;
};

// One connection at a time on 127.0.0.1, a port of its own; stop() makes it go away.
class TestHttpServer {
 public:
  using Handler = std::function<HttpReply(const HttpCall&)>;
  explicit TestHttpServer(Handler handler) : handler_(std::move(handler)) {
    acceptor_.open(boost::asio::ip::tcp::v4());
    acceptor_.set_option(boost::asio::socket_base::reuse_address(true));
    acceptor_.bind({boost::asio::ip::make_address("127.0.0.1"), port_});
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    keep_from_children();
    thread_ = std::thread([this] { serve(); });
  }
  // Binds `port` again (a server that comes back).
  TestHttpServer(Handler handler, unsigned short port) : handler_(std::move(handler)), port_(port) {
    acceptor_.open(boost::asio::ip::tcp::v4());
    acceptor_.set_option(boost::asio::socket_base::reuse_address(true));
    acceptor_.bind({boost::asio::ip::make_address("127.0.0.1"), port_});
    acceptor_.listen();
    keep_from_children();
    thread_ = std::thread([this] { serve(); });
  }
  ~TestHttpServer() { stop(); }
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  void stop() {
    if (stopping_.exchange(true)) return;
    // Wakes the blocked accept.
    boost::system::error_code ignored;
    boost::asio::ip::tcp::socket poke(io_);
    poke.connect({boost::asio::ip::make_address("127.0.0.1"), port_}, ignored);
    thread_.join();
    acceptor_.close(ignored);
  }
  [[nodiscard]] unsigned short port() const { return port_; }
  [[nodiscard]] std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  [[nodiscard]] std::vector<HttpCall> calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
  }

 private:
  // A daemon the test starts must not inherit the listening socket: it would hold the port (and
  // queue connections nobody answers) after stop().
  void keep_from_children() {
    const int fd = acceptor_.native_handle();
    fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC);
  }

  void serve() {
    namespace http = boost::beast::http;
    while (!stopping_) {
      boost::asio::ip::tcp::socket socket(io_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (ec || stopping_) break;
      boost::beast::flat_buffer buffer;
      http::request<http::string_body> request;
      http::read(socket, buffer, request, ec);
      if (ec) continue;
      HttpCall call{
          std::string(request.method_string()), std::string(request.target()), {}, request.body()};
      for (const auto& field : request)
        call.headers[std::string(field.name_string())] = std::string(field.value());
      {
        std::lock_guard lock(mutex_);
        calls_.push_back(call);
      }
      const auto reply = handler_(call);
      http::response<http::string_body> response{static_cast<http::status>(reply.status), 11};
      for (const auto& [name, value] : reply.headers)
        response.set(name, value);
      response.body() = reply.body;
      response.prepare_payload();
      http::write(socket, response, ec);
      socket.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
    }
  }

  Handler handler_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_{io_};
  unsigned short port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<HttpCall> calls_;
};

// An OCSP response made here (what a hostile or broken responder could send): the status of
// `certificate` signed with `key` as `signer`; `nonce_from` copies that request's nonce.
struct OcspReplyOptions {
  int status = V_OCSP_CERTSTATUS_GOOD;
  long this_update = -60;  // seconds from now
  long next_update = 600;  // seconds from now; < -1000000: none
  bool copy_nonce = true;
};
inline std::string ocsp_response(const HttpCall& call, const Certificate& certificate, const Ca& ca,
                                 const Certificate& signer, const Key& key,
                                 const OcspReplyOptions& options = {}) {
  const auto* data = reinterpret_cast<const unsigned char*>(call.body.data());
  OCSP_REQUEST* request = d2i_OCSP_REQUEST(nullptr, &data, static_cast<long>(call.body.size()));
  OCSP_BASICRESP* basic = OCSP_BASICRESP_new();
  OCSP_CERTID* id = OCSP_cert_to_id(EVP_sha1(), certificate.get(), ca.certificate.get());
  ASN1_TIME* this_update = X509_gmtime_adj(nullptr, options.this_update);
  ASN1_TIME* next_update =
      options.next_update < -1000000 ? nullptr : X509_gmtime_adj(nullptr, options.next_update);
  ASN1_TIME* revoked_at = X509_gmtime_adj(nullptr, -7200);
  OCSP_basic_add1_status(
      basic, id, options.status,
      options.status == V_OCSP_CERTSTATUS_REVOKED ? OCSP_REVOKED_STATUS_KEYCOMPROMISE : -1,
      options.status == V_OCSP_CERTSTATUS_REVOKED ? revoked_at : nullptr, this_update, next_update);
  if (options.copy_nonce && request != nullptr) OCSP_copy_nonce(basic, request);
  STACK_OF(X509)* extra = sk_X509_new_null();
  // The adapter has made RSA use the built-in method (common/openssl_key_methods.hpp).
  OCSP_basic_sign(basic, signer.get(), nqs::with_builtin_methods(key.get()).get(), EVP_sha256(),
                  extra, 0);
  OCSP_RESPONSE* response = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, basic);
  unsigned char* der = nullptr;
  const int length = i2d_OCSP_RESPONSE(response, &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(std::max(length, 0)));
  OPENSSL_free(der);
  OCSP_RESPONSE_free(response);
  sk_X509_free(extra);
  OCSP_BASICRESP_free(basic);
  OCSP_CERTID_free(id);
  OCSP_REQUEST_free(request);
  ASN1_TIME_free(this_update);
  ASN1_TIME_free(next_update);
  ASN1_TIME_free(revoked_at);
  return out;
}

// `openssl ocsp` as the responder: an index file in `openssl ca`'s format, which it reads again
// when it changes.
class OpensslResponder {
 public:
  OpensslResponder(const std::filesystem::path& dir, unsigned short port, const Ca& ca,
                   const Certificate& responder, const Key& responder_key)
      : dir_(dir), port_(port) {
    std::ofstream(dir_ / "ca.pem") << pem_of(ca.certificate);
    std::ofstream(dir_ / "responder.pem") << pem_of(responder);
    std::ofstream(dir_ / "responder.key") << pem_of(responder_key);
    std::ofstream(dir_ / "index.txt");
    std::ofstream(dir_ / "index.txt.attr") << "unique_subject = no\n";
  }
  ~OpensslResponder() { stop(); }
  OpensslResponder(const OpensslResponder&) = delete;
  OpensslResponder& operator=(const OpensslResponder&) = delete;

  // V (valid) or R (revoked an hour ago) for `certificate`; the others are unknown.
  void set(const Certificate& certificate, bool revoked) {
    entries_[serial(certificate)] = std::string(revoked ? "R" : "V") + "\t450101000000Z\t" +
                                    (revoked ? "250101000000Z,keyCompromise" : "") + "\t" +
                                    serial(certificate) + "\tunknown\t/CN=test";
    std::string text;
    for (const auto& [key, line] : entries_)
      text += line + "\n";
    // Written whole and renamed: the responder never reads half a file.
    std::ofstream(dir_ / "index.txt.new") << text;
    std::filesystem::rename(dir_ / "index.txt.new", dir_ / "index.txt");
    // The responder reads a changed index only after the next request it answers: restarted
    // instead, as a CA publishes a revocation.
    if (pid_ > 0) {
      stop();
      start();
    }
  }

  void start() {
    // Everything the child needs is made before fork(): between fork and exec a threaded process
    // may only call what is async-signal-safe (no allocation).
    const std::string port = std::to_string(port_);
    const std::string index = (dir_ / "index.txt").string();
    const std::string ca = (dir_ / "ca.pem").string();
    const std::string rsigner = (dir_ / "responder.pem").string();
    const std::string rkey = (dir_ / "responder.key").string();
    const std::string log = (dir_ / "responder.log").string();
    // (openssl ocsp takes a port alone: it listens on every address; the tests ask loopback.)
    std::vector<const char*> arguments{"openssl", "ocsp",       "-index",      index.c_str(),
                                       "-port",   port.c_str(), "-rsigner",    rsigner.c_str(),
                                       "-rkey",   rkey.c_str(), "-CA",         ca.c_str(),
                                       "-nmin",   "5",          "-ignore_err", nullptr};
    std::filesystem::remove(log);
    pid_ = fork();
    if (pid_ == 0) {
      const int out = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(out, 1);
      dup2(out, 2);
      execvp("openssl", const_cast<char* const*>(arguments.data()));
      _exit(127);
    }
    // Ready when it says so. (Not probed with a connection: OpenSSL 3.0's responder then waits
    // on that closed connection for ever.)
    for (int i = 0; i < 400; ++i) {
      if (read_file(dir_ / "responder.log").find("waiting for OCSP client connections") !=
          std::string::npos) {
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    throw std::runtime_error("openssl ocsp did not start: " + read_file(dir_ / "responder.log"));
  }
  void stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  [[nodiscard]] unsigned short port() const { return port_; }

 private:
  static std::string serial(const Certificate& certificate) {
    BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(certificate.get()), nullptr);
    char* hex = BN_bn2hex(bn);
    std::string out = hex;
    OPENSSL_free(hex);
    BN_free(bn);
    return out;
  }
  std::filesystem::path dir_;
  unsigned short port_;
  pid_t pid_ = -1;
  std::map<std::string, std::string> entries_;
};

}  // namespace nqs::test
