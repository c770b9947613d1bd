// libFuzzer target: arbitrary bytes through the whole intake pipeline (parse, wrapping scan,
// envelope, transport and document signatures, certificates, mapping). Intake must return an
// outcome for every input: no crash, no leak, no undefined behaviour, no hang.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "intake_support.hpp"

namespace {

const nqs::intake::Intake& intake() {
  static const auto instance = nqs::test::make_intake();
  return *instance;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const auto outcome = intake().process(bytes, nqs::test::test_now());
  // Every rejection carries a reason with a wire spelling.
  if (const auto* rejected = std::get_if<nqs::intake::Rejected>(&outcome)) {
    if (nqs::code(rejected->rejection.reason) == "unknown") __builtin_trap();
  }
  return 0;
}
