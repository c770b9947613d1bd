#include "notify/outbound.hpp"

#include <fmt/format.h>
#include <libxml/tree.h>

#include "mapping/mapping.hpp"
#include "xml/xml.hpp"
#include "xmldsig/signature.hpp"

namespace nqs::notify {
namespace {

using yaml::Diagnostics;
using yaml::Reader;

constexpr const char* kSoapNs = "http://schemas.xmlsoap.org/soap/envelope/";
constexpr const char* kShepNs = "http://bip.bee.kz/SyncChannel/v10/Types";

std::vector<ElementSpec> read_elements(Reader& parent, std::string_view key) {
  std::vector<ElementSpec> out;
  for (auto& entry : parent.list(key)) {
    ElementSpec spec;
    if (auto element = entry.required("element")) spec.element = element->as_text().value_or("");
    spec.from = entry.text("from", "");
    spec.each = entry.text("each", "");
    if (entry.field("elements")) spec.elements = read_elements(entry, "elements");
    const int kinds = (!spec.from.empty() ? 1 : 0) + (!spec.elements.empty() ? 1 : 0);
    if (kinds != 1) entry.problem("give either from (with each, for a list) or elements");
    if (!spec.each.empty() && spec.from.empty()) entry.problem("each needs from");
    entry.finish();
    out.push_back(std::move(spec));
  }
  return out;
}

std::string serialized(xmlDoc* doc) {
  xmlChar* text = nullptr;
  int size = 0;
  xmlDocDumpMemoryEnc(doc, &text, &size, "UTF-8");
  std::string out(reinterpret_cast<char*>(text), static_cast<std::size_t>(size));
  xmlFree(text);
  return out;
}

std::string scalar_text(const boost::json::value& value) {
  if (value.is_string()) return std::string(value.get_string());
  if (value.is_int64()) return std::to_string(value.get_int64());
  if (value.is_bool()) return value.get_bool() ? "true" : "false";
  return {};
}

Result<void> add_elements(xmlNode* parent, xmlNsPtr ns, const std::vector<ElementSpec>& specs,
                          const boost::json::object& fields) {
  for (const auto& spec : specs) {
    if (!spec.elements.empty()) {
      xmlNode* group = xmlNewChild(parent, ns, xml::as_xml(spec.element.c_str()), nullptr);
      BOOST_OUTCOME_TRY(add_elements(group, ns, spec.elements, fields));
      continue;
    }
    const auto* value = fields.if_contains(spec.from);
    if (value == nullptr) {
      return make_error(
          fmt::format("the notification has no field '{}' for {}", spec.from, spec.element));
    }
    if (!spec.each.empty()) {
      if (!value->is_array()) return make_error(fmt::format("field '{}' is not a list", spec.from));
      xmlNode* list = xmlNewChild(parent, ns, xml::as_xml(spec.element.c_str()), nullptr);
      for (const auto& item : value->get_array()) {
        xmlNewTextChild(list, ns, xml::as_xml(spec.each.c_str()),
                        xml::as_xml(scalar_text(item).c_str()));
      }
      continue;
    }
    xmlNewTextChild(parent, ns, xml::as_xml(spec.element.c_str()),
                    xml::as_xml(scalar_text(*value).c_str()));
  }
  return outcome::success();
}

struct DocFree {
  void operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }
};

}  // namespace

std::shared_ptr<const OutboundMapping> load_outbound_mapping(const std::filesystem::path& file,
                                                             Diagnostics& diagnostics) {
  auto root = Reader::open(file, diagnostics);
  if (!root) return nullptr;
  const auto before = diagnostics.problems().size();
  auto mapping = std::make_shared<OutboundMapping>();
  mapping->source = file;
  auto header = mapping::read_document_header(*root);
  mapping->ns = std::move(header.ns);
  mapping->element = std::move(header.element);
  mapping->schema = std::move(header.schema);
  mapping->elements = read_elements(*root, "elements");
  if (mapping->elements.empty() && diagnostics.problems().size() == before) {
    root->problem("elements: an outbound document needs at least one element");
  }
  root->finish();
  if (diagnostics.problems().size() != before) return nullptr;
  return mapping;
}

NotificationBuilder::NotificationBuilder(
    std::vector<std::shared_ptr<const OutboundMapping>> mappings, Signer signer,
    EnvelopeSettings envelope)
    : signer_(std::move(signer)), envelope_(std::move(envelope)) {
  xmldsig::ensure_xml_security_initialised();
  for (auto& mapping : mappings)
    by_element_[mapping->element] = std::move(mapping);
}

