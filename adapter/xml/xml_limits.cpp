#include "xml/xml_limits.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <vector>

namespace nqs::xml {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// The characters that end a name in a tag: a space, '=', '/' or '>' (one look-up a character
// instead of seven comparisons: names are most of what the scan reads one character at a time).
constexpr std::array<bool, 256> name_ends() {
  std::array<bool, 256> ends{};
  for (const char c : {' ', '\t', '\n', '\r', '=', '/', '>'})
    ends[static_cast<unsigned char>(c)] = true;
  return ends;
}
constexpr auto kEndsName = name_ends();

class Scanner {
 public:
  Scanner(std::string_view bytes, const XmlLimits& limits) : bytes_(bytes), limits_(limits) {}

  std::optional<std::string> run() {
    while (at_ < bytes_.size() && !problem_ && !gave_up_) {
      // By the character after '<': a start tag's first is none of '!', '?' and '/'.
      const char next = at_ + 1 < bytes_.size() ? bytes_[at_ + 1] : '\0';
      if (bytes_[at_] != '<') {
        text();
      } else if (next == '/') {
        end_tag();
      } else if (next == '?') {
        skip_to("?>", "a processing instruction");
      } else if (next != '!') {
        start_tag();
      } else if (starts("<!--")) {
        skip_to("-->", "a comment");
      } else if (starts("<![CDATA[")) {
        skip_to("]]>", "a CDATA section");
      } else {
        return std::nullopt;  // a DOCTYPE: the parser refuses it on sight
      }
    }
    return problem_;
  }

 private:
  bool starts(std::string_view prefix) const { return bytes_.substr(at_, prefix.size()) == prefix; }

  // The line of the byte at `offset` is counted only when a problem is reported there: counting
  // lines while scanning read every byte of the message once more, one at a time, after find()
  // had skipped over them.
  void fail(std::size_t offset, std::string what) {
    const auto line = 1 + std::count(bytes_.begin(), bytes_.begin() + offset, '\n');
    problem_ = fmt::format("{} at line {}", what, line);
  }
  void check_size(std::size_t size, std::string_view what) {
    if (size > limits_.max_text_bytes) {
      fail(at_, fmt::format("{} of {} bytes; at most {} are accepted", what, size,
                            limits_.max_text_bytes));
    }
  }

  void text() {
    const auto end = std::min(bytes_.find('<', at_), bytes_.size());
    check_size(end - at_, "a text node");
    at_ = end;
  }

  void skip_to(std::string_view terminator, std::string_view what) {
    const auto end = bytes_.find(terminator, at_);
    if (end == std::string_view::npos) {
      gave_up_ = true;  // not well-formed: the parser says so
      return;
    }
    check_size(end - at_, what);
    at_ = end + terminator.size();
  }

  void end_tag() {
    const auto end = bytes_.find('>', at_);
    if (end == std::string_view::npos || scopes_.empty()) {
      gave_up_ = true;
      return;
    }
    scopes_.pop_back();
    at_ = end + 1;
  }

  void skip_spaces() {
    while (at_ < bytes_.size() && is_space(bytes_[at_]))
      ++at_;
  }

  // Reads a name up to a space, '=', '/' or '>'.
  std::string_view name() {
    const auto from = at_;
    while (at_ < bytes_.size() && !kEndsName[static_cast<unsigned char>(bytes_[at_])])
      ++at_;
    return bytes_.substr(from, at_ - from);
  }

  // Reads one attribute, name="value", and gives its name; nothing when the scan stops there (not
  // well-formed, or a value too long).
  std::optional<std::string_view> read_attribute() {
    const auto attribute = name();
    skip_spaces();
    if (attribute.empty() || at_ >= bytes_.size() || bytes_[at_] != '=') {
      gave_up_ = true;
      return std::nullopt;
    }
    ++at_;
    skip_spaces();
    if (at_ >= bytes_.size() || (bytes_[at_] != '"' && bytes_[at_] != '\'')) {
      gave_up_ = true;
      return std::nullopt;
    }
    const auto close = bytes_.find(bytes_[at_], at_ + 1);
    if (close == std::string_view::npos) {
      gave_up_ = true;
      return std::nullopt;
    }
    check_size(close - at_ - 1, "an attribute value");
    at_ = close + 1;
    if (problem_) return std::nullopt;
    return attribute;
  }

  // Counts an attribute of `element`, whose tag opens at `tag`, against the limits of one element
  // (`attributes` and `declarations` so far) and of the message; false past one of them.
  bool count_attribute(std::string_view attribute, std::string_view element, std::size_t tag,
                       std::size_t& attributes, std::size_t& declarations) {
    if (++attributes > limits_.max_attributes) {
      fail(tag, fmt::format("the element {} has more than {} attributes", element,
                            limits_.max_attributes));
      return false;
    }
    if (++all_attributes_ > limits_.max_attributes_total) {
      fail(tag, fmt::format("more than {} attributes in all", limits_.max_attributes_total));
      return false;
    }
    if (attribute == "xmlns" || attribute.starts_with("xmlns:")) {
      if (++declarations > limits_.max_namespace_declarations) {
        fail(tag, fmt::format("the element {} declares more than {} namespaces", element,
                              limits_.max_namespace_declarations));
        return false;
      }
    }
    return true;
  }

  void start_tag() {
    const auto tag = at_;
    ++at_;
    const auto element = name();
    if (element.empty()) {
      gave_up_ = true;
      return;
    }
    std::size_t attributes = 0;
    std::size_t declarations = 0;
    bool empty = false;
    while (true) {
      skip_spaces();
      if (at_ >= bytes_.size()) {
        gave_up_ = true;
        return;
      }
      if (bytes_[at_] == '>') {
        ++at_;
        break;
      }
      if (starts("/>")) {
        at_ += 2;
        empty = true;
        break;
      }
      const auto attribute = read_attribute();
      if (!attribute || !count_attribute(*attribute, element, tag, attributes, declarations)) {
        return;
      }
    }
    if (++elements_ > limits_.max_elements) {
      return fail(tag, fmt::format("more than {} elements", limits_.max_elements));
    }
    const auto in_scope = (scopes_.empty() ? 0 : scopes_.back()) + declarations;
    if (in_scope > limits_.max_namespaces_in_scope) {
      return fail(tag,
                  fmt::format("the element {} has more than {} namespace declarations in scope",
                              element, limits_.max_namespaces_in_scope));
    }
    if (!empty) {
      if (scopes_.size() + 1 > limits_.max_depth) {
        return fail(tag, fmt::format("elements nested deeper than {}", limits_.max_depth));
      }
      scopes_.push_back(in_scope);
    }
  }

  std::string_view bytes_;
  const XmlLimits& limits_;
  std::size_t at_ = 0;
  std::size_t elements_ = 0;
  std::size_t all_attributes_ = 0;
  std::vector<std::size_t> scopes_;  // namespace declarations in scope of each open element
  std::optional<std::string> problem_;
  bool gave_up_ = false;
};

}  // namespace

std::optional<std::string> exceeds_limits(std::string_view bytes, const XmlLimits& limits) {
  return Scanner(bytes, limits).run();
}

}  // namespace nqs::xml
