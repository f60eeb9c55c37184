// hostkeys scan / list / forget. See hostkeys.hpp.
#include "fleet/hostkeys.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iostream>
#include <mutex>

#include "common/error.hpp"
#include "common/exit_codes.hpp"
#include "common/files.hpp"
#include "common/interrupt.hpp"
#include "common/strings.hpp"
#include "common/term.hpp"
#include "common/version.hpp"
#include "fleet/exec.hpp"
#include "fleet/executor.hpp"
#include "fleet/jump.hpp"
#include "fleet/known_hosts.hpp"
#include "fleet/result.hpp"
#include "fleet/session.hpp"

namespace aicloud::fleet {

namespace {

struct ScanRow {
  std::string host, address, key_name, status, key_type, fingerprint, expected, error;
};

std::string pad(const std::string& s, std::size_t w) { return s.size() >= w ? s + " " : s + std::string(w - s.size() + 1, ' '); }

}  // namespace

int hostkeys_scan(const ConnectionOptions& o, bool json) {
  validate(o);
  Selection sel = load_selection(o);
  std::string path = known_hosts_path(o);
  KnownHosts known = KnownHosts::load(path);
  // Jump hosts met on the way are recorded too (accept-new), not refused.
  JumpPool jumps(o, known, HostKeyPolicy::accept_new);
  std::vector<ScanRow> rows(sel.targets.size());
  PoolOptions po;
  po.forks = o.forks;
  if (terminal().progress) po.on_progress = [](const Progress& p) { show_progress(progress_line("hostkeys scan", p)); };
  PoolRun run = run_pool(sel.targets.size(), po, [&](std::size_t i) -> Status {
    const Target& t = sel.targets[i];
    ScanRow& row = rows[i];
    row.host = t.name;
    row.address = t.address;
    Session s;
    if (!s.connect(t, o, known, &jumps, Session::Mode::host_key_only)) {
      row.status = s.error_kind() == ConnectError::interrupted ? "interrupted" : "unreachable";
      row.error = s.error();
      row.fingerprint = s.host_key_sha256();
      return row.status == "interrupted" ? Status::interrupted : Status::unreachable;
    }
    row.key_name = s.host_key_name();
    row.key_type = s.host_key_type();
    row.fingerprint = s.host_key_sha256();
    switch (s.host_key_match()) {
      case KeyMatch::known: row.status = "known"; return Status::ok;
      case KeyMatch::unknown:
        try {
          known.add({s.host_key_name()}, s.host_key_type(), s.host_key_blob());
          row.status = "added";
          return Status::ok;
        } catch (const Error& e) {
          row.status = "failed";
          row.error = e.what();
          return Status::failed;
        }
      case KeyMatch::changed:
        row.status = "changed";
        row.error = "the key differs from the one in " + path + "; not changed (after a re-image: hostkeys forget)";
        return Status::unreachable;
      case KeyMatch::revoked:
        row.status = "revoked";
        row.error = "the key is @revoked in " + path;
        return Status::unreachable;
    }
    return Status::ok;
  });
  clear_progress();
  jumps.shutdown();
  std::size_t added = 0, same = 0, changed = 0, unreachable = 0, failed = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    auto& r = rows[i];
    if (!run.started[i]) {
      r.host = sel.targets[i].name;
      r.address = sel.targets[i].address;
      r.status = "skipped";
      r.error = "not started: interrupted (Ctrl-C)";
    }
    if (r.status == "added") ++added;
    else if (r.status == "known") ++same;
    else if (r.status == "changed" || r.status == "revoked") ++changed;
    else if (r.status == "unreachable") ++unreachable;
    else if (r.status == "failed") ++failed;
  }
  int rc = combine_exit(failed > 0, changed + unreachable > 0, run.interrupted);
  if (json) {
    nlohmann::json hosts = nlohmann::json::array();
    for (auto& r : rows) {
      auto nul = [](const std::string& s) { return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s); };
      hosts.push_back({{"host", r.host},
                       {"address", r.address},
                       {"known_hosts_name", nul(r.key_name)},
                       {"status", r.status},
                       {"key_type", nul(r.key_type)},
                       {"host_key_sha256", nul(r.fingerprint)},
                       {"error", nul(r.error)}});
    }
    nlohmann::json doc = {{"tool", "aicloudctl"},
                          {"version", tool_version()},
                          {"command", "hostkeys scan"},
                          {"known_hosts", path},
                          {"hosts", hosts},
                          {"summary",
                           {{"total", rows.size()},
                            {"added", added},
                            {"known", same},
                            {"changed", changed},
                            {"unreachable", unreachable},
                            {"failed", failed},
                            {"interrupted_run", run.interrupted},
                            {"exit_code", rc}}}};
    std::cout << dump_json(doc) << "\n";
  } else {
    std::size_t w = 4;
    for (auto& r : rows) w = std::max(w, r.host.size());
    std::cout << paint(Color::bold, pad("HOST", w) + pad("STATUS", 11) + "FINGERPRINT") << "\n";
    for (auto& r : rows) {
      Color c = r.status == "added" ? Color::green : (r.status == "known" ? Color::none : Color::red);
      std::cout << pad(r.host, w) << paint(c, pad(r.status, 11))
                << (r.fingerprint.empty() ? "-" : r.key_type + " " + r.fingerprint);
      if (!r.error.empty()) std::cout << "  (" << r.error << ")";
      std::cout << "\n";
    }
    if (terminal().verbosity >= 0)
      std::fprintf(stderr, "%zu hosts: %zu added, %zu known, %zu changed, %zu unreachable%s; known_hosts: %s\n",
                   rows.size(), added, same, changed, unreachable, run.interrupted ? " (interrupted)" : "", path.c_str());
  }
  return rc;
}

