#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/result.hpp"
#include "store/store.hpp"

namespace nqs::store {

// What libpq reads from a connection string, as keyword and value.
using ConnInfo = std::vector<std::pair<std::string, std::string>>;

// The connection string libpq is given: the URL, then what the adapter always sets unless the URL
// says otherwise (a connect timeout, the statement timeout, warnings only, a writable server).
Result<ConnInfo> connection_keywords(const PostgresSettings& settings);

}  // namespace nqs::store
