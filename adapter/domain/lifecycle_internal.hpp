#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "domain/lifecycle.hpp"

// What the lifecycle's files share (lifecycle.cpp, applications.cpp, voucher_validity.cpp,
// outcomes_and_payments.cpp): the visitor that decides one input, and the parts of its decisions.
namespace nqs::domain::detail {

using Outcome = std::variant<Decision, Rejection>;

boost::json::array strings(const std::vector<std::string>& items);
// `input` does not fit the application's stage.
Rejection wrong_stage(const Application& application, std::string_view input);
// The v:ApplicationRefused of a refusal at `stage`, with its reasons.
NotificationOut refusal(const Application& application, std::string_view stage,
                        const std::vector<std::string>& reasons);
// Sets `field` of a command's payload to a due date, if there is one.
void put_due(boost::json::object& payload, std::string_view field,
             const std::optional<Instant>& due);

// Decides one input (std::visit over domain::Input) about `current`, null for an application not
// seen before (only Submitted is then visited).
class Decider {
 public:
  Decider(const Application* current, Instant now, const Context& context)
      : current_(current), now_(now), context_(context) {}

  // The due date of the deadline entering `stage` opens (deadlines.steps), as the SLA timers
  // compute it; none when the table has no such step.
  Result<std::optional<Instant>> due_on_entering(Stage stage) const;

  // applications.cpp: the application from its submission to the voucher's issue or a refusal.
  Outcome operator()(const Submitted& input);
  Outcome operator()(const ApplicationReviewed& input);
  Outcome operator()(const ApplicationForwarded&);
  Outcome operator()(const CenterDecided& input);
  Outcome operator()(const ApplicationRefused& input);
  Outcome operator()(const VoucherIssuedToPerson& input);
  // voucher_validity.cpp: the voucher issued, its sick leaves and extensions, its annulment.
  Outcome operator()(const VoucherIssued& input);
  Outcome operator()(const SickLeaveSubmitted& input);
  Outcome operator()(const VoucherExtended& input);
  Outcome operator()(const VoucherExpired&);
  // outcomes_and_payments.cpp: the recognition outcome and its appeal, the act, the payments.
  Outcome operator()(const OutcomeRecorded& input);
  Outcome operator()(const ActReceived& input);
  Outcome operator()(const PaymentMade& input);

 private:
  // The appeal commission's outcome (Rules 374 art. 20-23).
  Outcome appeal(const OutcomeRecorded& input);
  // The outcome comes from another center than the voucher's.
  std::optional<Rejection> other_center(const OutcomeRecorded& input) const;
  // When a voucher valid until `last_valid_day` is annulled if unused.
  [[nodiscard]] Result<Instant> annulment_of(calendar::Date last_valid_day) const;
  // Sets the annulment timer of the decided application (voucher_expiry).
  std::optional<Rejection> annul_later(Decision& decision) const;

  const Application* current_;
  Instant now_;
  const Context& context_;
};

}  // namespace nqs::domain::detail
