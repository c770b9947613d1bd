#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "configuration/config.hpp"

namespace nqs::cli {

// Loads the whole configuration, printing every problem to standard error.
std::optional<configuration::Setup> load_or_report(const std::filesystem::path& config_file);

int check_config(const std::filesystem::path& config_file);
int run_daemon(const std::filesystem::path& config_file);
// Runs intake on each file offline; `at` (an instant) replaces the current time for certificate
// validity. One JSON object per line.
int inspect(const std::filesystem::path& config_file, const std::vector<std::string>& files,
            const std::string& at);
int calendar_is_working(const std::filesystem::path& config_file, const std::string& day);
int calendar_add(const std::filesystem::path& config_file, const std::string& day, int n);
int calendar_year(const std::filesystem::path& config_file, int year);

}  // namespace nqs::cli
