// Terminal and JSON output of provision runs. Hosts are grouped, never
// listed one per line: at rack scale the interesting part is which hosts
// differ from the rest, so identical messages, diffs and recap rows are
// folded into one line with a node set.
#include "provision/report.hpp"

#include <algorithm>
#include <cstdio>
#include <map>

#include "common/error.hpp"
#include "common/files.hpp"
#include "common/strings.hpp"
#include "common/term.hpp"
#include "common/version.hpp"

namespace aicloud::provision {

std::string join_hosts(const std::vector<std::string>& hosts) { return join(hosts, ","); }

namespace {

const char* k_statuses[] = {"ok", "changed", "failed", "skipped", "unreachable"};

Color status_color(const std::string& s) {
  if (s == "ok") return Color::green;
  if (s == "changed") return Color::yellow;
  if (s == "failed" || s == "unreachable") return Color::red;
  if (s == "skipped") return Color::cyan;
  return Color::none;
}

std::string last_lines(const std::string& text, std::size_t n) {
  auto lines = split(std::string(trim(text)), '\n', true);
  if (lines.size() > n) lines.erase(lines.begin(), lines.end() - static_cast<long>(n));
  return join(lines, "\n");
}

std::string indent(const std::string& text, const std::string& pad) {
  std::string out;
  for (const auto& l : split(text, '\n', true)) out += pad + l + "\n";
  return out;
}

// Groups hosts by a key, keeping the order in which keys first appear.
template <typename F>
std::vector<std::pair<std::string, std::vector<std::string>>> group_by(const PlayRecord& play, const TaskRecord& task, F key) {
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  std::map<std::string, std::size_t> index;
  for (const auto& h : play.hosts) {
    auto it = task.results.find(h);
    if (it == task.results.end()) continue;
    std::string k = key(it->second);
    if (k.empty()) continue;
    auto f = index.find(k);
    if (f == index.end()) {
      index[k] = out.size();
      out.push_back({k, {h}});
    } else {
      out[f->second].second.push_back(h);
    }
  }
  return out;
}

}  // namespace

TerminalReporter::TerminalReporter(std::ostream& out, HostFolder fold, int verbosity, bool show_diff)
    : m_out(out), m_fold(fold ? std::move(fold) : HostFolder(join_hosts)), m_verbosity(verbosity), m_show_diff(show_diff) {}

void TerminalReporter::play_started(const PlayRecord& play) {
  clear_progress();
  std::string name = play.name.empty() ? play.pattern : play.name;
  m_out << paint(Color::bold, "PLAY [" + name + "]") << " " << play.hosts.size() << " host"
        << (play.hosts.size() == 1 ? "" : "s") << ", " << (play.strategy == Strategy::free ? "free" : "linear") << "\n";
  for (const auto& n : play.notes) m_out << "  " << paint(Color::dim, n) << "\n";
  m_out.flush();
}

void TerminalReporter::progress(const std::string& task, std::size_t done, std::size_t total) {
  show_progress("provision: " + task + " " + std::to_string(done) + "/" + std::to_string(total));
}

void TerminalReporter::task_finished(const PlayRecord& play, const TaskRecord& task) {
  clear_progress();
  std::map<std::string, std::vector<std::string>> by;
  std::vector<std::string> ignored;
  for (const auto& h : play.hosts) {
    auto it = task.results.find(h);
    if (it == task.results.end()) continue;
    by[it->second.status].push_back(h);
    if (it->second.ignored) ignored.push_back(h);
  }
  if (by.empty()) return;
  std::string line = std::string(task.handler ? "HANDLER" : "TASK") + " [" + task.name + "]";
  m_out << paint(Color::bold, line);
  for (const char* s : k_statuses) {
    auto it = by.find(s);
    if (it == by.end()) continue;
    m_out << "  " << paint(status_color(s), std::string(s) + ": " + m_fold(it->second));
  }
  if (!ignored.empty()) m_out << "  " << paint(Color::dim, "(ignored: " + m_fold(ignored) + ")");
  m_out << "\n";
  // Why hosts failed, grouped by identical messages.
  auto failures = group_by(play, task, [](const HostTaskResult& r) -> std::string {
    if (r.status != "failed" && r.status != "unreachable") return "";
    std::string s = (r.status == "unreachable" ? "UNREACHABLE: " : r.ignored ? "failed (ignored): " : "FAILED: ") + r.msg;
    if (r.rc && *r.rc != 0) s += " (rc " + std::to_string(*r.rc) + ")";
    if (!r.no_log && !trim(r.stderr_text).empty()) s += "\n" + last_lines(r.stderr_text, 5);
    else if (!r.no_log && !trim(r.stdout_text).empty() && r.status == "failed") s += "\n" + last_lines(r.stdout_text, 5);
    for (const auto& item : r.items.is_array() ? r.items : nlohmann::json::array())
      if (item.value("status", "") == "failed")
        s += "\n  item " + item.value("item", "") + ": " + item.value("msg", "failed");
    return s;
  });
  for (const auto& [msg, hosts] : failures) {
    auto lines = split(msg, '\n', true);
    m_out << "  " << paint(Color::red, m_fold(hosts) + ": " + lines[0]) << "\n";
    for (std::size_t i = 1; i < lines.size(); ++i) m_out << "    " << lines[i] << "\n";
  }
  // Debug output and, with -v, command output of successful hosts.
  auto outputs = group_by(play, task, [this](const HostTaskResult& r) -> std::string {
    if (r.status == "failed" || r.status == "unreachable" || r.no_log) return "";
    if (!r.output.is_null()) {
      if (r.output.is_string()) return r.output.get<std::string>();
      if (r.output.is_array()) {
        std::vector<std::string> lines;
        for (const auto& x : r.output) lines.push_back(x.is_string() ? x.get<std::string>() : x.dump());
        return join(lines, "\n");
      }
      if (r.output.is_object() && r.output.size() == 1) {
        const auto& v = r.output.begin().value();
        return r.output.begin().key() + ": " + (v.is_string() ? v.get<std::string>() : v.dump(2));
      }
      return r.output.dump(2);
    }
    if (m_verbosity > 0 && !trim(r.stdout_text).empty()) return std::string(trim(r.stdout_text));
    return "";
  });
  for (const auto& [text, hosts] : outputs) {
    auto lines = split(text, '\n', true);
    if (lines.size() == 1) {
      m_out << "  " << m_fold(hosts) << ": " << lines[0] << "\n";
    } else {
      m_out << "  " << m_fold(hosts) << ":\n" << indent(text, "    ");
    }
  }
  if (m_show_diff) {
    auto diffs = group_by(play, task, [](const HostTaskResult& r) -> std::string {
      std::string all;
      for (const auto& d : r.diffs) all += d.text;
      return all;
    });
    for (const auto& [text, hosts] : diffs) {
      m_out << "  " << paint(Color::bold, "diff on " + m_fold(hosts) + ":") << "\n";
      for (const auto& l : split(text, '\n', false)) {
        Color c = starts_with(l, "+") && !starts_with(l, "+++") ? Color::green
                  : starts_with(l, "-") && !starts_with(l, "---") ? Color::red
                  : starts_with(l, "@@") ? Color::cyan : Color::none;
        m_out << "    " << paint(c, l) << "\n";
      }
    }
  }
  m_out.flush();
}

void TerminalReporter::finish(const RunResult& result) {
  clear_progress();
  m_out << "\n" << paint(Color::bold, "RECAP") << "\n";
  // Fold hosts with identical counters into one row.
  std::vector<std::pair<std::string, std::vector<std::string>>> rows;
  std::map<std::string, std::size_t> index;
  for (const auto& h : result.hosts) {
    const Recap& r = result.recap.at(h);
    char key[160];
    std::snprintf(key, sizeof key, "%d %d %d %d %d %d", r.ok, r.changed, r.failed, r.skipped, r.unreachable, r.ignored);
    auto f = index.find(key);
    if (f == index.end()) {
      index[key] = rows.size();
      rows.push_back({key, {h}});
    } else {
      rows[f->second].second.push_back(h);
    }
  }
  std::vector<std::string> names;
  std::size_t width = 5;
  for (const auto& [k, hosts] : rows) {
    names.push_back(m_fold(hosts));
    width = std::max(width, names.back().size());
  }
  char head[256];
  std::snprintf(head, sizeof head, "%-*s %6s %8s %7s %8s %12s %8s", static_cast<int>(width), "hosts", "ok", "changed",
                "failed", "skipped", "unreachable", "ignored");
  m_out << head << "\n";
  int n_ok = 0, n_changed = 0, n_failed = 0, n_unreach = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Recap& r = result.recap.at(rows[i].second.front());
    std::string st = r.status();
    char line[512];
    std::snprintf(line, sizeof line, "%-*s %6d %8d %7d %8d %12d %8d", static_cast<int>(width), names[i].c_str(), r.ok,
                  r.changed, r.failed, r.skipped, r.unreachable, r.ignored);
    m_out << paint(status_color(st), line) << "\n";
    int count = static_cast<int>(rows[i].second.size());
    if (st == "ok") n_ok += count;
    else if (st == "changed") n_changed += count;
    else if (st == "failed") n_failed += count;
    else n_unreach += count;
  }
  char sum[256];
  std::snprintf(sum, sizeof sum, "%zu host%s: %d ok, %d changed, %d failed, %d unreachable (%.1f s)%s", result.hosts.size(),
                result.hosts.size() == 1 ? "" : "s", n_ok, n_changed, n_failed, n_unreach, result.duration_s,
                result.interrupted ? ", interrupted" : "");
  m_out << sum << "\n";
  m_out.flush();
}

