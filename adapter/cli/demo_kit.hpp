#pragma once

// What `nqs-adapter demo` plays with: people and documents as the National Qualifications System
// platform would send them, signed with the local test PKI (scripts/make-local-pki.sh), never
// with anything a production deployment trusts.
#include <filesystem>
#include <random>
#include <string>

#include "calendar/working_calendar.hpp"
#include "common/result.hpp"
#include "notify/signer.hpp"

namespace nqs::cli::demo {

// A valid IIN nobody has (domain.md, "Identity"): a birth date in 1970-1999, the century-and-sex
// digit, a serial, and its check digit.
std::string fresh_iin(std::mt19937_64& random);

// The local test PKI's issuing CA and the recognition center's head (its BIN, as the fixtures').
struct LocalPki {
  notify::Signer issuing_ca;
  notify::Signer center_head;
};
// Reads issuing-ca.key/.pem and center-head.key/.pem from `dir`.
Result<LocalPki> load_local_pki(const std::filesystem::path& dir);
// A signing certificate for an individual with this IIN (as NCA issues them: the IIN in the
// subject's serialNumber, NCA's policy and key purpose), issued now by the local issuing CA for
// a fresh RSA key, valid at `now` (the daemon's clock): each demo applicant signs with a
// certificate the daemon has never seen.
Result<notify::Signer> issue_applicant(const LocalPki& pki, const std::string& iin,
                                       const std::string& name, Instant now);

// The recognition center of the local test PKI's center-head certificate.
inline constexpr const char* kCenterBin = "120340501232";

// What the documents say, beside their own ids.
struct Case {
  std::string application_id;
  std::string iin;
  std::string region;  // KATO of the application (and of the exam: the holder's own oblast)
  std::string voucher_id;
  std::string act_number;
  std::string lmc_bin;  // the act's customer
};

// How a document travels: its envelope's messageId and messageDate (local ISO 8601).
struct Sending {
  std::string message_id;
  std::string message_date;
};

// Each document in its SOAP envelope (messages.md), signed as its author would sign it: the
// application by the applicant, the center's decision, outcome and act by its head.
Result<std::string> application(const Case& c, const std::string& submitted_at,
                                const Sending& sending, const notify::Signer& applicant);
Result<std::string> center_decision(const Case& c, const Sending& sending,
                                    const notify::Signer& head);
Result<std::string> outcome(const Case& c, calendar::Date exam, const Sending& sending,
                            const notify::Signer& head);
Result<std::string> service_act(const Case& c, calendar::Date day, const Sending& sending,
                                const notify::Signer& head);

}  // namespace nqs::cli::demo
