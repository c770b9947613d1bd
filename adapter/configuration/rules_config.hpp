#pragma once

#include "configuration/config.hpp"

namespace nqs::configuration {

// The sections that carry the Rules' numbers and the audit's readings: `domain` (the MCI of each
// year, the policy the Rules leave open) and `deadlines` (the statutory deadline table).
void read_domain(yaml::Reader domain, DomainConfig& out);
void read_deadlines(yaml::Reader deadlines, domain::DeadlineTable& out);

}  // namespace nqs::configuration
