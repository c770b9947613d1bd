#pragma once

#include <string>

#include "amqp/message.hpp"
#include "common/result.hpp"

namespace nqs::amqp {

// AMQP properties as the outbox stores them, without loss: every property by its name, the
// headers as amqp/fields.hpp writes them.
std::string properties_to_json(const Properties& properties);
Result<Properties> properties_from_json(const std::string& json);

}  // namespace nqs::amqp
