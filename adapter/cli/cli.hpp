#pragma once

namespace nqs::cli {

// Exit codes of the command line (README, "Command line").
inline constexpr int kExitOk = 0;
inline constexpr int kExitProblem = 1;  // the answer is "no": invalid config, date not covered
inline constexpr int kExitUsage = 2;    // the command line itself is wrong
inline constexpr int kExitConfig = 78;  // `run` refused to start (EX_CONFIG, for systemd)

// Parses the command line and runs the chosen subcommand; returns the process exit code.
int main(int argc, char** argv);

}  // namespace nqs::cli
