// nqs-adapter demo: one voucher from application to payment, then one refusal, played against the
// running daemon as the National Qualifications System platform, the recognition center and the
// AIS would play them (Rules 380 art. 3-17), each step printed with what went in, what came out,
// the application's stage and its next statutory deadline.
#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <iostream>
#include <random>
#include <utility>

#include "cli/cli.hpp"
#include "cli/commands.hpp"
#include "cli/demo_kit.hpp"
#include "cli/demo_player.hpp"
#include "domain/rules.hpp"

namespace nqs::cli {
namespace {

using demo::Player;
using domain::Stage;

constexpr const char* kRegion = "750000000";  // Almaty (KATO): the application's and the exam's

// When the applications say they were submitted: now, or, after this year's last day of
// applications (art. 3, domain.application_deadline), at noon of that day.
struct Submission {
  Instant at{};
  bool backdated = false;
};
Submission submission(const Player& play) {
  const auto now = play.now();
  const auto today = date::year_month_day{play.today()};
  const auto& last = play.config().domain.policy.application_deadline;
  const calendar::Date last_day{today.year() / date::month{last.month} / date::day{last.day}};
  if (play.today() <= last_day) return {now, false};
  return {play.zone().at_local_time(last_day, std::chrono::hours{12}), true};
}

demo::Case new_case(Player& play, std::mt19937_64& random) {
  demo::Case c;
  c.application_id = play.fresh_id();
  play.follow(c.application_id);
  c.iin = demo::fresh_iin(random);
  c.region = kRegion;
  c.voucher_id = play.fresh_id();
  c.act_number = fmt::format("АКТ-DEMO-{}", c.application_id.substr(0, 8));
  const auto& bins = play.config().domain.policy.lmc_bins;
  const auto bin = bins.find(domain::oblast_of(kRegion));
  c.lmc_bin = bin != bins.end() ? bin->second : "140450600708";
  return c;
}

demo::Sending sending(Player& play) {
  return {play.fresh_id(), play.zone().local_string(play.now())};
}

// The AIS's word on the applicant's registration as unemployed, and the store keeping it.
Result<void> unemployment(Player& play, const demo::Case& c, bool registered,
                          calendar::Date since) {
  BOOST_OUTCOME_TRY(play.event("UnemployedStatusChanged", {{"iin", c.iin},
                                                           {"registered", registered},
                                                           {"region", c.region},
                                                           {"since", calendar::to_string(since)}}));
  BOOST_OUTCOME_TRY(play.await(
      [&]() -> Result<bool> {
        BOOST_OUTCOME_TRY(auto row, play.store().unemployment(c.iin));
        return row && row->registered == registered;
      },
      "the applicant's registration"));
  play.say("now", registered ? "the adapter keeps it: the applicant may apply"
                             : "the adapter keeps it: the applicant is not registered");
  return outcome::success();
}

// Art. 18: a unit of the region's allocation for the year, allocated if none is left.
Result<void> quota(Player& play, int year) {
  const auto oblast = domain::oblast_of(kRegion);
  BOOST_OUTCOME_TRY(auto row, play.store().quota(oblast, year));
  if (row && row->allocated > row->reserved) {
    play.step(fmt::format("The region's vouchers for {} (Rules 380 art. 18)", year));
    play.say("now", fmt::format("{} has {} of {} left: no allocation needed", oblast,
                                row->allocated - row->reserved, row->allocated));
    return outcome::success();
  }
  // Art. 18: for a 3-year period; a period already known is allocated again, more.
  const bool pooled = row && row->pool_start != 0;
  const int first = pooled ? row->pool_start : year;
  const int last = pooled ? row->pool_end : year + 2;
  play.step(fmt::format("The AIS allocates vouchers to the region for {}-{} (Rules 380 art. 18)",
                        first, last));
  const std::int64_t reserved = row ? row->reserved : 0;
  const std::int64_t vouchers = reserved + 10;
  boost::json::object region{{"region", oblast}};
  region[pooled ? "vouchers" : "vouchersPerYear"] = vouchers;
  BOOST_OUTCOME_TRY(play.event(
      "QuotaAllocated",
      {{"periodStart", first}, {"periodEnd", last}, {"regions", boost::json::array{region}}}));
  BOOST_OUTCOME_TRY(play.await(
      [&]() -> Result<bool> {
        BOOST_OUTCOME_TRY(auto now, play.store().quota(oblast, year));
        return now && now->allocated == vouchers;
      },
      "the allocation"));
  play.say("now", fmt::format("{} has {} vouchers {} for {}-{}, {} of {} reserved", oblast,
                              vouchers, pooled ? "in all" : "a year", first, last, reserved, year));
  return outcome::success();
}

// The applicant's signed application, as the platform sends it.
Result<void> apply(Player& play, const demo::Case& c, const notify::Signer& applicant,
                   const Submission& submitted) {
  const auto message = sending(play);
  return play.document(
      "VoucherApplication",
      demo::application(c, play.zone().local_string(submitted.at), message, applicant),
      message.message_id, fmt::format("the applicant (IIN {})", c.iin));
}

// From the application to the center's acceptance (art. 3-9).
Result<void> to_the_center(Player& play, const demo::LocalPki& pki, const demo::Case& c,
                           const notify::Signer& applicant, const Submission& submitted) {
  play.step(
      "The applicant applies on the NQS platform, signing with a certificate never seen "
      "before (art. 3-7)");
  BOOST_OUTCOME_TRY(apply(play, c, applicant, submitted));
  BOOST_OUTCOME_TRY(play.expect("RegisterApplication", c.application_id));
  BOOST_OUTCOME_TRY(play.stage(c.application_id, Stage::with_career_center));

  play.step("The career center reviews it and sends it on (art. 8)");
  BOOST_OUTCOME_TRY(play.event("ApplicationReviewed", {{"applicationId", c.application_id},
                                                       {"decision", "forward"},
                                                       {"reasons", boost::json::array{}}}));
  BOOST_OUTCOME_TRY(play.stage(c.application_id, Stage::with_lmc));

  play.step("The labour mobility center forwards it to the recognition center (art. 9)");
  BOOST_OUTCOME_TRY(play.event("ApplicationForwarded", {{"applicationId", c.application_id}}));
  BOOST_OUTCOME_TRY(play.expect("ApplicationToRecognitionCenter", c.application_id));
  BOOST_OUTCOME_TRY(play.stage(c.application_id, Stage::with_recognition_center));

  play.step("The recognition center accepts the applicant (art. 9)");
  const auto decision = sending(play);
  BOOST_OUTCOME_TRY(play.document(
      "RecognitionCenterDecision", demo::center_decision(c, decision, pki.center_head),
      decision.message_id, fmt::format("the center's head (BIN {})", demo::kCenterBin)));
  BOOST_OUTCOME_TRY(play.expect("RecordCenterDecision", c.application_id));
  return play.stage(c.application_id, Stage::confirmed);
}

// From the voucher to the payment (art. 10-17); the amount paid.
Result<std::string> to_the_payment(Player& play, const demo::LocalPki& pki, const demo::Case& c) {
  const auto today = play.today();
  const auto center = fmt::format("the center's head (BIN {})", demo::kCenterBin);
  play.step("The LMC issues the voucher, valid 60 calendar days (art. 10)");
  BOOST_OUTCOME_TRY(play.event("VoucherIssued", {{"voucherId", c.voucher_id},
                                                 {"applicationId", c.application_id},
                                                 {"issuedOn", calendar::to_string(today)}}));
  BOOST_OUTCOME_TRY(play.expect("VoucherDelivered", c.application_id));
  BOOST_OUTCOME_TRY(play.stage(c.application_id, Stage::voucher_active));

  play.step(
      "The holder passes the exam within the voucher's validity (art. 11; the exam under "
      "Rules 374); the center sends its outcome");
  const auto exam = sending(play);
  BOOST_OUTCOME_TRY(play.document("RecognitionOutcome",
                                  demo::outcome(c, today, exam, pki.center_head), exam.message_id,
                                  center));
  BOOST_OUTCOME_TRY(play.expect("RecordRecognitionOutcome", c.application_id));
  BOOST_OUTCOME_TRY(play.stage(c.application_id, Stage::used));

  play.step("The center sends its act of services; the adapter computes what is paid (art. 14-16)");
  const auto act = sending(play);
  BOOST_OUTCOME_TRY(play.document("ServiceAct", demo::service_act(c, today, act, pki.center_head),
                                  act.message_id, center));
  BOOST_OUTCOME_TRY(auto registered, play.expect("RegisterServiceAct", c.application_id));
  BOOST_OUTCOME_TRY(play.stage(c.application_id, Stage::act_received));
  boost::system::error_code ec;
  const auto command = boost::json::parse(registered.body, ec);
  const auto* payload =
      ec || !command.is_object() ? nullptr : command.as_object().if_contains("payload");
  const auto* amount = payload == nullptr || !payload->is_object()
                           ? nullptr
                           : payload->as_object().if_contains("centerAmount");
  if (amount == nullptr || !amount->is_string()) {
    return make_error("RegisterServiceAct has no payload.centerAmount");
  }
  const std::string paid(amount->as_string());

  play.step("The LMC pays the center what the adapter computed (art. 17)");
  BOOST_OUTCOME_TRY(play.event("PaymentMade", {{"actNumber", c.act_number},
                                               {"payee", "center"},
                                               {"amount", paid},
                                               {"paidOn", calendar::to_string(today)}}));
  BOOST_OUTCOME_TRY(play.stage(c.application_id, Stage::paid));
  return paid;
}

// Art. 3 (a): an applicant the AIS has as not registered is refused, to both sides.
Result<void> refusal(Player& play, const demo::LocalPki& pki, const demo::Case& c,
                     const Submission& submitted) {
  BOOST_OUTCOME_TRY(auto applicant,
                    demo::issue_applicant(pki, c.iin, "DEMO APPLICANT TWO", play.now()));
  play.step("Another person applies, whom the AIS has as not registered unemployed (art. 3)");
  BOOST_OUTCOME_TRY(unemployment(play, c, false, play.today() - date::days{10}));
  BOOST_OUTCOME_TRY(apply(play, c, applicant, submitted));
  BOOST_OUTCOME_TRY(play.expect("RecordAutomaticRefusal", c.application_id));
  BOOST_OUTCOME_TRY(play.expect("ApplicationRefused", c.application_id));
  return play.stage(c.application_id, Stage::refused_automatic);
}

Result<void> play_all(Player& play, const demo::LocalPki& pki, const std::string& config_file) {
  std::mt19937_64 random{std::random_device{}()};
  const auto submitted = submission(play);
  const auto voucher = new_case(play, random);
  const auto refused = new_case(play, random);
  if (submitted.backdated) {
    std::cout << fmt::format(
        "Today is after this year's last day of applications (art. 3): the demo's applications "
        "say they were submitted on {}.\n",
        play.zone().local_string(submitted.at));
  }
  BOOST_OUTCOME_TRY(auto applicant,
                    demo::issue_applicant(pki, voucher.iin, "DEMO APPLICANT", play.now()));
  play.step("The AIS says the applicant is registered as unemployed (art. 3)");
  BOOST_OUTCOME_TRY(unemployment(play, voucher, true, play.today() - date::days{30}));
  const auto year =
      static_cast<int>(date::year_month_day{play.zone().local_date(submitted.at)}.year());
  BOOST_OUTCOME_TRY(quota(play, year));
  BOOST_OUTCOME_TRY(to_the_center(play, pki, voucher, applicant, submitted));
  BOOST_OUTCOME_TRY(auto paid, to_the_payment(play, pki, voucher));
  BOOST_OUTCOME_TRY(refusal(play, pki, refused, submitted));

  std::cout << fmt::format(
      "\nSummary\n"
      "    voucher  application {}: from application to payment, {} tenge paid to the center\n"
      "    refusal  application {}: refused on art. 3, told to the AIS and, signed, to the bus\n"
      "    {}\n"
      "Where to look next\n",
      voucher.application_id, paid, refused.application_id, play.counts());
  const std::pair<std::string, const char*> next[] = {
      {fmt::format("nqs-adapter sla list --config {}", config_file),
       "open statutory deadlines, earliest first"},
      {fmt::format("nqs-adapter evidence show {} --config {}", voucher.application_id, config_file),
       "the signed documents kept as evidence"},
      {fmt::format("nqs-adapter dlq list --config {}", config_file),
       "dead letters, with their reasons"},
      {fmt::format("curl -s http://{}/metrics | grep '^nqs_inputs_total'",
                   play.config().ops.listen),
       "inputs by outcome and reason"},
  };
  for (const auto& [command, what] : next)
    std::cout << fmt::format("    {}\n        {}\n", command, what);
  return outcome::success();
}

}  // namespace

int play_demo(const DemoArguments& arguments) {
  auto setup = load_or_report(arguments.config, Parts::calendar);
  if (!setup) return kExitProblem;
  const auto& config = setup->config;
  if (config.profile == "production") {
    std::cerr << "demo plays made-up people with the local test PKI: refused under the production "
                 "profile\n";
    return kExitProblem;
  }
  const auto pki_dir = arguments.pki.empty() ? config.source.parent_path() / "trust" / "local"
                                             : std::filesystem::path(arguments.pki);
  auto pki = demo::load_local_pki(pki_dir);
  if (!pki) {
    std::cerr << fmt::format(
        "{}\nthe local test PKI is missing: make it with "
        "scripts/make-local-pki.sh (after scripts/build.sh)\n",
        pki.error().message);
    return kExitProblem;
  }
  auto client = connect_broker(config);
  if (!client) {
    std::cerr << client.error().message << '\n';
    return kExitProblem;
  }
  for (const auto& queue : {config.amqp.gov_in, config.amqp.ais_events}) {
    auto state = client.value()->inspect(queue);
    if (!state || state.value().consumers == 0) {
      std::cerr << fmt::format("no daemon consumes {}: start it first (scripts/run-local.sh)\n",
                               queue);
      return kExitProblem;
    }
  }
  auto watch =
      client.value()->declare_watch_queue({{config.amqp.ais_commands, "#"},
                                           {config.amqp.gov_outbound, "#"},
                                           {config.amqp.dead_letters, config.amqp.gov_in},
                                           {config.amqp.dead_letters, config.amqp.ais_events}});
  auto store = open_configured_store(config);
  if (!watch || !store) {
    std::cerr << (!watch ? watch.error().message : store.error().message) << '\n';
    return kExitProblem;
  }
  std::cout << fmt::format(
      "nqs-adapter demo: one voucher from application to payment, then one refusal, through the "
      "daemon of {}.\nThe demo plays the NQS platform and the recognition center (signed documents "
      "to {}) and the AIS (events to {});\nit watches {} and {} on a queue of its own and reads "
      "stages and deadlines from the store. Signatures: the test PKI in {}.\n",
      config.source.string(), config.amqp.gov_in, config.amqp.ais_events, config.amqp.ais_commands,
      config.amqp.gov_outbound, pki_dir.string());
  Player play(*setup, *client.value(), *store.value(), watch.value(), arguments.step);
  if (auto played = play_all(play, pki.value(), config.source.string()); !played) {
    std::cerr << "\ndemo stopped: " << played.error().message << '\n';
    return kExitProblem;
  }
  return kExitOk;
}

}  // namespace nqs::cli