nlohmann::json run_result_json(const RunResult& result, const std::string& playbook, const RunOptions& options) {
  using json = nlohmann::json;
  json plays = json::array();
  for (const auto& p : result.plays) {
    json tasks = json::array();
    for (const auto& t : p.tasks) {
      json res = json::object();
      for (const auto& h : p.hosts) {
        auto it = t.results.find(h);
        if (it == t.results.end()) continue;
        const HostTaskResult& r = it->second;
        json o = {{"status", r.status},
                  {"changed", r.status == "changed"},
                  {"ignored", r.ignored},
                  {"rc", r.rc ? json(*r.rc) : json(nullptr)},
                  {"stdout", r.no_log ? "(hidden: no_log)" : r.stdout_text},
                  {"stderr", r.no_log ? "(hidden: no_log)" : r.stderr_text},
                  {"msg", r.no_log && r.status != "skipped" ? "(hidden: no_log)" : r.msg},
                  {"duration_s", r.duration_s},
                  {"attempts", r.attempts}};
        if (!r.diffs.empty()) {
          std::string d;
          for (const auto& x : r.diffs) d += x.text;
          o["diff"] = d;
        }
        if (!r.output.is_null() && !r.no_log) o["output"] = r.output;
        if (!r.items.is_null()) o["items"] = r.items;
        res[h] = o;
      }
      tasks.push_back({{"name", t.name},
                       {"action", t.action},
                       {"handler", t.handler},
                       {"file", t.where.file},
                       {"line", t.where.line},
                       {"results", res}});
    }
    plays.push_back({{"name", p.name},
                     {"hosts_pattern", p.pattern},
                     {"strategy", p.strategy == Strategy::free ? "free" : "linear"},
                     {"hosts", p.hosts},
                     {"notes", p.notes},
                     {"tasks", tasks}});
  }
  json recap = json::object();
  json summary = {{"hosts", result.hosts.size()}, {"ok", 0}, {"changed", 0}, {"failed", 0}, {"unreachable", 0}};
  for (const auto& h : result.hosts) {
    const Recap& r = result.recap.at(h);
    recap[h] = {{"status", r.status()}, {"ok", r.ok}, {"changed", r.changed}, {"failed", r.failed},
                {"skipped", r.skipped}, {"unreachable", r.unreachable}, {"ignored", r.ignored}};
    summary[r.status()] = summary[r.status()].get<int>() + 1;
  }
  return {{"tool", "aicloudctl"},
          {"version", tool_version()},
          {"command", "provision"},
          {"schema", 1},
          {"playbook", playbook},
          {"check", options.check},
          {"diff", options.diff},
          {"duration_s", result.duration_s},
          {"interrupted", result.interrupted},
          {"exit_code", result.exit_code()},
          {"plays", plays},
          {"recap", recap},
          {"summary", summary}};
}

