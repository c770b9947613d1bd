#include "intake/intake_config.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace nqs::intake {

void read_intake_config(yaml::Reader intake, IntakeConfig& out) {
  // Checked before parsing: a larger message is xml.too_large without being read.
  out.max_message_bytes =
      static_cast<std::size_t>(intake.integer("max_message_bytes", 1024, 64 * 1024 * 1024,
                                              static_cast<std::int64_t>(out.max_message_bytes)));
  out.strict_identifiers = intake.flag("strict_identifiers", out.strict_identifiers);
  // The structure a message may have, checked before the parser works on it (xml.too_complex).
  auto limits = intake.section("limits");
  auto limit = [&](const char* key, std::size_t& value, std::int64_t max) {
    value = static_cast<std::size_t>(limits.integer(key, 1, max, static_cast<std::int64_t>(value)));
  };
  limit("max_depth", out.limits.max_depth, 256);
  limit("max_elements", out.limits.max_elements, 1'000'000);
  limit("max_attributes", out.limits.max_attributes, 1'000'000);
  limit("max_attributes_total", out.limits.max_attributes_total, 1'000'000);
  limit("max_namespace_declarations", out.limits.max_namespace_declarations, 256);
  limit("max_namespaces_in_scope", out.limits.max_namespaces_in_scope, 1024);
  limit("max_text_bytes", out.limits.max_text_bytes, 64 * 1024 * 1024);
  // What the structure limits let through still costs at most this much CPU time (intake runs on
  // worker threads, never on the event loop, whatever it costs).
  out.cpu_time = limits.duration("cpu_time", std::chrono::milliseconds{10}, std::chrono::minutes{1},
                                 out.cpu_time);
  limits.finish();
  out.require_transport_signature =
      intake.flag("require_transport_signature", out.require_transport_signature);
  for (auto& sender : intake.list("transport_senders")) {
    auto id = sender.required("sender_id");
    auto bin = sender.required("bin");
    auto id_text = id ? id->as_text() : std::nullopt;
    auto bin_text = bin ? bin->as_text() : std::nullopt;
    if (bin_text &&
        (bin_text->size() != 12 || !std::all_of(bin_text->begin(), bin_text->end(),
                                                [](char c) { return c >= '0' && c <= '9'; }))) {
      bin->problem(fmt::format("'{}' is not a BIN (12 digits)", *bin_text));
      bin_text.reset();
    }
    sender.finish();
    if (id_text && bin_text) out.transport_senders.push_back({*id_text, *bin_text});
  }
  if (out.require_transport_signature && out.transport_senders.empty()) {
    intake.problem(
        "intake.require_transport_signature needs at least one entry in "
        "intake.transport_senders (whose certificate signs)");
  }
  if (auto schema = intake.required("envelope_schema")) {
    out.envelope_schema = schema->as_existing_file().value_or("");
  }
  out.mappings = yaml::existing_files(intake, "mappings", "list at least one mapping");
  intake.finish();
}

}  // namespace nqs::intake
