#include "common/strict_json.hpp"

#include <fmt/format.h>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/parse.hpp>
#include <set>
#include <vector>

namespace nqs {
namespace {

// A SAX pass that stops at the first key an object gives twice and says where.
class DuplicateKeys {
 public:
  constexpr static std::size_t max_object_size = std::size_t(-1);
  constexpr static std::size_t max_array_size = std::size_t(-1);
  constexpr static std::size_t max_key_size = std::size_t(-1);
  constexpr static std::size_t max_string_size = std::size_t(-1);

  std::string problem;

  bool on_document_begin(boost::json::error_code&) { return true; }
  bool on_document_end(boost::json::error_code&) { return true; }
  bool on_object_begin(boost::json::error_code&) { return open(true); }
  bool on_object_end(std::size_t, boost::json::error_code&) { return close(); }
  bool on_array_begin(boost::json::error_code&) { return open(false); }
  bool on_array_end(std::size_t, boost::json::error_code&) { return close(); }
  bool on_key_part(boost::json::string_view part, std::size_t, boost::json::error_code&) {
    key_.append(part.data(), part.size());
    return true;
  }
  bool on_key(boost::json::string_view part, std::size_t, boost::json::error_code& ec) {
    key_.append(part.data(), part.size());
    auto& frame = frames_.back();
    if (!frame.keys.insert(key_).second) {
      problem = fmt::format("the key '{}' is given twice in {}", key_,
                            path().empty() ? "the top-level object" : path());
      ec = boost::json::error::syntax;
      return false;
    }
    frame.last = key_;
    key_.clear();
    return true;
  }
  bool on_string_part(boost::json::string_view, std::size_t, boost::json::error_code&) {
    return true;
  }
  bool on_string(boost::json::string_view, std::size_t, boost::json::error_code&) {
    return scalar();
  }
  bool on_number_part(boost::json::string_view, boost::json::error_code&) { return true; }
  bool on_int64(std::int64_t, boost::json::string_view, boost::json::error_code&) {
    return scalar();
  }
  bool on_uint64(std::uint64_t, boost::json::string_view, boost::json::error_code&) {
    return scalar();
  }
  bool on_double(double, boost::json::string_view, boost::json::error_code&) { return scalar(); }
  bool on_bool(bool, boost::json::error_code&) { return scalar(); }
  bool on_null(boost::json::error_code&) { return scalar(); }
  bool on_comment_part(boost::json::string_view, boost::json::error_code&) { return true; }
  bool on_comment(boost::json::string_view, boost::json::error_code&) { return true; }

 private:
  struct Frame {
    bool object = false;
    std::set<std::string> keys;
    std::string last;       // the object's current key
    std::size_t index = 0;  // the array's next element
    std::string name;       // how the parent calls this value
  };

  // The name the parent gives the value that starts now: its key, or its index.
  std::string child_name() {
    if (frames_.empty()) return {};
    auto& parent = frames_.back();
    return parent.object ? parent.last : fmt::format("[{}]", parent.index++);
  }
  bool open(bool object) {
    auto name = child_name();
    frames_.push_back(Frame{object, {}, {}, 0, std::move(name)});
    return true;
  }
  bool close() {
    frames_.pop_back();
    return true;
  }
  bool scalar() {
    if (!frames_.empty() && !frames_.back().object) ++frames_.back().index;
    return true;
  }
  std::string path() const {
    std::string out;
    for (const auto& frame : frames_) {
      if (frame.name.empty()) continue;
      if (!out.empty() && frame.name.front() != '[') out += '.';
      out += frame.name;
    }
    return out;
  }

  std::vector<Frame> frames_;
  std::string key_;
};

}  // namespace

std::variant<boost::json::value, std::string> parse_strict_json(std::string_view text,
                                                                std::size_t max_depth) {
  boost::json::parse_options options;
  options.max_depth = max_depth;
  boost::system::error_code ec;
  auto value = boost::json::parse(text, ec, {}, options);
  if (ec) return fmt::format("not JSON: {}", ec.message());
  boost::json::basic_parser<DuplicateKeys> checker(options);
  checker.write_some(false, text.data(), text.size(), ec);
  if (!checker.handler().problem.empty()) return checker.handler().problem;
  return value;
}

}  // namespace nqs
