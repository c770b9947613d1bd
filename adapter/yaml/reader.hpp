#pragma once

#include <date/date.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace nqs::yaml {

// Every problem found while reading configuration files, each one line that says where it is
// (file:line:column: key.path) and what is wrong. Reading goes on after a problem, so that an
// operator sees all of them at once instead of fixing one per start.
class Diagnostics {
 public:
  void add(std::string problem) { problems_.push_back(std::move(problem)); }
  [[nodiscard]] bool empty() const { return problems_.empty(); }
  [[nodiscard]] const std::vector<std::string>& problems() const { return problems_; }

  // Key paths (such as "trust" or "signing") whose files the reader's caller will not open: a
  // missing one there is not a problem (what it names is still checked otherwise). A command
  // that only asks the calendar runs without the trust anchors and the signing key.
  void files_not_opened_under(std::vector<std::string> key_paths) {
    not_opened_ = std::move(key_paths);
  }
  [[nodiscard]] bool file_opened(std::string_view key_path) const;

 private:
  std::vector<std::string> problems_;
  std::vector<std::string> not_opened_;
};

// A YAML node read against a known shape. Each accessor names the key it reads, checks the type
// and range, and on a problem records it with the full key path and returns the fallback or
// nothing. A mapping remembers which keys were asked for; finish() reports every other key as
// unknown (with a "did you mean" when one is close) and every key given twice.
class Reader {
 public:
  // Parses a file; a missing file or a YAML syntax error is recorded and gives nothing.
  static std::optional<Reader> open(const std::filesystem::path& file, Diagnostics& diagnostics);
  // Parses text already in memory (tests, inline documents), named `source` in messages.
  static std::optional<Reader> parse(std::string_view text, std::string source,
                                     Diagnostics& diagnostics);

  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] const std::filesystem::path& file() const { return *file_; }
  [[nodiscard]] bool is_null() const { return !node_.IsDefined() || node_.IsNull(); }
  [[nodiscard]] bool is_list_or_null() const { return is_null() || node_.IsSequence(); }
  [[nodiscard]] bool is_scalar() const { return node_.IsScalar(); }
  [[nodiscard]] bool is_mapping() const { return node_.IsMap(); }
  // Whether the command reading this key loads what it names (Diagnostics::files_not_opened_under):
  // what is needed only to open its files (a password, say) is not asked for otherwise.
  [[nodiscard]] bool opens_files() const { return diagnostics_->file_opened(path_); }

  // Records a problem at this node.
  void problem(std::string_view what) const;

  // --- mappings: each marks the key as known -----------------------------------------------
  // The value under `key`, or nothing when the key is absent.
  std::optional<Reader> field(std::string_view key);
  // The value under `key`; a missing key is a problem.
  std::optional<Reader> required(std::string_view key);
  // A nested mapping; absent or null reads as an empty one, another type is a problem.
  Reader section(std::string_view key);
  // The items of a sequence; absent or null reads as empty, another type is a problem.
  std::vector<Reader> list(std::string_view key);
  // Every entry of a mapping whose keys are names chosen by the writer (all count as known); a
  // node of another type is a problem.
  std::vector<std::pair<std::string, Reader>> entries();
  [[nodiscard]] bool has(std::string_view key) const;
  // Reports unknown and duplicated keys of this mapping. Call once the mapping has been read.
  void finish() const;

  // --- leaves under a key, with the value to use when the key is absent --------------------
  std::string text(std::string_view key, std::string fallback);
  std::string choice(std::string_view key, std::initializer_list<std::string_view> allowed,
                     std::string fallback);
  std::int64_t integer(std::string_view key, std::int64_t min, std::int64_t max,
                       std::int64_t fallback);
  bool flag(std::string_view key, bool fallback);
  std::chrono::milliseconds duration(std::string_view key, std::chrono::milliseconds min,
                                     std::chrono::milliseconds max,
                                     std::chrono::milliseconds fallback);

  // --- this node as a value ------------------------------------------------------------------
  std::optional<std::string> as_text() const;
  std::optional<std::string> as_choice(std::initializer_list<std::string_view> allowed) const;
  std::optional<std::int64_t> as_integer(std::int64_t min, std::int64_t max) const;
  std::optional<bool> as_flag() const;
  // A calendar date written YYYY-MM-DD.
  std::optional<date::year_month_day> as_date() const;
  // A duration written as a whole number and a unit: 500ms, 30s, 5m, 2h.
  std::optional<std::chrono::milliseconds> as_duration(std::chrono::milliseconds min,
                                                       std::chrono::milliseconds max) const;
  // A path to a readable regular file, relative to the folder of the file being read.
  std::optional<std::filesystem::path> as_existing_file() const;

 private:
  Reader(YAML::Node node, std::shared_ptr<const std::filesystem::path> file, std::string path,
         Diagnostics* diagnostics);
  Reader child(const YAML::Node& node, std::string path) const;
  std::string child_path(std::string_view key) const;
  std::string location(const YAML::Node& node) const;
  std::optional<std::string> scalar(std::string_view expected) const;
  bool is_mapping_or_report();

  YAML::Node node_;
  std::shared_ptr<const std::filesystem::path> file_;
  std::string path_;
  Diagnostics* diagnostics_;
  std::shared_ptr<std::set<std::string, std::less<>>> known_keys_;
};

// The files of a list of paths, each checked to exist; an empty or absent list is reported with
// `if_empty` (a list whose entries are all missing is already reported entry by entry).
std::vector<std::filesystem::path> existing_files(Reader& section, std::string_view key,
                                                  std::string_view if_empty);

// Parses "YYYY-MM-DD" strictly (a real date, four-digit year, two-digit month and day).
std::optional<date::year_month_day> parse_date(std::string_view text);
// Parses "<whole number><unit>" with unit ms, s, m, h or d (24 h).
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);
// The closest of `candidates` to `word` if it is a plausible typo of it, else empty.
std::string closest_match(std::string_view word,
                          const std::set<std::string, std::less<>>& candidates);

}  // namespace nqs::yaml
