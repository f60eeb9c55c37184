// Two layers of errors (after ccache): expected failures of a host or a check
// are values in results, never exceptions; exceptions are reserved for input
// that cannot be used at all (InputError, UsageError -> exit 2) and for
// failures that end the command (Error -> exit 1). cli/main.cpp catches them
// and maps them to exit codes.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace aicloud {

// A place in an input file. line and column are 1-based; 0 means unknown.
struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;
};

// One problem found in an input, printed as "FILE:LINE:COL: message".
struct Diagnostic {
  SourceLocation where;
  std::string message;
};

std::string format_location(const SourceLocation& where);
std::string format_diagnostic(const Diagnostic& d);

// The command ends with exit code 1 and "aicloudctl: error: <what>".
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Invalid invocation (bad flag value, missing argument): exit 2, nothing ran.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Invalid input file (inventory, playbook, profile, report): exit 2 with
// every diagnostic listed, nothing ran.
class InputError : public std::runtime_error {
 public:
  explicit InputError(std::vector<Diagnostic> diagnostics);
  InputError(SourceLocation where, const std::string& message);
  const std::vector<Diagnostic>& diagnostics() const { return m_diagnostics; }

 private:
  std::vector<Diagnostic> m_diagnostics;
};

}  // namespace aicloud
