#pragma once

#include <string>
#include <string_view>

namespace nqs {

// A URL without its password, for messages and logs: scheme://user:secret@host... becomes
// scheme://user:***@host... (up to the last '@', for a password holding characters it should
// have encoded). A URL without a password comes back as it is.
std::string redact_password(std::string_view url);

}  // namespace nqs
