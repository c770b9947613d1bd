#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace nqs::domain {

// The stages of one application and its voucher (Rules 380 ch. 2; card FK-D.03).
enum class Stage {
  refused_automatic,   // failed the automatic checks (art. 3)
  with_career_center,  // art. 8: review within 1 working day
  refused_career_center,
  with_lmc,  // art. 9: to the recognition center within 1 working day
  with_recognition_center,
  rejected_by_center,  // art. 9: the LMC refuses within 1 working day
  refused_recognition_center,
  confirmed,            // art. 10: the voucher within 1 working day
  voucher_active,       // art. 10-11: 60 calendar days, then annulled
  extension_requested,  // art. 13: the LMC extends within 1 working day
  used,                 // the exam took place
  act_received,         // art. 17: paid within 5 working days
  paid,
  annulled,  // art. 11
};
std::string_view stage_name(Stage stage);
std::optional<Stage> stage_named(std::string_view name);

inline constexpr std::array kStages{Stage::refused_automatic,
                                    Stage::with_career_center,
                                    Stage::refused_career_center,
                                    Stage::with_lmc,
                                    Stage::with_recognition_center,
                                    Stage::rejected_by_center,
                                    Stage::refused_recognition_center,
                                    Stage::confirmed,
                                    Stage::voucher_active,
                                    Stage::extension_requested,
                                    Stage::used,
                                    Stage::act_received,
                                    Stage::paid,
                                    Stage::annulled};

}  // namespace nqs::domain
