#include "common/redact.hpp"

#include <fmt/format.h>

namespace nqs {

std::string redact_password(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  const auto at = url.rfind('@');
  if (at == std::string_view::npos || at < scheme + 3) return std::string(url);
  const auto colon = url.find(':', scheme + 3);
  if (colon == std::string_view::npos || colon > at) return std::string(url);
  return fmt::format("{}***{}", url.substr(0, colon + 1), url.substr(at));
}

}  // namespace nqs
