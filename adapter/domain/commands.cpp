#include "domain/commands.hpp"

#include "common/ids.hpp"

namespace nqs::domain {

std::string command_id_for(const std::string& input_id, const std::string& type) {
  return uuid_for("command:" + input_id + ":" + type);
}

}  // namespace nqs::domain
