#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "calendar/working_calendar.hpp"
#include "common/reason.hpp"
#include "domain/ais_events.hpp"
#include "domain/deadlines.hpp"
#include "domain/rules.hpp"
#include "domain/stage.hpp"

namespace nqs::domain {

// One application and its voucher: the aggregate the state machine moves.
struct Application {
  std::string application_id;
  std::string iin;
  std::string region;            // KATO of the LMC region applied to (quota)
  std::string permanent_region;  // KATO of permanent registration (art. 15)
  int quota_year = 0;            // the year of the local date of submission
  // The cap category of art. 14 1): the profession's profile as the career center confirmed it
  // on forwarding, else as the applicant declared it (audit point 8).
  Profile profile = Profile::technical;
  bool profile_confirmed = false;  // profileSource: career_center, or declared
  std::string center_bin;
  std::string center_name;
  Stage stage = Stage::with_career_center;
  std::string voucher_id;
  std::optional<calendar::Date> issued_on;
  std::optional<calendar::Date> valid_until;  // as the LMC extended it (art. 12)
  std::vector<SickLeave> sick_leaves;         // granted extensions
  // Sheets accepted and not yet extended by the LMC (art. 13): they count for the exam and the
  // annulment already, so that no sick leave is lost to a race (audit point 7).
  std::vector<SickLeave> pending_sick_leaves;
  // The first outcome (Rules 374 art. 17-19), and the appeal that may follow it (art. 20-23).
  std::optional<calendar::Date> exam_date;
  std::optional<calendar::Date> protocol_signed_on;
  bool passed = false;
  bool protocol_late = false;  // signed more than 2 working days after the exam
  bool appealed = false;
  std::string exam_region;
  std::string act_number;
  std::optional<Reimbursement> reimbursement;
  std::int64_t paid_center_tiyn = 0;
  std::int64_t paid_holder_tiyn = 0;
};

// --- inputs --------------------------------------------------------------------------------------

// A verified VoucherApplication, its fields typed once by the workflow, with what is known of its
// applicant.
struct Submitted {
  std::string application_id;
  std::string iin;
  std::string region;                    // KATO applied to
  std::string permanent_region;          // KATO of permanent registration (art. 15)
  Profile profile = Profile::technical;  // as the applicant declared it
  std::string center_bin;
  std::string center_name;
  std::optional<Instant> submitted_at;
  // The mapped document (mappings/voucher-application.yaml), which RegisterApplication carries.
  boost::json::object payload;
  ApplicantFacts facts;
};
struct CenterDecided {
  std::string center_bin;
  bool accepted = false;
  std::string reason;
};
// A sick-leave sheet, signed by the holder (v:SickLeaveNotice) or from the AIS
// (SickLeaveRecorded: state integration, art. 12).
struct SickLeaveSubmitted {
  std::string holder_iin;
  SickLeave sheet;
  Instant submitted_at{};  // SubmittedAt, or the event's occurredAt
  bool from_ais = false;   // the AIS has the sheet already: no RecordSickLeave
};
struct OutcomeRecorded {
  std::string center_bin;
  std::string exam_region;
  bool passed = false;
  calendar::Date exam_date;
  calendar::Date protocol_signed_on;
  std::optional<calendar::Date> appeal_decided_on;  // the appeal commission's (art. 20-23)
  boost::json::object payload;
};
struct ActReceived {
  std::string executor_bin;
  std::string act_number;
  int act_year = 0;
  std::int64_t total_tiyn = 0;
  boost::json::object payload;
};
// The timer of art. 11: the end of the voucher's last valid day and of the annulment grace has
// passed (or so it was set: a timer that fires early is set again).
struct VoucherExpired {};
// Another application of the same person received a voucher this year: this one, still on its
// way, fails ground (c) of art. 3 (domain.md, details of audit point 1).
struct VoucherIssuedToPerson {
  std::string voucher_id;
  calendar::Date issued_on;
};

using Input =
    std::variant<Submitted, ApplicationReviewed, ApplicationForwarded, ApplicationRefused,
                 CenterDecided, VoucherIssued, SickLeaveSubmitted, VoucherExtended, OutcomeRecorded,
                 ActReceived, PaymentMade, VoucherExpired, VoucherIssuedToPerson>;

// Whether an application in this stage is still on its way to a voucher (and holds a unit of
// its region's allocation).
bool on_its_way(Stage stage);

// The voucher's last valid day counting every sheet accepted, extended or not (audit point 7).
calendar::Date counted_validity(const Application& application);

// When the wait of the application's stage began, for the stage that one more request can enter
// again while it lasts: extension_requested waits for its earliest sheet still pending (art. 13:
// the LMC extends each within 1 working day after receiving it). None for other stages, and for
// sheets stored before their receipt was kept.
std::optional<Instant> waiting_since(const Application& application);

// --- outputs -------------------------------------------------------------------------------------

struct CommandOut {
  std::string type;  // messages.md "Commands to the AIS"
  boost::json::object payload;
};
struct NotificationOut {
  std::string document;  // v:ApplicationRefused, v:VoucherDelivered, ...
  boost::json::object fields;
};
enum class TimerKind { voucher_expiry };
struct TimerChange {
  TimerKind kind = TimerKind::voucher_expiry;
  std::optional<Instant> due;  // nothing: cancel
};

struct Decision {
  Application next;
  std::vector<CommandOut> commands;
  std::vector<NotificationOut> notifications;
  std::vector<TimerChange> timers;
  int quota_change = 0;  // -1 a unit reserved, +1 released
};

struct Context {
  const calendar::WorkingCalendar& calendar;
  const MciTable& mci;
  const DeadlineTable& deadlines;  // the due dates told to the AIS are the ones enforced
  Policy policy{};
};

// The transition function: pure, (application, input, now) -> decision, or why the input does not
// fit. `current` is null for an application not seen before. Inputs that do not fit the stage are
// domain.invalid_transition (an operator replays them once the missing input has arrived); an
// input about no known application is domain.unknown_subject; a fact that contradicts the
// adapter's own computation is domain.inconsistent.
std::variant<Decision, Rejection> decide(const Application* current, const Input& input,
                                         Instant now, const Context& context);

}  // namespace nqs::domain
