// Validation of config/adapter.yaml: every problem is reported at once, each with its key path.
#include "configuration/config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "intake/intake.hpp"
#include "notify/outbound.hpp"
#include "test_support.hpp"

namespace nqs::configuration {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using yaml::Diagnostics;
using yaml::Reader;

struct Loaded {
  std::optional<Setup> setup;
  std::vector<std::string> problems;
};

// Every outbound mapping of the source tree, as a YAML flow list.
std::string outbound_mappings() {
  std::string out = "[";
  for (const char* name : {"application-refused", "application-to-recognition-center",
                           "voucher-delivered", "voucher-validity-extended", "voucher-annulled"}) {
    if (out.size() > 1) out += ", ";
    out += test::source_path(std::string("mappings/outbound/") + name + ".yaml").string();
  }
  return out + "]";
}

// Valid intake and trust sections, naming the source tree's schemas and mappings and the test PKI.
std::string intake_and_trust() {
  std::string out =
      "intake:\n  envelope_schema: " + test::source_path("xsd/envelope.xsd").string() +
      "\n  mappings:\n";
  for (const char* name : {"voucher-application", "service-act"}) {
    out += "    - " + test::source_path(std::string("mappings/") + name + ".yaml").string() + "\n";
  }
  const std::string pki = NQS_TEST_PKI_DIR;
  out += "trust:\n  anchors: [" + pki + "/ca-chain.pem]\n  crls: [" + pki + "/root.crl.pem, " +
         pki + "/issuing.crl.pem]\n";
  out += "domain: {mci: {2025: 3932}}\n";
  out += "signing:\n  key: " + pki + "/adapter-sign.key\n  certificate: " + pki +
         "/adapter-chain.pem\n";
  out += "outbound:\n  mappings: " + outbound_mappings() + "\n";
  return out;
}

// Writes adapter.yaml (and the calendar files it may name) into a temporary folder and loads it.
// Unless the text has its own, valid intake and trust sections are added at its end.
Loaded load(const std::string& adapter_yaml, test::TempDir& dir) {
  dir.write("calendar/kz-2025.yaml", "year: 2025\n");
  dir.write("calendar/kz-2026.yaml", "year: 2026\n");
  const bool own = adapter_yaml.find("intake:") != std::string::npos ||
                   adapter_yaml.find("trust:") != std::string::npos;
  // A text with its own intake and trust gets the rest of the required sections added.
  const std::string pki = NQS_TEST_PKI_DIR;
  const std::string rest = "domain: {mci: {2025: 3932}}\nsigning:\n  key: " + pki +
                           "/adapter-sign.key\n  certificate: " + pki +
                           "/adapter-chain.pem\noutbound:\n  mappings: " + outbound_mappings() +
                           "\n";
  const auto file = dir.write("adapter.yaml", !own ? adapter_yaml + intake_and_trust()
                                              : adapter_yaml.find("signing:") != std::string::npos
                                                  ? adapter_yaml
                                                  : adapter_yaml + rest);
  Diagnostics diagnostics;
  Loaded loaded;
  loaded.setup = load_setup(file, diagnostics);
  for (auto problem : diagnostics.problems()) {
    const auto prefix = dir.path().string() + "/";
    for (auto at = problem.find(prefix); at != std::string::npos; at = problem.find(prefix)) {
      problem.erase(at, prefix.size());
    }
    loaded.problems.push_back(problem);
  }
  EXPECT_EQ(loaded.setup.has_value(), loaded.problems.empty());
  return loaded;
}

TEST(Config, TheShippedConfigurationIsValid) {
  Diagnostics diagnostics;
  auto setup = load_setup(test::source_path("config/adapter.yaml"), diagnostics);
  ASSERT_TRUE(setup.has_value()) << test::join(diagnostics.problems());
  EXPECT_EQ(setup->calendar->coverage(), "2023-2027");
  EXPECT_EQ(setup->config.calendar.time_zone, "Asia/Almaty");
  EXPECT_EQ(setup->config.log.format, log::LogFormat::text);
  EXPECT_EQ(setup->config.intake.max_message_bytes, 1048576U);
  EXPECT_EQ(setup->config.amqp.prefetch, amqp::kDefaultPrefetch);
  EXPECT_TRUE(setup->config.intake.strict_identifiers);
  EXPECT_EQ(setup->config.intake.mappings.size(), 5U);
  EXPECT_EQ(setup->config.trust.allowed_algorithms.size(), 9U);
  ASSERT_NE(setup->intake, nullptr);
  EXPECT_EQ(setup->config.domain.mci.at(2025), 3932);
  EXPECT_EQ(setup->config.domain.mci.size(), 4U);
  EXPECT_EQ(setup->config.domain.policy.application_deadline.month, 10U);
  EXPECT_EQ(setup->config.domain.policy.application_deadline.day, 15U);
  EXPECT_EQ(setup->config.domain.policy.annulment_grace, 3);
  EXPECT_TRUE(setup->config.domain.policy.release_quota_on_annulment);
  ASSERT_NE(setup->notifications, nullptr);
  EXPECT_EQ(setup->notifications->documents(), 5U);
  EXPECT_EQ(setup->intake->trust()->anchor_count(), 4U);
  EXPECT_EQ(setup->intake->trust()->crl_count(), 4U);
  EXPECT_EQ(setup->config.store.sqlite_cache_mib, 16);
}

TEST(Config, IntakeAndTrustProblemsAreNamed) {
  test::TempDir dir;
  dir.write("bad-mapping.yaml", "document: {element: X}\n");
  dir.write("not-a-cert.pem", "hello\n");
  auto loaded = load(
      "calendar: {files: [calendar/kz-2025.yaml]}\n"
      "intake:\n"
      "  max_message_bytes: 10\n"
      "  envelope_schema: missing.xsd\n"
      "  mappings: []\n"
      "trust:\n"
      "  anchors: [not-a-cert.pem]\n"
      "  crls: []\n"
      "  crl_fetch: false\n"
      "  allowed_algorithms: ['http://www.w3.org/2001/04/xmldsig-more#rsa-md5']\n",
      dir);
  EXPECT_THAT(
      loaded.problems,
      ElementsAre(
          "adapter.yaml:3:22: intake.max_message_bytes: 10 is out of range [1024, 67108864]",
          "adapter.yaml:4:20: intake.envelope_schema: file not found: missing.xsd",
          "adapter.yaml:5:13: intake.mappings: list at least one mapping",
          "adapter.yaml:8:9: trust.crls: list the CRLs of the anchors, or let the daemon fetch "
          "them (trust.crl_fetch) or ask OCSP (trust.revocation): revocation is always checked",
          "adapter.yaml:10:24: trust.allowed_algorithms[0]: "
          "'http://www.w3.org/2001/04/xmldsig-more#rsa-md5' is not a signature or digest "
          "algorithm xmlsec supports here"));
}

TEST(Config, DefaultsApplyWhereKeysAreLeftOut) {
  test::TempDir dir;
  auto loaded = load("calendar:\n  files: [calendar/kz-2025.yaml]\n", dir);
  ASSERT_TRUE(loaded.setup.has_value()) << test::join(loaded.problems);
  EXPECT_EQ(loaded.setup->config.log.level, "info");
  EXPECT_EQ(loaded.setup->config.log.format, log::LogFormat::text);
  EXPECT_EQ(loaded.setup->config.calendar.time_zone, "Asia/Almaty");
  // Not 64 MiB: a cache that large slowed the first 6,000 documents after a start (issue 17).
  EXPECT_EQ(loaded.setup->config.store.sqlite_cache_mib, 16);
  // Relative paths are relative to the configuration file's folder, not the working directory.
  EXPECT_EQ(loaded.setup->config.calendar.files.at(0), dir.path() / "calendar/kz-2025.yaml");
}

TEST(Config, EveryProblemIsReportedAtOnceWithItsPath) {
  test::TempDir dir;
  auto loaded = load(
      "loging:\n"
      "  level: info\n"
      "log:\n"
      "  level: verbose\n"
      "  format: [json]\n"
      "  colour: true\n"
      "calendar:\n"
      "  time_zone: Mars/Olympus_Mons\n"
      "  files:\n"
      "    - calendar/kz-2025.yaml\n"
      "    - calendar/kz-2026.yaml\n"
      "    - calendar/kz-2030.yaml\n"
      "    - {year: 2031}\n",
      dir);
  EXPECT_THAT(
      loaded.problems,
      ElementsAre(
          "adapter.yaml:4:10: log.level: 'verbose' is not one of: trace, debug, info, warn, error",
          "adapter.yaml:5:11: log.format: expected one of: text, json, found a list",
          "adapter.yaml:6:3: log.colour: unknown key (known here: format, level)",
          "adapter.yaml:8:14: calendar.time_zone: unknown time zone 'Mars/Olympus_Mons' "
          "(Mars/Olympus_Mons not found in timezone database); install the tzdata package",
          "adapter.yaml:12:7: calendar.files[2]: file not found: calendar/kz-2030.yaml",
          "adapter.yaml:13:7: calendar.files[3]: expected text, found a mapping",
          "adapter.yaml:1:1: loging: unknown key, did you mean 'log'?"));
}

TEST(Config, TheSigningKeyMustMatchItsCertificate) {
  test::TempDir dir;
  const std::string pki = NQS_TEST_PKI_DIR;
  auto text = "calendar: {files: [calendar/kz-2025.yaml]}\n" + intake_and_trust();
  const auto at = text.find("adapter-chain.pem");
  text.replace(at, std::string("adapter-chain.pem").size(), "center-head.pem");
  EXPECT_THAT(load(text, dir).problems,
              ElementsAre(HasSubstr("signing: " + pki +
                                    "/center-head.pem: the first certificate is "
                                    "not the one of the key")));
}

// signing as NCA RK delivers the LMC's key: a PKCS#12 and its password outside the file.
std::string with_pkcs12_signing(std::string text, const std::string& signing) {
  const auto from = text.find("signing:\n");
  const auto to = text.find("outbound:");
  return text.replace(from, to - from, signing);
}

TEST(Config, TheSigningKeyFromAPkcs12WithItsPasswordFile) {
  test::TempDir dir;
  const std::string pki = NQS_TEST_PKI_DIR;
  const auto text = with_pkcs12_signing(
      "calendar: {files: [calendar/kz-2025.yaml]}\n" + intake_and_trust(),
      "signing:\n  pkcs12: " + pki + "/gost-adapter-sign.p12\n  password_file: " + pki +
          "/gost-adapter-sign.password\n");
  auto loaded = load(text, dir);
  ASSERT_TRUE(loaded.problems.empty()) << test::join(loaded.problems);
  ASSERT_NE(loaded.setup->notifications, nullptr);
  EXPECT_EQ(loaded.setup->config.outbound.signing_pkcs12, pki + "/gost-adapter-sign.p12");
}

TEST(Config, APkcs12NeedsItsRightPasswordAndNoPemBesideIt) {
  test::TempDir dir;
  const std::string pki = NQS_TEST_PKI_DIR;
  const auto base = "calendar: {files: [calendar/kz-2025.yaml]}\n" + intake_and_trust();
  ::unsetenv("NQS_SIGNING_PASSWORD");
  EXPECT_THAT(
      load(with_pkcs12_signing(base, "signing:\n  pkcs12: " + pki + "/gost-adapter-sign.p12\n"),
           dir)
          .problems,
      ElementsAre(HasSubstr("signing.pkcs12: its password is needed: signing.password_file, or "
                            "the environment variable NQS_SIGNING_PASSWORD")));
  // The environment may give it; a wrong one is named as such.
  ::setenv("NQS_SIGNING_PASSWORD", "not-the-password", 1);
  EXPECT_THAT(
      load(with_pkcs12_signing(base, "signing:\n  pkcs12: " + pki + "/gost-adapter-sign.p12\n"),
           dir)
          .problems,
      ElementsAre(HasSubstr("gost-adapter-sign.p12: the password is wrong")));
  ::unsetenv("NQS_SIGNING_PASSWORD");
  EXPECT_THAT(load(with_pkcs12_signing(base, "signing:\n  pkcs12: " + pki +
                                                 "/gost-adapter-sign.p12\n  password_file: " + pki +
                                                 "/gost-adapter-sign.password\n  key: " + pki +
                                                 "/adapter-sign.key\n"),
                   dir)
                  .problems,
              ElementsAre(HasSubstr("signing.key: give either signing.pkcs12 or signing.key")));
  EXPECT_THAT(load(with_pkcs12_signing(base, "signing:\n  key: " + pki +
                                                 "/adapter-sign.key\n  certificate: " + pki +
                                                 "/adapter-chain.pem\n  password_file: " + pki +
                                                 "/gost-adapter-sign.password\n"),
                   dir)
                  .problems,
              ElementsAre(HasSubstr("signing.password_file: is the password of signing.pkcs12")));
}

TEST(Config, EveryNotificationNeedsItsMappingAndEveryCommandItsWorkflow) {
  test::TempDir dir;
  auto text = "calendar: {files: [calendar/kz-2025.yaml]}\n" + intake_and_trust();
  const auto refused = test::source_path("mappings/outbound/application-refused.yaml").string();
  text.replace(text.find(refused), refused.size() + 2, "");
  auto mapping = test::read_file(test::source_path("mappings/service-act.yaml"));
  mapping = test::replaced(mapping, "command: RegisterServiceAct", "command: PayEverything");
  mapping = test::replaced(mapping, "../xsd/", test::source_path("xsd").string() + "/");
  const auto custom = dir.write("custom.yaml", mapping);
  const auto act = test::source_path("mappings/service-act.yaml").string();
  text.replace(text.find(act), act.size(), custom.string());
  EXPECT_THAT(load(text, dir).problems,
              ::testing::UnorderedElementsAre(
                  HasSubstr("custom.yaml: command: 'PayEverything' is not one the workflow takes"),
                  HasSubstr("outbound.mappings: no mapping for the notification "
                            "ApplicationRefused")));
}

TEST(Config, TheDeadlineTableIsCheckedStepByStep) {
  test::TempDir dir;
  auto loaded = load(
      "calendar: {files: [calendar/kz-2025.yaml]}\n"
      "deadlines:\n"
      "  warning_at: '25:00'\n"
      "  steps:\n"
      "    - {step: career_center_review, responsible: career_center, stages: [with_career_center],"
      " working_days: 1, basis: art. 8}\n"
      "    - {step: career_center_review, responsible: lmc, stages: [waiting], working_days: 1,"
      " calendar_days: 2, basis: x}\n"
      "    - {step: Bad Name, stages: [with_lmc], until: valid_until, from: protocolSignedOn}\n",
      dir);
  EXPECT_THAT(
      loaded.problems,
      ElementsAre(
          HasSubstr("deadlines.warning_at: '25:00' is not a local time HH:MM"),
          HasSubstr("deadlines.steps[1]: step: 'career_center_review' is given twice"),
          HasSubstr("deadlines.steps[1].stages[0]: 'waiting' is not a stage of the voucher "
                    "process"),
          HasSubstr("deadlines.steps[1]: stages: list the stages the deadline covers"),
          HasSubstr("deadlines.steps[1]: give exactly one of working_days, calendar_days and "
                    "until"),
          HasSubstr("deadlines.steps[2]: step: 'Bad Name' is not a name of lowercase letters"),
          HasSubstr("deadlines.steps[2]: responsible: say who must act"),
          HasSubstr("deadlines.steps[2]: from: not with until"),
          HasSubstr("deadlines.steps[2]: basis: cite the article")));
  // Left out, the statutory table applies.
  test::TempDir other;
  auto defaults = load("calendar: {files: [calendar/kz-2025.yaml]}\n", other);
  ASSERT_TRUE(defaults.setup.has_value());
  EXPECT_EQ(defaults.setup->config.deadlines.rules.size(), 8U)
      << "center_document_check is no default step (audit point 10)";
  EXPECT_EQ(defaults.setup->config.deadlines.warning_at, std::chrono::minutes{9 * 60});
}

TEST(Config, TheProductionProfileRefusesAShiftedClock) {
  test::TempDir dir;
  auto loaded = load(
      "profile: production\n"
      "clock: {offset: 36h, control_file: clock-offset}\n"
      "calendar: {files: [calendar/kz-2025.yaml]}\n",
      dir);
  EXPECT_THAT(loaded.problems,
              ElementsAre(HasSubstr("adapter.yaml:2:17: clock.offset: not allowed in the "
                                    "production profile"),
                          HasSubstr("clock.control_file: not allowed in the production profile")));
  test::TempDir local;
  auto rehearsal = load(
      "clock: {offset: 2d, control_file: clock-offset}\n"
      "calendar: {files: [calendar/kz-2025.yaml]}\n",
      local);
  ASSERT_TRUE(rehearsal.setup.has_value()) << test::join(rehearsal.problems);
  EXPECT_EQ(rehearsal.setup->config.clock.offset, std::chrono::hours{48});
  EXPECT_EQ(rehearsal.setup->config.clock.control_file, local.path() / "clock-offset");
}

TEST(Config, TheClockControlFileIsReadAndAdvanced) {
  test::TempDir dir;
  const auto file = dir.path() / "clock-offset";
  EXPECT_EQ(read_clock_control(file).value(), std::chrono::milliseconds{0}) << "missing: none";
  EXPECT_EQ(advance_clock_control(file, std::chrono::hours{36}).value(), std::chrono::hours{36});
  EXPECT_EQ(advance_clock_control(file, std::chrono::hours{24}).value(), std::chrono::hours{60});
  EXPECT_EQ(read_clock_control(file).value(), std::chrono::hours{60});
  EXPECT_EQ(test::read_file(file), "60h\n");
  // Far beyond 10^9 ms: written in days.
  EXPECT_EQ(advance_clock_control(file, std::chrono::hours{24 * 100 - 60}).value(),
            std::chrono::hours{24 * 100});
  EXPECT_EQ(test::read_file(file), "100d\n");
  EXPECT_EQ(read_clock_control(file).value(), std::chrono::hours{24 * 100});
  dir.write("clock-offset", "soon\n");
  EXPECT_THAT(read_clock_control(file).error().message, HasSubstr("'soon' is not a duration"));
}

TEST(Config, TheMciIsGivenPerYear) {
  test::TempDir dir;
  auto text = "calendar: {files: [calendar/kz-2025.yaml]}\n" + intake_and_trust();
  const auto at = text.find("domain: {mci: {2025: 3932}}");
  text.replace(at, std::string("domain: {mci: {2025: 3932}}").size(),
               "domain: {mci: {twenty: 1, 2025: -5}}");
  EXPECT_THAT(load(text, dir).problems,
              ElementsAre(HasSubstr("domain.mci.twenty: 'twenty' is not a year"),
                          HasSubstr("domain.mci.2025: -5 is out of range [1, 1000000]"),
                          HasSubstr("domain.mci: give the MCI of at least one year")));
}

TEST(Config, TheApplicationDeadlineIsADayOfEveryYear) {
  test::TempDir dir;
  const auto with = [&](const std::string& deadline) {
    auto text = "calendar: {files: [calendar/kz-2025.yaml]}\n" + intake_and_trust();
    const std::string domain = "domain: {mci: {2025: 3932}}";
    text.replace(text.find(domain), domain.size(),
                 "domain: {mci: {2025: 3932}, application_deadline: '" + deadline + "'}");
    return load(text, dir);
  };
  auto loaded = with("11-01");
  ASSERT_THAT(loaded.problems, IsEmpty());
  for (const char* wrong : {"02-29", "13-01", "10-32", "1015", "10-1", "Oct 15"}) {
    EXPECT_THAT(with(wrong).problems,
                ElementsAre(HasSubstr("domain.application_deadline: '" + std::string(wrong) +
                                      "' is not a day of the year as MM-DD")))
        << wrong;
  }
}

TEST(Config, TheAnnulmentGraceAndTheReleaseOfItsUnitAreSettings) {
  test::TempDir dir;
  const auto with = [&](const std::string& keys) {
    auto text = "calendar: {files: [calendar/kz-2025.yaml]}\n" + intake_and_trust();
    const std::string domain = "domain: {mci: {2025: 3932}}";
    text.replace(text.find(domain), domain.size(), "domain: {mci: {2025: 3932}, " + keys + "}");
    return load(text, dir);
  };
  auto loaded = with("annulment_grace: 0, release_quota_on_annulment: false");
  ASSERT_THAT(loaded.problems, IsEmpty());
  ASSERT_TRUE(loaded.setup.has_value());
  EXPECT_EQ(loaded.setup->config.domain.policy.annulment_grace, 0);
  EXPECT_FALSE(loaded.setup->config.domain.policy.release_quota_on_annulment);
  loaded = with("lmc_bins: {'750000000': '140450600708', '191010000': '120340501232'}");
  ASSERT_THAT(loaded.problems, IsEmpty());
  EXPECT_EQ(loaded.setup->config.domain.policy.lmc_bins.at("190000000"), "120340501232")
      << "kept by oblast";
  EXPECT_THAT(
      with("lmc_bins: {'75': '140450600708', '750000000': '1404', '751110000': '140450600708', "
           "'750000001': '140450600708'}")
          .problems,
      ElementsAre(HasSubstr("domain.lmc_bins.75: '75' is not a KATO code (9 digits)"),
                  HasSubstr("domain.lmc_bins.750000000: '1404' is not a BIN (12 digits)"),
                  HasSubstr("domain.lmc_bins.750000001: oblast 750000000 is given twice")));
  EXPECT_THAT(with("annulment_grace: 31, release_quota_on_annulment: 'yes'").problems,
              ElementsAre(HasSubstr("domain.annulment_grace: 31 is out of range [0, 30]"),
                          HasSubstr("domain.release_quota_on_annulment")));
}

TEST(Config, TransportSendersAreChecked) {
  test::TempDir dir;
  auto text = "calendar: {files: [calendar/kz-2025.yaml]}\n" + intake_and_trust();
  auto with = [&](const std::string& lines) {
    auto copy = text;
    copy.insert(copy.find("  envelope_schema"), lines);
    return load(copy, dir).problems;
  };
  EXPECT_THAT(with("  require_transport_signature: true\n"),
              ElementsAre(HasSubstr("intake.require_transport_signature needs at least one entry "
                                    "in intake.transport_senders")));
  EXPECT_THAT(
      with("  transport_senders: [{sender_id: bus, bin: '12345'}, {bin: '140450600708'}]\n"),
      ElementsAre(HasSubstr("intake.transport_senders[0].bin: '12345' is not a BIN"),
                  HasSubstr("intake.transport_senders[1].sender_id: required key is missing")));
  EXPECT_THAT(with("  require_transport_signature: true\n"
                   "  transport_senders: [{sender_id: bus, bin: '140450600708'}]\n"),
              ::testing::IsEmpty());
}

TEST(Config, BrokerUrlsAreCheckedOneByOneWithTheirPath) {
  test::TempDir dir;
  const std::string calendar = "calendar: {files: [calendar/kz-2025.yaml]}\n";
  auto problems = [&](const std::string& amqp) { return load(calendar + amqp, dir).problems; };
  EXPECT_THAT(problems("amqp: {url: 'http://nope'}\n"),
              ElementsAre(HasSubstr("amqp.url: 'http://nope' is not an amqp:// or amqps:// URL")));
  EXPECT_THAT(problems("amqp: {url: 'amqp://h1:5672,h2:5672/'}\n"),
              ElementsAre(HasSubstr("names several hosts in one URL")));
  EXPECT_THAT(problems("amqp:\n  url:\n    - amqp://n1:5672/\n    - amqp://n2:70000/\n"),
              ElementsAre(HasSubstr("amqp.url[1]: 'amqp://n2:70000/': '70000' is not a port")));
  EXPECT_THAT(problems("amqp:\n  url: [amqp://u:p@n1/, amqp://v:p@n2/]\n"),
              ElementsAre(HasSubstr("amqp.url: 'amqp://v:***@n2/': the nodes of one broker")));
  EXPECT_THAT(problems("amqp: {url: []}\n"), ElementsAre(HasSubstr("amqp.url: an empty list")));
  auto three =
      load(calendar + "amqp:\n  url: [amqp://n1:5672/, amqp://n2:5673/, amqp://n3/]\n", dir);
  ASSERT_TRUE(three.setup.has_value()) << ::testing::PrintToString(three.problems);
  EXPECT_EQ(three.setup->config.amqp.urls.size(), 3U);
  const auto nodes = broker_nodes(three.setup->config.amqp).value();
  EXPECT_EQ(nodes[1].node(), "n2:5673");
  EXPECT_EQ(nodes[1].heartbeat, std::chrono::seconds{60}) << "the section's settings on each";
  // An input holds its prefetch slot until what it caused is confirmed: a window of 32 kept a
  // burst's batches small (README, "Performance").
  EXPECT_EQ(nodes[1].prefetch, 256U) << "the default window, on each node";
  auto narrow = load(calendar + "amqp: {url: 'amqp://n1/', prefetch: 16}\n", dir);
  ASSERT_TRUE(narrow.setup.has_value()) << ::testing::PrintToString(narrow.problems);
  EXPECT_EQ(broker_nodes(narrow.setup->config.amqp).value().front().prefetch, 16U);
}

TEST(Config, NqsAmqpUrlGivesTheNodesSeparatedByCommas) {
  test::TempDir dir;
  const std::string calendar = "calendar: {files: [calendar/kz-2025.yaml]}\n";
  ::setenv("NQS_AMQP_URL", "amqp://n1:5672/, amqp://n2:5672/", 1);
  auto loaded = load(calendar, dir);
  ::setenv("NQS_AMQP_URL", "http://nope", 1);
  auto refused = load(calendar, dir);
  ::unsetenv("NQS_AMQP_URL");
  ASSERT_TRUE(loaded.setup.has_value());
  EXPECT_EQ(loaded.setup->config.amqp.urls,
            (std::vector<std::string>{"amqp://n1:5672/", "amqp://n2:5672/"}));
  EXPECT_THAT(refused.problems, ElementsAre(HasSubstr("NQS_AMQP_URL: 'http://nope' is not")));
}

TEST(Config, TlsToTheBrokerNeedsReadableFilesAndAnAmqpsUrl) {
  test::TempDir dir;
  const std::string calendar = "calendar: {files: [calendar/kz-2025.yaml]}\n";
  const std::string pki = NQS_TEST_PKI_DIR;
  auto problems = [&](const std::string& amqp) { return load(calendar + amqp, dir).problems; };
  EXPECT_THAT(problems("amqp:\n  url: amqps://broker/\n  tls: {ca_file: missing.pem}\n"),
              ElementsAre(HasSubstr("amqp.tls.ca_file")));
  EXPECT_THAT(
      problems("amqp:\n  url: amqps://broker/\n  tls: {certificate: " + pki + "/ca-chain.pem}\n"),
      ElementsAre(HasSubstr("amqp.tls: a client certificate needs its key")));
  EXPECT_THAT(
      problems("amqp:\n  url: amqp://broker/\n  tls: {ca_file: " + pki + "/ca-chain.pem}\n"),
      ElementsAre(HasSubstr("no amqp.url is amqps://")));
  auto loaded = load(calendar + "amqp:\n  url: amqps://broker/\n  tls: {ca_file: " + pki +
                         "/ca-chain.pem, verify_hostname: false}\n",
                     dir);
  ASSERT_TRUE(loaded.setup.has_value()) << ::testing::PrintToString(loaded.problems);
  const auto node = broker_nodes(loaded.setup->config.amqp).value().front();
  EXPECT_TRUE(node.tls.enabled);
  EXPECT_FALSE(node.tls.verify_hostname);
  EXPECT_EQ(node.tls.ca_file, pki + "/ca-chain.pem");
}

TEST(Config, APostgresqlUrlIsCheckedAsLibpqReadsIt) {
  test::TempDir dir;
  const std::string calendar = "calendar: {files: [calendar/kz-2025.yaml]}\n";
  auto problems = [&](const std::string& url) {
    return load(calendar + "store: {url: '" + url + "'}\n", dir).problems;
  };
  EXPECT_THAT(problems("postgresql://nqs@db1:5432,db2:5432/nqs"), IsEmpty());
  EXPECT_THAT(problems("postgresql://nqs@db1:99999/nqs"),
              ElementsAre(HasSubstr("store.url: 'postgresql://nqs@db1:99999/nqs': '99999' is not "
                                    "a port")));
  EXPECT_THAT(problems("postgresql://nqs@/nqs?host=db1,db2,db3&port=5432,5433"),
              ElementsAre(HasSubstr("2 ports for 3 hosts")));
  EXPECT_THAT(problems("postgresql://nqs@db1,db2/nqs?target_session_attrs=any"),
              ElementsAre(HasSubstr("target_session_attrs=any may land on a standby")));
  EXPECT_THAT(problems("postgresql://nqs:s3cret@db1/nqs?nonsense=1"),
              ElementsAre(AllOf(HasSubstr("invalid URI query parameter"),
                                ::testing::Not(HasSubstr("s3cret")))));
  EXPECT_THAT(problems("mysql://db/nqs"), ElementsAre(HasSubstr("is not a store URL")));
}

TEST(Config, WrongShapesAreNamed) {
  test::TempDir dir;
  auto loaded = load("log: [1, 2]\ncalendar:\n  files: calendar/kz-2025.yaml\n", dir);
  EXPECT_THAT(loaded.problems,
              ElementsAre("adapter.yaml:1:6: log: expected a mapping, found a list",
                          "adapter.yaml:3:10: calendar.files: expected a list, found "
                          "'calendar/kz-2025.yaml'"));
}

// Issue 18: the evidence archive keeps refused messages only when asked, and says which key is
// wrong.
TEST(Config, TheEvidenceArchiveKeepsRefusedMessagesOnlyWhenAsked) {
  test::TempDir dir;
  const std::string calendar = "calendar:\n  files: [calendar/kz-2025.yaml]\n";
  auto loaded = load(calendar, dir);
  ASSERT_TRUE(loaded.setup.has_value()) << test::join(loaded.problems);
  EXPECT_FALSE(loaded.setup->config.evidence.keep_rejected);
  loaded = load(calendar + "evidence:\n  keep_rejected: true\n", dir);
  ASSERT_TRUE(loaded.setup.has_value()) << test::join(loaded.problems);
  EXPECT_TRUE(loaded.setup->config.evidence.keep_rejected);
  loaded = load(calendar + "evidence:\n  keep_rejected: sometimes\n  keep_all: true\n", dir);
  EXPECT_THAT(loaded.problems,
              ElementsAre("adapter.yaml:4:18: evidence.keep_rejected: 'sometimes' is not true or "
                          "false",
                          "adapter.yaml:5:3: evidence.keep_all: unknown key (known here: "
                          "keep_rejected, retention)"));
}

TEST(Config, CalendarFilesAreRequired) {
  test::TempDir dir;
  EXPECT_THAT(load("log: {level: debug}\n", dir).problems,
              ElementsAre("adapter.yaml: calendar.files: required key is missing"));
  EXPECT_THAT(load("calendar: {files: []}\n", dir).problems,
              ElementsAre("adapter.yaml:1:19: calendar.files: list at least one calendar file"));
}

TEST(Config, AKeyGivenTwiceIsAProblem) {
  test::TempDir dir;
  EXPECT_THAT(load("log: {level: info}\nlog: {level: debug}\n"
                   "calendar: {files: [calendar/kz-2025.yaml]}\n",
                   dir)
                  .problems,
              ElementsAre("adapter.yaml:2:1: log: key given more than once"));
}

TEST(Config, ProblemsInsideCalendarFilesAreReportedToo) {
  test::TempDir dir;
  dir.write("calendar/kz-2027.yaml",
            "year: 2027\npublic_holidays:\n  - {date: 2028-01-01, name: X}\n");
  EXPECT_THAT(
      load("calendar: {files: [calendar/kz-2025.yaml, calendar/kz-2027.yaml]}\n", dir).problems,
      ElementsAre("calendar/kz-2027.yaml:3:12: public_holidays[0].date: 2028-01-01 is "
                  "outside the file's year 2027"));
}

TEST(Config, SyntaxErrorsAndMissingFilesAreNamed) {
  test::TempDir dir;
  EXPECT_THAT(load("log:\n  level: [info\n", dir).problems,
              ElementsAre("adapter.yaml:3:7: YAML syntax error: end of sequence flow not found"));
  Diagnostics diagnostics;
  EXPECT_FALSE(load_setup(dir.path() / "absent.yaml", diagnostics).has_value());
  EXPECT_THAT(diagnostics.problems(),
              ElementsAre(HasSubstr("absent.yaml: file not found or not a regular file")));
}

}  // namespace
}  // namespace nqs::configuration
