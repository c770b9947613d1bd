#pragma once

#include <memory>

#include "amqp/sync_client.hpp"
#include "configuration/config.hpp"
#include "store/store.hpp"

// What the dead-letter commands (cli/dlq.cpp) share with `queues` (cli/queues.cpp).
namespace nqs::cli {

// Every dead letter read and left: a copy back at the end of its queue, the original
// acknowledged (amqp::SyncClient::put_back); what could not be put back the broker returns.
void put_back(amqp::SyncClient& client);

// The configured store (its audit log, its outbox), or nothing with the error on stderr and
// exit_code set.
std::unique_ptr<store::Store> open_audit(const configuration::Config& config, int& exit_code);

// Who an audited action is by: `given` (--actor), else the operating system's user.
std::string actor_name(const std::string& given);

}  // namespace nqs::cli
