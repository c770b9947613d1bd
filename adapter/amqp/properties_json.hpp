#pragma once

#include <string>

#include "amqp/connection.hpp"
#include "common/result.hpp"

namespace nqs::amqp {

// AMQP properties as the outbox stores them: {"content_type", "message_id", "correlation_id",
// "type", "timestamp", "persistent", "headers"}.
std::string properties_to_json(const Properties& properties);
Result<Properties> properties_from_json(const std::string& json);

}  // namespace nqs::amqp