std::vector<std::string> failed_hosts_from_result(const std::string& path) {
  using json = nlohmann::json;
  std::string text = read_text_file(path);
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    throw InputError(SourceLocation{path, 0, 0}, std::string("not a JSON result: ") + e.what());
  }
  std::vector<std::string> out;
  auto bad_status = [](const std::string& s) {
    return s == "failed" || s == "unreachable" || s == "timeout" || s == "signal" || s == "interrupted";
  };
  if (doc.is_object() && doc.contains("recap") && doc["recap"].is_object()) {
    for (auto it = doc["recap"].begin(); it != doc["recap"].end(); ++it) {
      const json& r = it.value();
      if (!r.is_object()) continue;
      bool bad = r.value("failed", 0) > 0 || r.value("unreachable", 0) > 0 || bad_status(r.value("status", ""));
      if (bad) out.push_back(it.key());
    }
    return out;
  }
  for (const char* key : {"results", "hosts"}) {
    if (!doc.is_object() || !doc.contains(key) || !doc[key].is_array()) continue;
    for (const auto& r : doc[key]) {
      if (!r.is_object() || !r.contains("host") || !r["host"].is_string()) continue;
      if (bad_status(r.value("status", ""))) out.push_back(r["host"].get<std::string>());
    }
    return out;
  }
  throw InputError(SourceLocation{path, 0, 0},
                   "not an aicloudctl result: expected a 'recap' object (provision --json) or a 'results' list of {host, status}");
}

}  // namespace aicloud::provision
