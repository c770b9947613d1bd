#include "workflow/application_json.hpp"

#include <fmt/format.h>

#include <array>

#include "yaml/reader.hpp"

namespace nqs::workflow {

using namespace domain;
namespace {

boost::json::value date_or_null(const std::optional<calendar::Date>& day) {
  return day ? boost::json::value(calendar::to_string(*day)) : boost::json::value(nullptr);
}

boost::json::object leave_json(const SickLeave& leave) {
  boost::json::object out{{"from", calendar::to_string(leave.from)},
                          {"to", calendar::to_string(leave.to)},
                          {"sheetNumber", leave.sheet_number}};
  if (leave.received_at) out["receivedAt"] = to_utc_string(*leave.received_at);
  return out;
}

boost::json::array leaves_json(const std::vector<SickLeave>& leaves) {
  boost::json::array out;
  for (const auto& leave : leaves)
    out.push_back(leave_json(leave));
  return out;
}

// Reads fields, remembering the first problem.
class Read {
 public:
  explicit Read(const boost::json::object& json) : json_(json) {}

  std::string text(const char* key) {
    const auto* value = json_.if_contains(key);
    if (value == nullptr || !value->is_string()) {
      fail(fmt::format("{} is not a string", key));
      return {};
    }
    return std::string(value->get_string());
  }
  std::int64_t integer(const char* key) {
    const auto* value = json_.if_contains(key);
    if (value == nullptr || !value->is_int64()) {
      fail(fmt::format("{} is not an integer", key));
      return 0;
    }
    return value->get_int64();
  }
  std::optional<calendar::Date> date(const boost::json::value* value, const std::string& what) {
    if (value == nullptr || value->is_null()) return std::nullopt;
    auto parsed = value->is_string() ? yaml::parse_date(value->get_string()) : std::nullopt;
    if (!parsed) {
      fail(fmt::format("{} is not a date", what));
      return std::nullopt;
    }
    return calendar::Date{*parsed};
  }
  std::optional<calendar::Date> date(const char* key) { return date(json_.if_contains(key), key); }
  std::optional<SickLeave> leave(const boost::json::value* value, const std::string& what) {
    if (value == nullptr || value->is_null()) return std::nullopt;
    if (!value->is_object()) {
      fail(fmt::format("{} is not an object", what));
      return std::nullopt;
    }
    const auto& object = value->get_object();
    auto from = date(object.if_contains("from"), what + ".from");
    auto to = date(object.if_contains("to"), what + ".to");
    if (!from || !to) {
      fail(fmt::format("{} lacks its dates", what));
      return std::nullopt;
    }
    // Stored before sheets kept their number (schema 6): none.
    const auto* number = object.if_contains("sheetNumber");
    SickLeave out{*from, *to,
                  number != nullptr && number->is_string() ? std::string(number->get_string())
                                                           : std::string()};
    // Stored before pending sheets kept when they came: unknown.
    if (const auto* received = object.if_contains("receivedAt");
        received != nullptr && received->is_string()) {
      out.received_at = parse_instant(received->get_string());
      if (!out.received_at) fail(fmt::format("{}.receivedAt is not an instant", what));
    }
    return out;
  }
  std::vector<SickLeave> leaves(const char* key) {
    std::vector<SickLeave> out;
    const auto* list = json_.if_contains(key);
    if (list == nullptr || !list->is_array()) {
      fail(fmt::format("{} is not a list", key));
      return out;
    }
    std::size_t index = 0;
    for (const auto& item : list->get_array()) {
      if (auto leave = this->leave(&item, fmt::format("{}[{}]", key, index++)))
        out.push_back(*leave);
    }
    return out;
  }
  // A flag written by a later version; absent in older rows: false.
  bool flag(const char* key) {
    const auto* value = json_.if_contains(key);
    if (value == nullptr) return false;
    if (!value->is_bool()) fail(fmt::format("{} is not a boolean", key));
    return value->is_bool() && value->get_bool();
  }
  void fail(std::string problem) {
    if (problem_.empty()) problem_ = std::move(problem);
  }
  [[nodiscard]] const std::string& problem() const { return problem_; }

