#pragma once

#include "intake/intake.hpp"
#include "yaml/reader.hpp"

namespace nqs::intake {

// Reads the `intake` section.
void read_intake_config(yaml::Reader intake, IntakeConfig& out);

}  // namespace nqs::intake
