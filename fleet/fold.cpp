// Folding identical results under node sets (clush -b). See fold.hpp.
#include "fleet/fold.hpp"

#include <algorithm>
#include <functional>
#include <unordered_map>

#include "common/term.hpp"
#include "inventory/nodeset.hpp"

namespace aicloud::fleet {

namespace {

int severity(Status s) {
  switch (s) {
    case Status::ok: return 0;
    case Status::failed: return 1;
    case Status::signal: return 2;
    case Status::timeout: return 3;
    case Status::interrupted: return 4;
    case Status::unreachable: return 5;
    case Status::skipped: return 6;
  }
  return 7;
}

const std::string& reason_of(const HostResult& r) { return r.reason.empty() ? r.error : r.reason; }

bool same(const HostResult& a, const HostResult& b) {
  return a.status == b.status && a.exit_code == b.exit_code && a.signal == b.signal && reason_of(a) == reason_of(b) &&
         a.stdout_text == b.stdout_text && a.stderr_text == b.stderr_text;
}

std::size_t hash_of(const HostResult& r) {
  std::hash<std::string> h;
  std::size_t x = static_cast<std::size_t>(r.status) * 1000003u + (r.exit_code ? static_cast<std::size_t>(*r.exit_code) + 7 : 0);
  x ^= h(r.signal) + 0x9e3779b97f4a7c15ull + (x << 6) + (x >> 2);
  x ^= h(reason_of(r)) + 0x9e3779b97f4a7c15ull + (x << 6) + (x >> 2);
  x ^= h(r.stdout_text) + 0x9e3779b97f4a7c15ull + (x << 6) + (x >> 2);
  x ^= h(r.stderr_text) + 0x9e3779b97f4a7c15ull + (x << 6) + (x >> 2);
  return x;
}

void append_block(std::string& out, const std::string& text) {
  if (text.empty()) return;
  out += text;
  if (text.back() != '\n') out += '\n';
}

}  // namespace

std::string outcome_text(const HostResult& r) {
  switch (r.status) {
    case Status::ok: return "ok";
    case Status::failed:
      if (r.exit_code) return "exit " + std::to_string(*r.exit_code);
      return "failed: " + reason_of(r);
    case Status::signal:
      if (r.signal == "unknown") return "no exit status (killed or the channel was closed)";
      return "killed by signal " + r.signal;
    case Status::timeout: return "timeout: " + reason_of(r);
    case Status::interrupted: return "interrupted";
    case Status::unreachable: return "unreachable: " + reason_of(r);
    case Status::skipped: return "skipped: " + reason_of(r);
  }
  return "";
}

std::vector<OutputGroup> fold_results(const std::vector<HostResult>& results) {
  std::vector<OutputGroup> groups;
  std::unordered_map<std::size_t, std::vector<std::size_t>> by_hash;  // hash -> group indexes
  for (std::size_t i = 0; i < results.size(); ++i) {
    auto& candidates = by_hash[hash_of(results[i])];
    bool placed = false;
    for (std::size_t g : candidates) {
      if (same(results[groups[g].members.front()], results[i])) {
        groups[g].members.push_back(i);
        placed = true;
        break;
      }
    }
    if (!placed) {
      candidates.push_back(groups.size());
      groups.push_back(OutputGroup{{i}, {}});
    }
  }
  for (auto& g : groups) {
    std::vector<std::string> names;
    names.reserve(g.members.size());
    for (std::size_t i : g.members) names.push_back(results[i].host);
    g.nodes = inventory::fold_nodeset(names);
  }
  std::stable_sort(groups.begin(), groups.end(), [&](const OutputGroup& a, const OutputGroup& b) {
    int sa = severity(results[a.members.front()].status), sb = severity(results[b.members.front()].status);
    if (sa != sb) return sa < sb;
    return a.members.front() < b.members.front();
  });
  return groups;
}

std::string render_folded(const std::vector<HostResult>& results, const std::vector<OutputGroup>& groups) {
  std::string out;
  const std::string rule = "---------------\n";
  for (const auto& g : groups) {
    const HostResult& r = results[g.members.front()];
    out += paint(Color::dim, rule.substr(0, rule.size() - 1)) + "\n";
    std::string header = g.nodes + " (" + std::to_string(g.members.size()) + ")";
    std::string outcome = outcome_text(r);
    Color c = r.status == Status::ok ? Color::green : (r.status == Status::skipped ? Color::yellow : Color::red);
    out += paint(Color::bold, header) + (r.status == Status::ok ? std::string() : " " + paint(c, outcome)) + "\n";
    bool has_output = !r.stdout_text.empty() || !r.stderr_text.empty();
    if (has_output) out += paint(Color::dim, rule.substr(0, rule.size() - 1)) + "\n";
    append_block(out, r.stdout_text);
    if (!r.stderr_text.empty()) {
      std::string err = r.stderr_text;
      if (err.back() != '\n') err += '\n';
      out += paint(Color::yellow, err.substr(0, err.size() - 1)) + "\n";
    }
    if (r.output_truncated) out += paint(Color::yellow, "[output truncated]") + "\n";
  }
  return out;
}

std::string render_lines(const std::vector<HostResult>& results) {
  std::string out;
  auto lines = [&](const HostResult& r, const std::string& text, bool err) {
    std::size_t start = 0;
    while (start < text.size()) {
      std::size_t nl = text.find('\n', start);
      std::string line = text.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
      out += paint(Color::bold, r.host) + (err ? "[err]: " : ": ") + line + "\n";
      if (nl == std::string::npos) break;
      start = nl + 1;
    }
  };
  for (const auto& r : results) {
    lines(r, r.stdout_text, false);
    lines(r, r.stderr_text, true);
    if (r.status != Status::ok) out += paint(Color::bold, r.host) + ": " + paint(Color::red, outcome_text(r)) + "\n";
  }
  return out;
}

}  // namespace aicloud::fleet
