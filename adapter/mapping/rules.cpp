#include "mapping/rules.hpp"

#include <fmt/format.h>

#include "mapping/amounts.hpp"

namespace nqs::mapping {
namespace {

std::string argument(const RuleSpec& rule, std::string_view name) {
  auto found = rule.arguments.find(name);
  return found == rule.arguments.end() ? std::string() : found->second;
}

Rejection inconsistent(std::string detail) {
  return Rejection{Reason::domain_inconsistent, std::move(detail)};
}

std::optional<Rejection> check_required_when(const RuleSpec& rule,
                                             const boost::json::object& payload) {
  const auto field = argument(rule, "field");
  const auto* when = find_path(payload, argument(rule, "when"));
  if (when != nullptr && when->is_string() && when->get_string() == argument(rule, "equals") &&
      find_path(payload, field) == nullptr) {
    return inconsistent(fmt::format("{} is required when {} is {}", field, argument(rule, "when"),
                                    argument(rule, "equals")));
  }
  return std::nullopt;
}

std::optional<Rejection> check_not_before(const RuleSpec& rule,
                                          const boost::json::object& payload) {
  const auto* field = find_path(payload, argument(rule, "field"));
  const auto* other = find_path(payload, argument(rule, "other"));
  // Dates are YYYY-MM-DD: their text order is their time order.
  if (field != nullptr && other != nullptr && field->is_string() && other->is_string() &&
      field->get_string() < other->get_string()) {
    return inconsistent(fmt::format("{} ({}) is before {} ({})", argument(rule, "field"),
                                    field->get_string().c_str(), argument(rule, "other"),
                                    other->get_string().c_str()));
  }
  return std::nullopt;
}

// Amount = Quantity x UnitPrice exactly: in thousandths of a tiyn, no rounding.
std::optional<Rejection> check_line_amounts(const RuleSpec& rule, const boost::json::array& lines) {
  std::size_t index = 0;
  for (const auto& line : lines) {
    const auto& item = line.get_object();
    const auto* quantity = find_path(item, argument(rule, "quantity"));
    const auto* price = find_path(item, argument(rule, "price"));
    const auto* amount = find_path(item, argument(rule, "amount"));
    if (quantity == nullptr || price == nullptr || amount == nullptr) continue;
    const auto thousandths = parse_thousandths(quantity->get_string());
    // Both sides in thousandths of a tiyn; amounts fit (at most 10^15 tiyn, 10^18 here), so a
    // product that overflows cannot equal one.
    std::int64_t product = 0;
    std::int64_t expected = 0;
    if (!thousandths || __builtin_mul_overflow(*thousandths, price->get_int64(), &product) ||
        __builtin_mul_overflow(amount->get_int64(), std::int64_t{1000}, &expected) ||
        product != expected) {
      return inconsistent(fmt::format(
          "{}[{}]: amount {} tiyn is not quantity {} x unit price {} tiyn", argument(rule, "list"),
          index, amount->get_int64(), quantity->get_string().c_str(), price->get_int64()));
    }
    ++index;
  }
  return std::nullopt;
}

std::optional<Rejection> check_total(const RuleSpec& rule, const boost::json::object& payload,
                                     const boost::json::array& lines) {
  // At most 100 lines of at most 10^15 tiyn each: the sum fits.
  std::int64_t sum = 0;
  for (const auto& line : lines) {
    if (const auto* amount = find_path(line.get_object(), argument(rule, "amount"))) {
      sum += amount->get_int64();
    }
  }
  const auto* total = find_path(payload, argument(rule, "total"));
  if (total != nullptr && total->get_int64() != sum) {
    return inconsistent(
        fmt::format("total {} tiyn is not the sum of the amounts of the {}, {} tiyn",
                    total->get_int64(), argument(rule, "list"), sum));
  }
  return std::nullopt;
}

}  // namespace

std::optional<Rejection> apply_rule(const RuleSpec& rule, const boost::json::object& payload) {
  if (rule.kind == "required_when") return check_required_when(rule, payload);
  if (rule.kind == "not_before") return check_not_before(rule, payload);
  const auto* list = find_path(payload, argument(rule, "list"));
  // An empty list has nothing to check (an optional list; a required one is the schema's).
  if (list == nullptr || !list->is_array() || list->get_array().empty()) return std::nullopt;
  if (rule.kind == "line_amounts") return check_line_amounts(rule, list->get_array());
  if (rule.kind == "total") return check_total(rule, payload, list->get_array());
  return std::nullopt;
}

const boost::json::value* find_path(const boost::json::object& payload, std::string_view path) {
  const boost::json::object* current = &payload;
  while (true) {
    const auto dot = path.find('.');
    const auto key = path.substr(0, dot);
    const auto* value = current->if_contains(key);
    if (value == nullptr || dot == std::string_view::npos) return value;
    if (!value->is_object()) return nullptr;
    current = &value->get_object();
    path.remove_prefix(dot + 1);
  }
}

}  // namespace nqs::mapping
