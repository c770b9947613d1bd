#include "configuration/rules_config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <set>

namespace nqs::configuration {

using std::chrono::minutes;
using yaml::Reader;
namespace {

bool is_step_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

}  // namespace

void read_domain(Reader domain, DomainConfig& out) {
  auto mci = domain.section("mci");
  for (auto& [key, value] : mci.entries()) {
    int year = 0;
    const auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), year);
    if (ec != std::errc{} || end != key.data() + key.size() || year < 2000 || year > 2100) {
      value.problem(fmt::format("'{}' is not a year", key));
      continue;
    }
    if (auto tenge = value.as_integer(1, 1'000'000)) out.mci[year] = *tenge;
  }
  if (out.mci.empty()) {
    mci.problem("give the MCI of at least one year (art. 14-15 caps and assistance depend on it)");
  }
  // Art. 3 "до 15 октября": the last day an application may be submitted, MM-DD, included.
  if (auto deadline = domain.field("application_deadline")) {
    const auto text = deadline->as_text().value_or("");
    const auto digit = [&](std::size_t at) { return text[at] >= '0' && text[at] <= '9'; };
    const bool shaped =
        text.size() == 5 && text[2] == '-' && digit(0) && digit(1) && digit(3) && digit(4);
    const unsigned month =
        shaped ? static_cast<unsigned>((text[0] - '0') * 10 + (text[1] - '0')) : 0;
    const unsigned day = shaped ? static_cast<unsigned>((text[3] - '0') * 10 + (text[4] - '0')) : 0;
    // A day every year has (not 29 February).
    if (!shaped || !(date::month{month} / date::day{day}).ok() || (month == 2 && day == 29)) {
      deadline->problem(fmt::format("'{}' is not a day of the year as MM-DD", text));
    } else {
      out.policy.application_deadline = {month, day};
    }
  }
  // Audit point 6: working days after the last valid day before an unused voucher is annulled
  // (the protocol follows the exam by up to 2 working days, Rules 374 art. 17).
  if (auto grace = domain.field("annulment_grace")) {
    if (auto days = grace->as_integer(0, 30)) out.policy.annulment_grace = static_cast<int>(*days);
  }
  // Audit point 12: the LMC of each oblast, the customer its acts must name.
  auto lmcs = domain.section("lmc_bins");
  for (auto& [key, value] : lmcs.entries()) {
    const auto digits = [](std::string_view text, std::size_t n) {
      return text.size() == n &&
             std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
    };
    const auto bin = value.as_text().value_or("");
    if (!digits(key, 9)) {
      value.problem(fmt::format("'{}' is not a KATO code (9 digits)", key));
    } else if (!digits(bin, 12)) {
      value.problem(fmt::format("'{}' is not a BIN (12 digits)", bin));
    } else if (!out.policy.lmc_bins.emplace(domain::oblast_of(key), bin).second) {
      value.problem(fmt::format("oblast {} is given twice", domain::oblast_of(key)));
    }
  }
  // Audit point 4: whether an annulled voucher's unit returns to the allocation.
  if (auto release = domain.field("release_quota_on_annulment")) {
    if (auto flag = release->as_flag()) out.policy.release_quota_on_annulment = *flag;
  }
  domain.finish();
}

// deadlines: the statutory deadline table (domain.md), each step checked on its own.
void read_deadlines(Reader deadlines, domain::DeadlineTable& out) {
  if (auto warning = deadlines.field("warning_at")) {
    const auto text = warning->as_text();
    int hours = -1;
    int minutes_of_hour = -1;
    if (text && text->size() == 5 && (*text)[2] == ':' &&
        std::from_chars(text->data(), text->data() + 2, hours).ec == std::errc{} &&
        std::from_chars(text->data() + 3, text->data() + 5, minutes_of_hour).ec == std::errc{} &&
        hours >= 0 && hours < 24 && minutes_of_hour >= 0 && minutes_of_hour < 60) {
      out.warning_at = minutes{hours * 60 + minutes_of_hour};
    } else if (text) {
      warning->problem(fmt::format("'{}' is not a local time HH:MM", *text));
    }
  }
  if (deadlines.field("steps")) {
    out.rules.clear();
    std::set<std::string> names;
    for (auto& entry : deadlines.list("steps")) {
      domain::DeadlineRule rule;
      rule.step = entry.text("step", "");
      if (!is_step_name(rule.step)) {
        entry.problem(
            fmt::format("step: '{}' is not a name of lowercase letters, digits and _", rule.step));
      } else if (!names.insert(rule.step).second) {
        entry.problem(fmt::format("step: '{}' is given twice", rule.step));
      }
      rule.responsible = entry.text("responsible", "");
      if (rule.responsible.empty()) entry.problem("responsible: say who must act");
      for (const auto& stage : entry.list("stages")) {
        auto name = stage.as_text();
        if (!name) continue;
        const auto named = domain::stage_named(*name);
        if (!named) {
          stage.problem(fmt::format("'{}' is not a stage of the voucher process", *name));
          continue;
        }
        rule.stages.push_back(*named);
      }
      if (rule.stages.empty()) entry.problem("stages: list the stages the deadline covers");
      const bool working = entry.field("working_days").has_value();
      const bool calendar_days = entry.field("calendar_days").has_value();
      const bool until = entry.field("until").has_value();
      if (working + calendar_days + until != 1) {
        entry.problem("give exactly one of working_days, calendar_days and until");
      }
      rule.working_days = static_cast<int>(entry.integer("working_days", 1, 365, 0));
      rule.calendar_days = static_cast<int>(entry.integer("calendar_days", 1, 3650, 0));
      if (until) rule.until_valid = entry.choice("until", {"valid_until"}, "") == "valid_until";
      rule.from = entry.text("from", "");
      if (until && !rule.from.empty()) entry.problem("from: not with until");
      rule.basis = entry.text("basis", "");
      if (rule.basis.empty()) entry.problem("basis: cite the article that sets the deadline");
      entry.finish();
      out.rules.push_back(std::move(rule));
    }
  }
  deadlines.finish();
}

}  // namespace nqs::configuration
