#include "revocation/ocsp.hpp"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>

#include "common/instant.hpp"
#include "common/openssl_error.hpp"
#include "revocation/x509_facts.hpp"

namespace nqs::revocation {
namespace {

// Clocks of responders and of this host drift: five minutes either way (as OpenSSL's own
// OCSP_check_validity is commonly called).
constexpr auto kSkew = std::chrono::minutes{5};

struct RequestFree {
  void operator()(OCSP_REQUEST* request) const { OCSP_REQUEST_free(request); }
};
struct ResponseFree {
  void operator()(OCSP_RESPONSE* response) const { OCSP_RESPONSE_free(response); }
};
struct BasicFree {
  void operator()(OCSP_BASICRESP* basic) const { OCSP_BASICRESP_free(basic); }
};
struct IdFree {
  void operator()(OCSP_CERTID* id) const { OCSP_CERTID_free(id); }
};

std::string cache_key(OCSP_CERTID* id) {
  unsigned char* der = nullptr;
  const int length = i2d_OCSP_CERTID(id, &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(std::max(length, 0)));
  OPENSSL_free(der);
  return out;
}

OcspAnswer unavailable(const std::string& url, std::string detail) {
  return {OcspStatus::unavailable, std::move(detail), std::nullopt, url, {}};
}

// A request for the status of `certificate`, with our nonce.
Result<std::unique_ptr<OCSP_REQUEST, RequestFree>> nonced_request(X509* certificate, X509* issuer) {
  std::unique_ptr<OCSP_REQUEST, RequestFree> request(OCSP_REQUEST_new());
  OCSP_CERTID* id = OCSP_cert_to_id(EVP_sha1(), certificate, issuer);
  if (id == nullptr || OCSP_request_add0_id(request.get(), id) == nullptr) {
    OCSP_CERTID_free(id);
    return make_error("cannot build an OCSP request: " + openssl_error());
  }
  // Without our nonce a replayed answer could not be told from a fresh one.
  if (OCSP_request_add1_nonce(request.get(), nullptr, -1) != 1) {
    return make_error("cannot add a nonce to the OCSP request: " + openssl_error());
  }
  return request;
}

std::string der_of(OCSP_REQUEST* request) {
  unsigned char* der = nullptr;
  const int length = i2d_OCSP_REQUEST(request, &der);
  std::string body(reinterpret_cast<char*>(der), static_cast<std::size_t>(std::max(length, 0)));
  OPENSSL_free(der);
  return body;
}

// The basic response in a responder's HTTP answer (its signature not checked yet).
Result<std::unique_ptr<OCSP_BASICRESP, BasicFree>> basic_response(const std::string& url,
                                                                  const HttpAnswer& reply) {
  if (reply.status != 200) return make_error(fmt::format("{}: HTTP status {}", url, reply.status));
  const auto& bytes = reply.body;
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  std::unique_ptr<OCSP_RESPONSE, ResponseFree> response(
      d2i_OCSP_RESPONSE(nullptr, &data, static_cast<long>(bytes.size())));
  if (!response) {
    ERR_clear_error();
    return make_error(fmt::format("{}: not an OCSP response", url));
  }
  if (const int status = OCSP_response_status(response.get());
      status != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
    return make_error(
        fmt::format("{}: the responder answered '{}'", url, OCSP_response_status_str(status)));
  }
  std::unique_ptr<OCSP_BASICRESP, BasicFree> basic(OCSP_response_get1_basic(response.get()));
  if (!basic) {
    ERR_clear_error();
    return make_error(fmt::format("{}: no basic OCSP response", url));
  }
  return basic;
}

// What a verified, current response says of the certificate.
OcspAnswer answer_of(const std::string& url, int status, int reason,
                     ASN1_GENERALIZEDTIME* revoked_at) {
  switch (status) {
    case V_OCSP_CERTSTATUS_GOOD:
      return {OcspStatus::good, "good", std::nullopt, url, {}};
    case V_OCSP_CERTSTATUS_REVOKED: {
      const auto when = to_instant(revoked_at);
      return {OcspStatus::revoked,
              fmt::format("revoked on {} ({}), says the OCSP responder {}",
                          when ? to_utc_string(*when) : std::string("an unreadable date"),
                          reason >= 0 ? OCSP_crl_reason_str(reason) : "no reason given", url),
              when,
              url,
              {}};
    }
    default:
      return {OcspStatus::unknown,
              fmt::format("the OCSP responder {} does not know this certificate", url),
              std::nullopt,
              url,
              {}};
  }
}

}  // namespace

std::string_view status_name(OcspStatus status) {
  switch (status) {
    case OcspStatus::good:
      return "good";
    case OcspStatus::revoked:
      return "revoked";
    case OcspStatus::unknown:
      return "unknown";
    case OcspStatus::unavailable:
      return "unavailable";
  }
  return "unavailable";
}

OcspAnswer OcspClient::check(X509* certificate, X509* issuer, X509_STORE* anchors,
                             STACK_OF(X509) * untrusted, Instant now) {
  std::unique_ptr<OCSP_CERTID, IdFree> id(OCSP_cert_to_id(EVP_sha1(), certificate, issuer));
  if (!id) return unavailable("", "no OCSP certificate id: " + openssl_error());
  const std::string key = cache_key(id.get());
  {
    std::lock_guard lock(mutex_);
    if (auto found = cache_.find(key); found != cache_.end()) {
      if (now < found->second.first.until) {
        ++stats_.answers["cached"];
        return found->second.first.answer;
      }
      cache_order_.erase(found->second.second);
      cache_.erase(found);
    }
  }
  std::vector<std::string> urls;
  if (!settings_.url.empty()) {
    urls.push_back(settings_.url);
  } else {
    urls = ocsp_responders(certificate);
  }
  if (urls.empty()) {
    return unavailable("",
                       "the certificate names no http:// OCSP responder and trust.ocsp_url "
                       "is not set");
  }
  OcspAnswer answer;
  for (const auto& url : urls) {
    {
      std::lock_guard lock(mutex_);
      if (auto paused = paused_.find(url);
          paused != paused_.end() && std::chrono::steady_clock::now() < paused->second) {
        answer = unavailable(url, fmt::format("{}: not asked again yet after its failure", url));
        continue;
      }
    }
    Instant until = now;
    bool unreachable = false;
    const auto started = std::chrono::steady_clock::now();
    answer = ask(url, certificate, issuer, anchors, untrusted, now, until, unreachable);
    const auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - started);
    std::lock_guard lock(mutex_);
    ++stats_.requests;
    stats_.seconds_sum += took.count();
    ++stats_.answers[std::string(status_name(answer.status))];
    if (answer.status == OcspStatus::unavailable) {
      // Not reached, or no HTTP answer in time: not asked again for a while. An answer that was
      // refused (a forged one) pauses nothing: the next request may get a true one.
      if (unreachable)
        paused_[url] = std::chrono::steady_clock::now() + settings_.pause_after_failure;
      continue;
    }
    paused_.erase(url);
    if ((answer.status == OcspStatus::good || answer.status == OcspStatus::revoked) &&
        until > now && settings_.cache_size > 0) {
      if (auto found = cache_.find(key); found != cache_.end()) {
        cache_order_.erase(found->second.second);
        cache_.erase(found);
      }
      while (cache_.size() >= settings_.cache_size && !cache_order_.empty()) {
        cache_.erase(cache_order_.front());
        cache_order_.pop_front();
      }
      cache_order_.push_back(key);
      cache_.emplace(key, std::pair{Cached{answer, until}, std::prev(cache_order_.end())});
    }
    return answer;
  }
  return answer;
}