int hostkeys_list(const ConnectionOptions& o, bool json) {
  std::string path = known_hosts_path(o);
  if (!file_exists(path) && o.inventory.empty()) throw UsageError("known_hosts file " + path + " does not exist");
  KnownHosts known = KnownHosts::load(path);
  std::vector<Target> targets;
  if (!o.inventory.empty()) targets = load_selection(o).targets;
  auto entries = known.entries();
  std::vector<std::string> names;
  for (const auto& t : targets) names.push_back(known_hosts_name(t, o));
  std::vector<std::vector<std::string>> hosts_of(entries.size());
  std::vector<std::string> missing;
  for (const auto& t : targets) {
    bool found = false;
    for (std::size_t e = 0; e < entries.size(); ++e) {
      if (entries[e].marker.empty() && known.line_matches(entries[e], names[&t - targets.data()])) {
        hosts_of[e].push_back(t.name);
        found = true;
      }
    }
    if (!found) missing.push_back(t.name);
  }
  // With --limit, only the entries of the selected hosts.
  auto shown = [&](std::size_t e) { return o.limit.empty() || !hosts_of[e].empty(); };
  if (json) {
    nlohmann::json arr = nlohmann::json::array();
    for (std::size_t e = 0; e < entries.size(); ++e) {
      if (!shown(e)) continue;
      const auto& en = entries[e];
      arr.push_back({{"hosts", en.hosts},
                     {"key_type", en.key_type},
                     {"host_key_sha256", en.fingerprint},
                     {"line", en.line},
                     {"marker", en.marker.empty() ? nlohmann::json(nullptr) : nlohmann::json(en.marker)},
                     {"hashed", en.hashed},
                     {"inventory_hosts", hosts_of[e]}});
    }
    nlohmann::json doc = {{"tool", "aicloudctl"},  {"version", tool_version()}, {"command", "hostkeys list"},
                          {"known_hosts", path},   {"entries", arr},            {"missing", missing}};
    std::cout << dump_json(doc) << "\n";
    return k_exit_ok;
  }
  std::size_t w = 5;
  for (auto& en : entries) w = std::max(w, std::min<std::size_t>(en.hosts.size(), 40));
  std::cout << paint(Color::bold, pad("HOSTS", w) + pad("TYPE", 20) + pad("FINGERPRINT", 51) + (targets.empty() ? "" : "INVENTORY"))
            << "\n";
  for (std::size_t e = 0; e < entries.size(); ++e) {
    if (!shown(e)) continue;
    const auto& en = entries[e];
    std::string hosts = en.marker.empty() ? en.hosts : en.marker + " " + en.hosts;
    std::cout << pad(hosts, w) << pad(en.key_type, 20) << pad(en.fingerprint, 51);
    if (!targets.empty()) std::cout << join(hosts_of[e], ",");
    std::cout << "\n";
  }
  if (!missing.empty())
    std::fprintf(stderr, "aicloudctl: %zu selected host%s without a key on file: %s\n", missing.size(),
                 missing.size() == 1 ? "" : "s", join(missing, ",").c_str());
  return k_exit_ok;
}

int hostkeys_forget(const ConnectionOptions& o, const std::string& selector, bool json) {
  if (trim(selector).empty()) throw UsageError("hostkeys forget needs the hosts to forget, e.g. 'gpu-a12-[01-04]'");
  ConnectionOptions so = o;
  so.limit = selector;
  Selection sel = load_selection(so);
  std::string path = known_hosts_path(o);
  KnownHosts known = KnownHosts::load(path);
  std::vector<std::string> names;
  for (const auto& t : sel.targets) names.push_back(known_hosts_name(t, o));
  std::size_t removed = known.forget(names);
  if (json) {
    std::vector<std::string> hosts;
    for (const auto& t : sel.targets) hosts.push_back(t.name);
    nlohmann::json doc = {{"tool", "aicloudctl"}, {"version", tool_version()}, {"command", "hostkeys forget"},
                          {"known_hosts", path},  {"hosts", hosts},            {"removed_lines", removed}};
    std::cout << dump_json(doc) << "\n";
  } else {
    std::cout << "removed " << removed << " line" << (removed == 1 ? "" : "s") << " for " << sel.targets.size()
              << " host" << (sel.targets.size() == 1 ? "" : "s") << " from " << path << "\n";
  }
  return k_exit_ok;
}

}  // namespace aicloud::fleet