 private:
  const boost::json::object& json_;
  std::string problem_;
};

}  // namespace

boost::json::object to_json(const Application& a) {
  boost::json::object out;
  out["applicationId"] = a.application_id;
  out["iin"] = a.iin;
  out["region"] = a.region;
  out["permanentRegion"] = a.permanent_region;
  out["quotaYear"] = a.quota_year;
  out["profile"] = a.profile == Profile::technical ? "technical" : "social_humanitarian";
  out["profileConfirmed"] = a.profile_confirmed;
  out["centerBin"] = a.center_bin;
  out["centerName"] = a.center_name;
  out["stage"] = stage_name(a.stage);
  out["voucherId"] = a.voucher_id;
  out["issuedOn"] = date_or_null(a.issued_on);
  out["validUntil"] = date_or_null(a.valid_until);
  out["sickLeaves"] = leaves_json(a.sick_leaves);
  out["pendingSickLeaves"] = leaves_json(a.pending_sick_leaves);
  out["examDate"] = date_or_null(a.exam_date);
  out["protocolSignedOn"] = date_or_null(a.protocol_signed_on);
  out["passed"] = a.passed;
  out["protocolLate"] = a.protocol_late;
  out["appealed"] = a.appealed;
  out["examRegion"] = a.exam_region;
  out["actNumber"] = a.act_number;
  if (a.reimbursement) {
    out["reimbursement"] =
        boost::json::object{{"centerTiyn", a.reimbursement->center_tiyn},
                            {"holderTiyn", a.reimbursement->holder_tiyn},
                            {"applicantShareTiyn", a.reimbursement->applicant_share_tiyn},
                            {"capTiyn", a.reimbursement->cap_tiyn}};
  } else {
    out["reimbursement"] = nullptr;
  }
  out["paidCenterTiyn"] = a.paid_center_tiyn;
  out["paidHolderTiyn"] = a.paid_holder_tiyn;
  return out;
}

Result<Application> application_from_json(const boost::json::object& json) {
  Read read(json);
  Application a;
  a.application_id = read.text("applicationId");
  a.iin = read.text("iin");
  a.region = read.text("region");
  a.permanent_region = read.text("permanentRegion");
  a.quota_year = static_cast<int>(read.integer("quotaYear"));
  const auto profile = read.text("profile");
  if (profile != "technical" && profile != "social_humanitarian") read.fail("profile is unknown");
  a.profile = profile == "technical" ? Profile::technical : Profile::social_humanitarian;
  a.profile_confirmed = read.flag("profileConfirmed");
  a.center_bin = read.text("centerBin");
  a.center_name = read.text("centerName");
  const auto stage = stage_named(read.text("stage"));
  if (!stage) read.fail("stage is unknown");
  a.stage = stage.value_or(Stage::with_career_center);
  a.voucher_id = read.text("voucherId");
  a.issued_on = read.date("issuedOn");
  a.valid_until = read.date("validUntil");
  a.sick_leaves = read.leaves("sickLeaves");
  if (json.contains("pendingSickLeaves")) {
    a.pending_sick_leaves = read.leaves("pendingSickLeaves");
  } else if (auto pending = read.leave(json.if_contains("pendingSickLeave"), "pendingSickLeave")) {
    // Stored before several sheets could wait (schema 6): one sheet and its number apart.
    const auto* number = json.if_contains("pendingSheetNumber");
    if (number != nullptr && number->is_string()) pending->sheet_number = number->get_string();
    a.pending_sick_leaves.push_back(*pending);
  }
  a.exam_date = read.date("examDate");
  a.protocol_signed_on = read.date("protocolSignedOn");
  a.passed = read.flag("passed");
  a.protocol_late = read.flag("protocolLate");
  a.appealed = read.flag("appealed");
  a.exam_region = read.text("examRegion");
  a.act_number = read.text("actNumber");
  if (const auto* money = json.if_contains("reimbursement");
      money != nullptr && money->is_object()) {
    Read amounts(money->get_object());
    a.reimbursement =
        Reimbursement{amounts.integer("centerTiyn"), amounts.integer("holderTiyn"),
                      amounts.integer("applicantShareTiyn"), amounts.integer("capTiyn")};
    if (!amounts.problem().empty()) read.fail("reimbursement." + amounts.problem());
  }
  a.paid_center_tiyn = read.integer("paidCenterTiyn");
  a.paid_holder_tiyn = read.integer("paidHolderTiyn");
  if (!read.problem().empty()) {
    return make_error(fmt::format("a stored application is unreadable: {}", read.problem()));
  }
  return a;
}

}  // namespace nqs::workflow