std::optional<std::string> OcspClient::nonce_problem(const std::string& url, int nonce) {
  std::lock_guard lock(mutex_);
  if (nonce == 0) {
    return fmt::format(
        "{}: the response carries another request's nonce "
        "(a replay)",
        url);
  }
  if (nonce == 1) {
    nonce_responders_.insert(url);
  } else if (nonce_responders_.contains(url)) {
    return fmt::format(
        "{}: the response lacks our nonce, which this responder "
        "echoes (a replay)",
        url);
  }
  return std::nullopt;
}

OcspAnswer OcspClient::ask(const std::string& url, X509* certificate, X509* issuer,
                           X509_STORE* anchors, STACK_OF(X509) * untrusted, Instant now,
                           Instant& until, bool& unreachable) {
  auto request = nonced_request(certificate, issuer);
  if (!request) return unavailable(url, request.error().message);
  auto reply =
      http_exchange({url, "POST", "application/ocsp-request", der_of(request.value().get()), {}},
                    settings_.limits);
  if (!reply) {
    unreachable = true;
    return unavailable(url, reply.error().message);
  }
  auto basic = basic_response(url, reply.value());
  if (!basic) return unavailable(url, basic.error().message);

  // The signature: the CA itself, or a responder it delegated (id-kp-OCSPSigning, issued by it),
  // chaining to the anchors (OpenSSL checks both, RFC 6960 4.2.2.2).
  if (OCSP_basic_verify(basic.value().get(), untrusted, anchors, 0) != 1) {
    return unavailable(url, fmt::format("{}: the response's signature is not the CA's nor a "
                                        "responder's it authorised: {}",
                                        url, openssl_error()));
  }
  const int nonce = OCSP_check_nonce(request.value().get(), basic.value().get());
  if (auto problem = nonce_problem(url, nonce)) return unavailable(url, std::move(*problem));
  int status = 0;
  int reason = 0;
  ASN1_GENERALIZEDTIME* revoked_at = nullptr;
  ASN1_GENERALIZEDTIME* this_update = nullptr;
  ASN1_GENERALIZEDTIME* next_update = nullptr;
  std::unique_ptr<OCSP_CERTID, IdFree> ours(OCSP_cert_to_id(EVP_sha1(), certificate, issuer));
  if (!ours) return unavailable(url, "no OCSP certificate id: " + openssl_error());
  if (OCSP_resp_find_status(basic.value().get(), ours.get(), &status, &reason, &revoked_at,
                            &this_update, &next_update) != 1) {
    ERR_clear_error();
    return unavailable(url, fmt::format("{}: the response is for another certificate", url));
  }
  const auto issued = to_instant(this_update);
  const auto next = to_instant(next_update);
  if (!issued || *issued > now + kSkew) {
    return unavailable(
        url, fmt::format("{}: the response's thisUpdate is missing or ahead of now", url));
  }
  if (next ? *next + kSkew < now : *issued + settings_.max_age < now) {
    return unavailable(
        url, fmt::format("{}: the response is stale (thisUpdate {}{})", url, to_utc_string(*issued),
                         next ? ", nextUpdate " + to_utc_string(*next) : std::string()));
  }
  until = *issued + settings_.max_age;
  if (next && *next < until) until = *next;
  auto answer = answer_of(url, status, reason, revoked_at);
  answer.response_der = reply.value().body;
  return answer;
}

OcspStats OcspClient::stats() const {
  std::lock_guard lock(mutex_);
  auto out = stats_;
  out.cached = cache_.size();
  return out;
}

}  // namespace nqs::revocation
