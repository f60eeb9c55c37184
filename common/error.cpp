#include "common/error.hpp"

namespace aicloud {

std::string format_location(const SourceLocation& where) {
  std::string out = where.file.empty() ? std::string("<input>") : where.file;
  if (where.line > 0) {
    out += ":" + std::to_string(where.line);
    if (where.column > 0) out += ":" + std::to_string(where.column);
  }
  return out;
}

std::string format_diagnostic(const Diagnostic& d) {
  return format_location(d.where) + ": " + d.message;
}

static std::string summarize(const std::vector<Diagnostic>& ds) {
  if (ds.empty()) return "invalid input";
  std::string out = format_diagnostic(ds.front());
  if (ds.size() > 1) out += " (and " + std::to_string(ds.size() - 1) + " more)";
  return out;
}

InputError::InputError(std::vector<Diagnostic> diagnostics)
    : std::runtime_error(summarize(diagnostics)), m_diagnostics(std::move(diagnostics)) {}

InputError::InputError(SourceLocation where, const std::string& message)
    : InputError(std::vector<Diagnostic>{Diagnostic{std::move(where), message}}) {}

}  // namespace aicloud
