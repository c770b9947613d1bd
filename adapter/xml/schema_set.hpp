#pragma once

#include <libxml/xmlschemas.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace nqs::xml {

// A compiled XML schema (libxml2). Compiled once at start-up and shared read-only; each
// validation makes its own small context, so validations may run on several threads.
class Schema {
 public:
  // Compiles the schema at `file` (and what it includes or imports, by relative path: nothing is
  // fetched from the network). On failure `problem` says why.
  static std::shared_ptr<const Schema> load(const std::filesystem::path& file,
                                            std::string& problem);

  // Validates a whole document; returns the first problem, in words, or nothing if valid.
  [[nodiscard]] std::optional<std::string> validate_document(xmlDoc* doc) const;
  // Validates one element and its subtree against the schema's global element declarations.
  [[nodiscard]] std::optional<std::string> validate_element(xmlNode* element) const;

  [[nodiscard]] const std::filesystem::path& file() const { return file_; }

  ~Schema();
  Schema(const Schema&) = delete;
  Schema& operator=(const Schema&) = delete;

 private:
  Schema(std::filesystem::path file, xmlSchemaPtr schema)
      : file_(std::move(file)), schema_(schema) {}
  std::optional<std::string> validate(xmlDoc* doc, xmlNode* element) const;

  std::filesystem::path file_;
  xmlSchemaPtr schema_;
};

}  // namespace nqs::xml
