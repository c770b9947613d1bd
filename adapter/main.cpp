#include "cli/cli.hpp"

int main(int argc, char** argv) {
  return nqs::cli::main(argc, argv);
}
