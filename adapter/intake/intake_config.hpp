#pragma once

#include "intake/intake.hpp"
#include "yaml/reader.hpp"

namespace nqs::intake {

// Reads the `intake` section.
void read_intake_settings(yaml::Reader intake, IntakeSettings& out);

}  // namespace nqs::intake
