#include <fmt/format.h>

#include <algorithm>
#include <boost/json/parse.hpp>

#include "workflow/application_json.hpp"
#include "workflow/workflow.hpp"
#include "workflow/workflow_internal.hpp"

// The service act of a recognition center (v:ServiceAct, one person or several) and the payments
// for it (PaymentMade): one input that moves several applications.
namespace nqs::workflow {

using detail::absorb;
using detail::date_at;
using detail::text_at;
using detail::unknown;

namespace {

// One input that moves `n` applications (`decide(i)` each): their effects together, or the
// first rejection. n > 0.
template <typename Decide>
Result<Decided> together(std::size_t n, Decide decide) {
  std::optional<Effects> all;
  for (std::size_t i = 0; i < n; ++i) {
    BOOST_OUTCOME_TRY(auto decided, decide(i));
    auto* effects = std::get_if<Effects>(&decided);
    if (effects == nullptr) return decided;
    if (all) {
      absorb(*all, std::move(*effects));
    } else {
      all = std::move(*effects);
    }
  }
  return Decided{std::move(*all)};
}

// Appendix 2: one person (the whole total theirs) or the list of persons, each with its amount
// (audit point 12); caps and assistance are computed per person.
struct ActPerson {
  std::string voucher;
  std::string iin;  // empty for the one person of an act by VoucherId
  std::int64_t amount = 0;
  boost::json::object payload;  // the act as it concerns this person
};

// The act's persons, read into `persons` (`total`: the act's TotalTiyn); why not, if they cannot
// be read.
std::optional<Rejection> read_act_persons(const boost::json::object& payload, std::int64_t total,
                                          std::vector<ActPerson>& persons) {
  const auto* listed = payload.if_contains("persons");
  if (listed != nullptr && listed->is_array() && !listed->get_array().empty()) {
    for (const auto& item : listed->get_array()) {
      const auto& person = item.as_object();
      const auto* amount = person.if_contains("amountTiyn");
      if (amount == nullptr || !amount->is_int64()) {
        return Rejection{Reason::schema_invalid, "a person's Amount is missing"};
      }
      auto own = payload;
      own.erase("persons");
      own["voucherId"] = text_at(person, "voucherId");
      own["holderIin"] = text_at(person, "holderIin");
      own["amountTiyn"] = amount->as_int64();
      own["personsInAct"] = static_cast<std::int64_t>(listed->get_array().size());
      persons.push_back(
          {text_at(person, "voucherId"), text_at(person, "holderIin"), amount->as_int64(), own});
    }
  } else {
    persons.push_back({text_at(payload, "voucherId"), "", total, payload});
  }
  return std::nullopt;
}

// The application of each person of act `act_number`, into `rows`, and their one oblast; a
// Rejection if the act does not fit them.
Result<std::optional<Rejection>> find_act_applications(const std::vector<ActPerson>& persons,
                                                       const std::string& act_number,
                                                       StateView& view,
                                                       std::vector<store::ApplicationRow>& rows,
                                                       std::string& oblast) {
  for (const auto& person : persons) {
    BOOST_OUTCOME_TRY(auto row, view.application_by_voucher(person.voucher));
    if (!row) {
      return std::optional<Rejection>{
          unknown(fmt::format("no voucher {} is known", person.voucher))};
    }
    for (const auto& seen : rows) {
      if (seen.application_id == row->application_id) {
        return std::optional<Rejection>{
            Rejection{Reason::domain_inconsistent,
                      fmt::format("act {} lists voucher {} twice", act_number, person.voucher)}};
      }
    }
    if (!person.iin.empty() && person.iin != row->iin) {
      return std::optional<Rejection>{
          Rejection{Reason::domain_inconsistent,
                    fmt::format("act {} lists voucher {} for IIN {}, but its holder is IIN {}",
                                act_number, person.voucher, person.iin, row->iin)}};
    }
    // All persons of one act belong to one LMC: the oblast of their applications.
    const auto own = domain::oblast_of(row->region);
    if (!oblast.empty() && own != oblast) {
      return std::optional<Rejection>{
          Rejection{Reason::domain_inconsistent,
                    fmt::format("act {} lists vouchers of oblasts {} and {}; an act is to one LMC",
                                act_number, oblast, own)}};
    }
    oblast = own;
    rows.push_back(std::move(*row));
  }
  // An act number is one act's.
  BOOST_OUTCOME_TRY(auto registered, view.applications_by_act(act_number));
  for (const auto& other : registered) {
    const bool listed_here =
        std::any_of(rows.begin(), rows.end(), [&](const store::ApplicationRow& row) {
          return row.application_id == other.application_id;
        });
    if (!listed_here) {
      return std::optional<Rejection>{Rejection{
          Reason::domain_inconsistent, fmt::format("act {} was already registered for voucher {}",
                                                   act_number, other.voucher_id)}};
    }
  }
  return std::optional<Rejection>{};
}

// Audit point 12: the act's customer is the LMC of the vouchers' oblast, when configured.
std::optional<Rejection> other_customer(const boost::json::object& payload,
                                        const std::string& act_number, const std::string& oblast,
                                        const domain::Policy& policy) {
  const auto lmc = policy.lmc_bins.find(oblast);
  if (lmc == policy.lmc_bins.end()) return std::nullopt;
  const auto customer = text_at(payload, "customer.bin");
  if (customer == lmc->second) return std::nullopt;
  return Rejection{Reason::domain_inconsistent,
                   fmt::format("act {} names customer BIN {}, but the LMC of oblast {} is BIN {} "
                               "(domain.lmc_bins)",
                               act_number, customer, oblast, lmc->second)};
}
}  // namespace

Result<Decided> Workflow::service_act(const intake::Accepted& document, StateView& view,
                                      Instant now) const {
  const auto& payload = document.payload;
  const auto& causation = document.envelope.message_id;
  const auto act_number = text_at(payload, "actNumber");
  const auto act_date = date_at(payload, "actDate");
  const auto* total = payload.if_contains("totalTiyn");
  if (!act_date || total == nullptr || !total->is_int64()) {
    return Decided{Rejection{Reason::schema_invalid, "ActDate or Total is missing"}};
  }
  std::vector<ActPerson> persons;
  if (auto unreadable = read_act_persons(payload, total->as_int64(), persons)) {
    return Decided{std::move(*unreadable)};
  }
  std::vector<store::ApplicationRow> rows;
  std::string oblast;
  BOOST_OUTCOME_TRY(auto problem, find_act_applications(persons, act_number, view, rows, oblast));
  if (problem) return Decided{std::move(*problem)};
  if (auto mismatch = other_customer(payload, act_number, oblast, policy_)) {
    return Decided{std::move(*mismatch)};
  }
  const int act_year = static_cast<int>(date::year_month_day{*act_date}.year());
  const bool several = persons.size() > 1;
  return together(persons.size(), [&](std::size_t i) {
    const domain::ActReceived input{text_at(payload, "executor.bin"), act_number, act_year,
                                    persons[i].amount, persons[i].payload};
    // Each person's command has an id of its own, derived from the act and the application.
    const auto cause = several ? causation + ":" + rows[i].application_id : causation;
    return step(rows[i], input, cause, view, now, &document);
  });
}
Result<Decided> Workflow::payment_made(const domain::PaymentMade& payment,
                                       const std::string& causation, StateView& view,
                                       Instant now) const {
  BOOST_OUTCOME_TRY(auto rows, view.applications_by_act(payment.act_number));
  if (rows.empty()) return Decided{unknown(fmt::format("no act {} is known", payment.act_number))};
  if (!payment.to_center) {
    // A holder's assistance: the person named, or the act's only one.
    if (payment.voucher_id.empty()) {
      if (rows.size() > 1) {
        return Decided{
            Rejection{Reason::json_invalid,
                      fmt::format("payload.voucherId is required: act {} covers {} persons",
                                  payment.act_number, rows.size())}};
      }
      return step(rows.front(), payment, causation, view, now);
    }
    for (const auto& row : rows) {
      if (row.voucher_id == payment.voucher_id) return step(row, payment, causation, view, now);
    }
    return Decided{Rejection{
        Reason::domain_inconsistent,
        fmt::format("voucher {} is not one of act {}", payment.voucher_id, payment.act_number)}};
  }
  if (rows.size() == 1) return step(rows.front(), payment, causation, view, now);
  // The center is paid once for the act: the sum of its persons' center amounts.
  std::vector<std::int64_t> shares;
  std::int64_t due = 0;
  for (const auto& row : rows) {
    boost::system::error_code ec;
    auto json = boost::json::parse(row.state_json, ec);
    auto parsed = !ec && json.is_object() ? workflow::application_from_json(json.as_object())
                                          : Result<domain::Application>(make_error("not JSON"));
    if (!parsed || !parsed.value().reimbursement) {
      return Decided{Rejection{
          Reason::domain_invalid_transition,
          fmt::format("application {} of act {} has no reimbursement computed (stage {})",
                      row.application_id, payment.act_number, domain::stage_name(row.stage))}};
    }
    shares.push_back(parsed.value().reimbursement->center_tiyn);
    due += shares.back();
  }
  if (payment.amount_tiyn != due) {
    return Decided{Rejection{
        Reason::domain_inconsistent,
        fmt::format(
            "payment of {} tiyn to the center for act {}; {} tiyn is due for its {} persons",
            payment.amount_tiyn, payment.act_number, due, rows.size())}};
  }
  return together(rows.size(), [&](std::size_t i) {
    auto share = payment;
    share.amount_tiyn = shares[i];
    return step(rows[i], share, causation + ":" + rows[i].application_id, view, now);
  });
}

}  // namespace nqs::workflow