Result<std::string> NotificationBuilder::compose(const domain::NotificationOut& notification,
                                                 const std::string& message_id,
                                                 const std::string& correlation_id,
                                                 Instant now) const {
  const auto found = by_element_.find(notification.document);
  if (found == by_element_.end()) {
    return make_error(fmt::format("no outbound mapping for {}", notification.document));
  }
  const auto& mapping = *found->second;
  std::unique_ptr<xmlDoc, DocFree> doc(xmlNewDoc(xml::as_xml("1.0")));
  xmlNode* envelope = xmlNewNode(nullptr, xml::as_xml("Envelope"));
  xmlNsPtr soap = xmlNewNs(envelope, xml::as_xml(kSoapNs), xml::as_xml("soap"));
  xmlSetNs(envelope, soap);
  xmlDocSetRootElement(doc.get(), envelope);
  xmlNewChild(envelope, soap, xml::as_xml("Header"), nullptr);
  xmlNode* body = xmlNewChild(envelope, soap, xml::as_xml("Body"), nullptr);
  // SHEP's elements below SendMessage are unqualified: created without a namespace (xmlNewChild
  // would give them their parent's).
  auto unqualified = [&](xmlNode* parent, const char* name, const std::string* text = nullptr) {
    xmlNode* node = xmlNewDocNode(doc.get(), nullptr, xml::as_xml(name), nullptr);
    if (text != nullptr) xmlNodeAddContent(node, xml::as_xml(text->c_str()));
    return xmlAddChild(parent, node);
  };
  xmlNode* send = xmlNewChild(body, nullptr, xml::as_xml("SendMessage"), nullptr);
  xmlSetNs(send, xmlNewNs(send, xml::as_xml(kShepNs), xml::as_xml("ns2")));
  xmlNode* request = unqualified(send, "request");
  xmlNode* info = unqualified(request, "requestInfo");
  unqualified(info, "messageId", &message_id);
  if (!correlation_id.empty()) unqualified(info, "correlationId", &correlation_id);
  unqualified(info, "serviceId", &envelope_.service_id);
  const std::string date = to_utc_string(now);
  unqualified(info, "messageDate", &date);
  unqualified(unqualified(info, "sender"), "senderId", &envelope_.sender_id);
  xmlNode* data = unqualified(unqualified(request, "requestData"), "data");
  xmlNode* document = unqualified(data, mapping.element.c_str());
  xmlNsPtr v = xmlNewNs(document, xml::as_xml(mapping.ns.c_str()), xml::as_xml("v"));
  xmlSetNs(document, v);
  const std::string id = "n-" + message_id.substr(0, std::min<std::size_t>(message_id.size(), 8));
  xmlSetProp(document, xml::as_xml("Id"), xml::as_xml(id.c_str()));
  BOOST_OUTCOME_TRY(add_elements(document, v, mapping.elements, notification.fields));
  // What the adapter sends is held to the same schema as what it receives.
  if (auto problem = mapping.schema->validate_element(document)) {
    return make_error(fmt::format("{} does not fit its schema: {}", mapping.element, *problem));
  }
  return serialized(doc.get());
}

Result<std::string> sign_envelope(std::string_view composed, const Signer& signer) {
  // The text, read back as any XML is read here.
  auto parsed = xml::parse_hostile_xml(composed, composed.size());
  if (auto* rejection = std::get_if<Rejection>(&parsed)) {
    return make_error("a composed envelope cannot be read back: " + rejection->detail);
  }
  auto& doc = std::get<xml::XmlDoc>(parsed);
  xmlNode* node = xmlDocGetRootElement(doc.get());
  node = xml::child_element(node, kSoapNs, "Body");
  node = node == nullptr ? nullptr : xml::child_element(node, kShepNs, "SendMessage");
  for (const char* name : {"request", "requestData", "data"}) {
    if (node != nullptr) node = xml::child_element(node, "", name);
  }
  const auto documents = node == nullptr ? std::vector<xmlNode*>{} : xml::element_children(node);
  if (documents.size() != 1) return make_error("a composed envelope has no one document");
  const auto options = signing_options(signer.key.get());
  std::vector<X509*> chain;
  for (const auto& certificate : signer.certificates)
    chain.push_back(certificate.get());
  if (auto problem = xmldsig::sign_enveloped(documents.front(), signer.key.get(), chain, options)) {
    return make_error(*problem);
  }
  return serialized(doc.get());
}

Result<std::string> NotificationBuilder::sign(std::string_view composed) const {
  return sign_envelope(composed, signer_);
}

Result<std::string> NotificationBuilder::build(const domain::NotificationOut& notification,
                                               const std::string& message_id,
                                               const std::string& correlation_id,
                                               Instant now) const {
  BOOST_OUTCOME_TRY(auto composed, compose(notification, message_id, correlation_id, now));
  return sign(composed);
}

}  // namespace nqs::notify
