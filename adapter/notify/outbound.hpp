#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/instant.hpp"
#include "common/result.hpp"
#include "domain/lifecycle.hpp"
#include "notify/signer.hpp"
#include "xml/schema_set.hpp"
#include "yaml/reader.hpp"

namespace nqs::notify {

// One element of an outbound document: a field's value, a list of `each` elements, or a nested
// group of elements.
struct ElementSpec {
  std::string element;
  std::string from;  // the notification field
  std::string each;  // for a list: the element of each item
  std::vector<ElementSpec> elements;
};

// mappings/outbound/<document>.yaml: the document element, its schema and its elements in order.
struct OutboundMapping {
  std::filesystem::path source;
  std::string ns;
  std::string element;
  std::shared_ptr<const xml::Schema> schema;
  std::vector<ElementSpec> elements;
};

std::shared_ptr<const OutboundMapping> load_outbound_mapping(const std::filesystem::path& file,
                                                             yaml::Diagnostics& diagnostics);

struct EnvelopeSettings {
  std::string sender_id = "nqs-adapter";
  std::string service_id = "NQS_VOUCHER";
};

// Builds the signed SHEP envelopes of the notifications to the government bus (messages.md,
// "Notifications to the government bus"): the document from its mapping, validated against its
// own schema, signed with the adapter's key in the profile of its kind (signing_options: Kalkan's
// for GOST; enveloped, exclusive c14n and SHA-256 for RSA and ECDSA), the certificate chain in
// ds:X509Data, so that NCALayer-based systems and XMLDSig tools verify it.
class NotificationBuilder {
 public:
  NotificationBuilder(std::vector<std::shared_ptr<const OutboundMapping>> mappings, Signer signer,
                      EnvelopeSettings envelope);

  // `message_id` and `correlation_id` go into requestInfo (correlation: the input's messageId).
  // The envelope, its document checked against its schema, not yet signed: cheap, made where the
  // decision is made (the event loop).
  [[nodiscard]] Result<std::string> compose(const domain::NotificationOut& notification,
                                            const std::string& message_id,
                                            const std::string& correlation_id, Instant now) const;
  // Signs a composed envelope: the costly part, made on a worker thread (safe on several at once).
  [[nodiscard]] Result<std::string> sign(std::string_view composed) const;
  // Both in one.
  [[nodiscard]] Result<std::string> build(const domain::NotificationOut& notification,
                                          const std::string& message_id,
                                          const std::string& correlation_id, Instant now) const;
  [[nodiscard]] std::size_t documents() const { return by_element_.size(); }
  [[nodiscard]] const Signer& signer() const { return signer_; }

 private:
  std::map<std::string, std::shared_ptr<const OutboundMapping>, std::less<>> by_element_;
  Signer signer_;
  EnvelopeSettings envelope_;
};

// Signs the one document of an envelope (soap:Body/SendMessage/request/requestData/data) with
// `signer`'s key, enveloped, its chain in ds:X509Data (signing_options): the adapter's
// notifications, and the documents `nqs-adapter demo` signs as their authors would.
Result<std::string> sign_envelope(std::string_view composed, const Signer& signer);

}  // namespace nqs::notify
