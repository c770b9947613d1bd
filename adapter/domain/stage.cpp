#include "domain/stage.hpp"

namespace nqs::domain {

std::string_view stage_name(Stage stage) {
  switch (stage) {
    case Stage::refused_automatic:
      return "refused_automatic";
    case Stage::with_career_center:
      return "with_career_center";
    case Stage::refused_career_center:
      return "refused_career_center";
    case Stage::with_lmc:
      return "with_lmc";
    case Stage::with_recognition_center:
      return "with_recognition_center";
    case Stage::rejected_by_center:
      return "rejected_by_center";
    case Stage::refused_recognition_center:
      return "refused_recognition_center";
    case Stage::confirmed:
      return "confirmed";
    case Stage::voucher_active:
      return "voucher_active";
    case Stage::extension_requested:
      return "extension_requested";
    case Stage::used:
      return "used";
    case Stage::act_received:
      return "act_received";
    case Stage::paid:
      return "paid";
    case Stage::annulled:
      return "annulled";
  }
  return "unknown";
}

std::optional<Stage> stage_named(std::string_view name) {
  for (auto stage : kStages) {
    if (stage_name(stage) == name) return stage;
  }
  return std::nullopt;
}

}  // namespace nqs::domain
