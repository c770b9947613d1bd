#include "yaml/reader.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>
#include <system_error>

namespace nqs::yaml {
namespace fs = std::filesystem;

namespace {

std::string describe_kind(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Scalar:
      return fmt::format("'{}'", node.Scalar());
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
  }
  return "an unknown node";
}

std::string quoted_list(std::initializer_list<std::string_view> items) {
  std::string out;
  for (auto item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

std::vector<std::filesystem::path> existing_files(Reader& section, std::string_view key,
                                                  std::string_view if_empty) {
  std::vector<std::filesystem::path> files;
  const auto entries = section.list(key);
  for (const auto& entry : entries) {
    if (auto path = entry.as_existing_file()) files.push_back(*path);
  }
  if (entries.empty()) {
    auto field = section.required(key);
    if (field && field->is_list_or_null()) field->problem(if_empty);
  }
  return files;
}

std::string closest_match(std::string_view word,
                          const std::set<std::string, std::less<>>& candidates) {
  std::string best;
  std::size_t best_distance = std::max<std::size_t>(2, word.size() / 3) + 1;
  for (const auto& candidate : candidates) {
    // "loging" for "log", "calendars" for "calendar": a known key with letters added at the end.
    const auto shorter = std::min(word.size(), candidate.size());
    const bool prefix = shorter >= 3 && word.substr(0, shorter) == candidate.substr(0, shorter);
    const auto distance = prefix ? std::size_t{1} : edit_distance(word, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  return best;
}

bool Diagnostics::file_opened(std::string_view key_path) const {
  return std::none_of(not_opened_.begin(), not_opened_.end(), [&](const std::string& under) {
    return key_path.starts_with(under) &&
           (key_path.size() == under.size() || key_path[under.size()] == '.' ||
            key_path[under.size()] == '[');
  });
}

Reader::Reader(YAML::Node node, std::shared_ptr<const fs::path> file, std::string path,
               Diagnostics* diagnostics)
    : node_(std::move(node)),
      file_(std::move(file)),
      path_(std::move(path)),
      diagnostics_(diagnostics),
      known_keys_(std::make_shared<std::set<std::string, std::less<>>>()) {}

std::optional<Reader> Reader::open(const fs::path& file, Diagnostics& diagnostics) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) {
    diagnostics.add(fmt::format("{}: file not found or not a regular file", file.string()));
    return std::nullopt;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    diagnostics.add(fmt::format("{}: cannot be read", file.string()));
    return std::nullopt;
  }
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  return parse(text, file.string(), diagnostics);
}

std::optional<Reader> Reader::parse(std::string_view text, std::string source,
                                    Diagnostics& diagnostics) {
  try {
    YAML::Node root = YAML::Load(std::string(text));
    return Reader(root, std::make_shared<const fs::path>(std::move(source)), "", &diagnostics);
  } catch (const YAML::ParserException& e) {
    diagnostics.add(fmt::format("{}:{}:{}: YAML syntax error: {}", source, e.mark.line + 1,
                                e.mark.column + 1, e.msg));
    return std::nullopt;
  }
}

Reader Reader::child(const YAML::Node& node, std::string path) const {
  return Reader(node, file_, std::move(path), diagnostics_);
}

std::string Reader::child_path(std::string_view key) const {
  return path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
}

std::string Reader::location(const YAML::Node& node) const {
  const auto mark = node.Mark();
  if (mark.is_null()) return file_->string();
  return fmt::format("{}:{}:{}", file_->string(), mark.line + 1, mark.column + 1);
}

void Reader::problem(std::string_view what) const {
  // A missing key has no position of its own; its parent's is the nearest useful one.
  const auto where = location(node_);
  if (path_.empty()) {
    diagnostics_->add(fmt::format("{}: {}", where, what));
  } else {
    diagnostics_->add(fmt::format("{}: {}: {}", where, path_, what));
  }
}

bool Reader::is_mapping_or_report() {
  if (node_.IsMap()) return true;
  if (is_null()) return false;
  problem(fmt::format("expected a mapping, found {}", describe_kind(node_)));
  return false;
}

std::optional<Reader> Reader::field(std::string_view key) {
  known_keys_->emplace(key);
  if (!node_.IsMap()) return std::nullopt;
  // Looked up through a const node: yaml-cpp's non-const operator[] adds the key it looks for.
  const YAML::Node& lookup = node_;
  const YAML::Node value = lookup[std::string(key)];
  if (!value.IsDefined()) return std::nullopt;
  // A key present with an empty value is a value (null), so its own checks report it.
  return child(value, child_path(key));
}

std::optional<Reader> Reader::required(std::string_view key) {
  auto value = field(key);
  if (!value) {
    if (node_.IsMap()) {
      diagnostics_->add(
          fmt::format("{}: {}: required key is missing", location(node_), child_path(key)));
    }
    return std::nullopt;
  }
  return value;
}

Reader Reader::section(std::string_view key) {
  auto value = field(key);
  if (!value) return child(YAML::Node(YAML::NodeType::Map), child_path(key));
  if (!value->is_mapping_or_report()) {
    value->node_ = YAML::Node(YAML::NodeType::Map);
  }
  return *value;
}

std::vector<Reader> Reader::list(std::string_view key) {
  std::vector<Reader> items;
  auto value = field(key);
  if (!value || value->is_null()) return items;
  if (!value->node_.IsSequence()) {
    value->problem(fmt::format("expected a list, found {}", describe_kind(value->node_)));
    return items;
  }
  std::size_t index = 0;
  for (const auto& item : value->node_) {
    items.push_back(child(item, fmt::format("{}[{}]", value->path_, index++)));
  }
  return items;
}

std::vector<std::pair<std::string, Reader>> Reader::entries() {
  std::vector<std::pair<std::string, Reader>> out;
  if (!is_mapping_or_report()) return out;
  for (const auto& entry : node_) {
    if (!entry.first.IsScalar()) continue;  // reported by finish()
    const std::string key = entry.first.Scalar();
    known_keys_->insert(key);
    out.emplace_back(key, child(entry.second, child_path(key)));
  }
  return out;
}

bool Reader::has(std::string_view key) const {
  const YAML::Node& lookup = node_;
  return lookup.IsMap() && lookup[std::string(key)].IsDefined();
}

void Reader::finish() const {
  if (!node_.IsMap()) return;
  std::map<std::string, int> seen;
  for (const auto& entry : node_) {
    const auto& key_node = entry.first;
    if (!key_node.IsScalar()) {
      diagnostics_->add(fmt::format("{}: {}: keys must be plain words", location(key_node),
                                    path_.empty() ? "(top level)" : path_));
      continue;
    }
    const std::string key = key_node.Scalar();
    if (++seen[key] == 2) {
      diagnostics_->add(
          fmt::format("{}: {}: key given more than once", location(key_node), child_path(key)));
    }
    if (known_keys_->contains(key)) continue;
    const auto suggestion = closest_match(key, *known_keys_);
    if (suggestion.empty()) {
      diagnostics_->add(fmt::format("{}: {}: unknown key (known here: {})", location(key_node),
                                    child_path(key), fmt::join(*known_keys_, ", ")));
    } else {
      diagnostics_->add(fmt::format("{}: {}: unknown key, did you mean '{}'?", location(key_node),
                                    child_path(key), suggestion));
    }
  }
}

std::optional<std::string> Reader::scalar(std::string_view expected) const {
  if (node_.IsScalar()) return node_.Scalar();
  problem(fmt::format("expected {}, found {}", expected, describe_kind(node_)));
  return std::nullopt;
}

std::optional<std::string> Reader::as_text() const {
  auto value = scalar("text");
  if (value && value->empty()) {
    problem("must not be empty");
    return std::nullopt;
  }
  return value;
}

std::optional<std::string> Reader::as_choice(
    std::initializer_list<std::string_view> allowed) const {
  auto value = scalar(fmt::format("one of: {}", quoted_list(allowed)));
  if (!value) return std::nullopt;
  if (std::find(allowed.begin(), allowed.end(), *value) == allowed.end()) {
    problem(fmt::format("'{}' is not one of: {}", *value, quoted_list(allowed)));
    return std::nullopt;
  }
  return value;
}

std::optional<std::int64_t> Reader::as_integer(std::int64_t min, std::int64_t max) const {
  auto value = scalar("a whole number");
  if (!value) return std::nullopt;
  std::int64_t number = 0;
  const auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), number);
  if (ec != std::errc{} || end != value->data() + value->size()) {
    problem(fmt::format("'{}' is not a whole number", *value));
    return std::nullopt;
  }
  if (number < min || number > max) {
    problem(fmt::format("{} is out of range [{}, {}]", number, min, max));
    return std::nullopt;
  }
  return number;
}

std::optional<bool> Reader::as_flag() const {
  auto value = scalar("true or false");
  if (!value) return std::nullopt;
  // Only the YAML 1.2 spellings: "yes", "on" and "y" are too easy to misread.
  if (*value == "true") return true;
  if (*value == "false") return false;
  problem(fmt::format("'{}' is not true or false", *value));
  return std::nullopt;
}

std::optional<date::year_month_day> Reader::as_date() const {
  auto value = scalar("a date YYYY-MM-DD");
  if (!value) return std::nullopt;
  auto parsed = parse_date(*value);
  if (!parsed) problem(fmt::format("'{}' is not a date written YYYY-MM-DD", *value));
  return parsed;
}

std::optional<std::chrono::milliseconds> Reader::as_duration(std::chrono::milliseconds min,
                                                             std::chrono::milliseconds max) const {
  auto value = scalar("a duration such as 30s");
  if (!value) return std::nullopt;
  auto parsed = parse_duration(*value);
  if (!parsed) {
    problem(fmt::format("'{}' is not a duration (a whole number and ms, s, m, h or d)", *value));
    return std::nullopt;
  }
  if (*parsed < min || *parsed > max) {
    problem(fmt::format("{} is out of range [{}ms, {}ms]", *value, min.count(), max.count()));
    return std::nullopt;
  }
  return parsed;
}

std::optional<fs::path> Reader::as_existing_file() const {
  auto value = as_text();
  if (!value) return std::nullopt;
  fs::path path(*value);
  if (path.is_relative()) path = (file_->parent_path() / path).lexically_normal();
  std::error_code ec;
  if (!diagnostics_->file_opened(path_) && !fs::exists(path, ec)) return path;
  if (!fs::exists(path, ec)) {
    problem(fmt::format("file not found: {}", path.string()));
    return std::nullopt;
  }
  if (!fs::is_regular_file(path, ec)) {
    problem(fmt::format("not a regular file: {}", path.string()));
    return std::nullopt;
  }
  return path;
}

std::string Reader::text(std::string_view key, std::string fallback) {
  auto value = field(key);
  if (!value) return fallback;
  return value->as_text().value_or(std::move(fallback));
}

std::string Reader::choice(std::string_view key, std::initializer_list<std::string_view> allowed,
                           std::string fallback) {
  auto value = field(key);
  if (!value) return fallback;
  return value->as_choice(allowed).value_or(std::move(fallback));
}

std::int64_t Reader::integer(std::string_view key, std::int64_t min, std::int64_t max,
                             std::int64_t fallback) {
  auto value = field(key);
  if (!value) return fallback;
  return value->as_integer(min, max).value_or(fallback);
}

bool Reader::flag(std::string_view key, bool fallback) {
  auto value = field(key);
  if (!value) return fallback;
  return value->as_flag().value_or(fallback);
}

std::chrono::milliseconds Reader::duration(std::string_view key, std::chrono::milliseconds min,
                                           std::chrono::milliseconds max,
                                           std::chrono::milliseconds fallback) {
  auto value = field(key);
  if (!value) return fallback;
  return value->as_duration(min, max).value_or(fallback);
}

}  // namespace nqs::yaml
