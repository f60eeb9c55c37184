// Text, JSON and XML views of reports. The terminal summary is built for a
// tech at the rack: the verdict first, then which node failed which stage
// and why (with the numbers), then how close the fleet is to its floors.
#include "certify/present.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "certify/judge.hpp"
#include "certify/metrics.hpp"
#include "certify/stage_names.hpp"
#include "common/strings.hpp"
#include "common/term.hpp"

namespace aicloud::certify {

using nlohmann::json;

namespace {

std::string pad(const std::string& s, std::size_t width) {
  // Width counts bytes of visible text; paint() codes are added after padding.
  return s.size() >= width ? s : s + std::string(width - s.size(), ' ');
}

std::string short_sha(const std::string& s) { return s.substr(0, 12); }

std::string where_of(const std::string& node, std::optional<int> gpu, const std::string& link) {
  std::string w = node;
  if (gpu) w += (w.empty() ? "" : " ") + std::string("GPU ") + std::to_string(*gpu);
  if (!link.empty()) w += (w.empty() ? "" : " ") + link;
  return w.empty() ? "rack" : w;
}

struct Worst {
  const Measurement* m = nullptr;
  std::string node;
  double headroom = 0;  // (value - floor) / floor for higher-is-better; sign flipped for ceilings
  double median = 0;
  int samples = 0;
};

std::vector<Worst> worst_measurements(const Report& r) {
  std::map<std::string, Worst> by_metric;
  std::map<std::string, std::vector<double>> values;
  auto consider = [&](const Measurement& m, const std::string& node) {
    values[m.metric].push_back(m.value);
    if (!m.floor || *m.floor == 0) return;
    const MetricInfo* info = find_metric(m.metric);
    if (!info) return;
    double h = info->higher_is_better ? (m.value - *m.floor) / *m.floor : (*m.floor - m.value) / *m.floor;
    auto it = by_metric.find(m.metric);
    if (it == by_metric.end() || h < it->second.headroom) by_metric[m.metric] = Worst{&m, node, h, 0, 0};
  };
  for (const auto& n : r.nodes)
    for (const auto& m : n.measurements) consider(m, n.name);
  for (const auto& k : r.racks)
    for (const auto& m : k.measurements) consider(m, "");
  std::vector<Worst> out;
  for (const auto& info : metric_catalog()) {
    auto it = by_metric.find(info.id);
    if (it == by_metric.end()) continue;
    auto v = values[info.id];
    std::sort(v.begin(), v.end());
    it->second.samples = static_cast<int>(v.size());
    it->second.median = v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
    out.push_back(it->second);
  }
  return out;
}

std::string pct(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.1f%%", x * 100);
  return buf;
}

bool failing(const Reason& r) { return r.severity != Severity::warn; }

}  // namespace

std::string render_summary(const Report& r) {
  std::string out;
  std::vector<std::string> rack_names;
  for (const auto& k : r.racks) rack_names.push_back(k.name);
  std::string verdict(to_string(r.summary.verdict));
  out += paint(Color::bold, "Certification of " + std::string(r.racks.size() == 1 ? "rack " : "racks ") +
                                join(rack_names, ", ")) +
         ": " + paint_verdict(verdict) + (r.summary.certified ? paint(Color::green, " - CERTIFIED") : " - not certified") + "\n";
  out += "  profile " + r.profile.name + " (level " + r.run.level + ", sha256 " + short_sha(r.profile.sha256) + ")" +
         (r.inventory.path.empty() ? "" : ", inventory " + r.inventory.path + " (sha256 " + short_sha(r.inventory.sha256) + ")") + "\n";
  out += "  run " + r.run.id + " (" + r.run.mode + "), " + r.run.started_at + " to " +
         (r.run.ended_at.empty() ? "now" : r.run.ended_at) + ", " + r.run.status +
         (r.run.resumed_at.empty() ? "" : ", resumed " + std::to_string(r.run.resumed_at.size()) + "x") + ", by " +
         r.run.operator_name + "\n";
  out += "  nodes: " + std::to_string(r.summary.nodes_total) + " total, " + std::to_string(r.summary.nodes_pass) + " PASS, " +
         std::to_string(r.summary.nodes_fail) + " FAIL, " + std::to_string(r.summary.nodes_incomplete) + " INCOMPLETE" +
         (r.summary.unreachable ? ", " + std::to_string(r.summary.unreachable) + " unreachable" : "") + "\n";
  if (!r.profile.note.empty()) out += "  " + paint(Color::yellow, "profile: " + r.profile.note) + "\n";

  // Node x stage table.
  std::vector<std::string> stages;
  for (auto id : k_stage_order)
    for (const auto& n : r.nodes)
      if (n.stage(id)) {
        stages.emplace_back(id);
        break;
      }
  std::size_t name_w = 4;
  for (const auto& n : r.nodes) name_w = std::max(name_w, n.name.size());
  out += "\n" + pad("NODE", name_w + 2);
  for (const auto& s : stages) out += pad(s == "conformance" ? "conform" : s, std::max<std::size_t>(s == "conformance" ? 7 : s.size(), 10) + 1);
  out += "VERDICT\n";
  for (const auto& n : r.nodes) {
    out += pad(n.name, name_w + 2);
    for (const auto& s : stages) {
      const StageRecord* rec = n.stage(s);
      std::string o = rec ? rec->outcome : "-";
      std::size_t w = std::max<std::size_t>(s == "conformance" ? 7 : s.size(), 10) + 1;
      out += paint_verdict(o) + std::string(w > o.size() ? w - o.size() : 1, ' ');
    }
    out += paint_verdict(std::string(to_string(n.verdict))) + "\n";
  }

  // Failing checks, node by node.
  bool any = false;
  for (const auto& n : r.nodes) {
    std::vector<const Reason*> rs;
    for (const auto& x : n.reasons)
      if (failing(x)) rs.push_back(&x);
    if (rs.empty()) continue;
    if (!any) out += "\nFailing checks:\n";
    any = true;
    out += "  " + paint(Color::bold, n.name) + " " + paint_verdict(std::string(to_string(n.verdict))) + "\n";
    for (const auto* x : rs) {
      std::string stage = x->stage.empty() ? "" : "[" + x->stage + "] ";
      out += "    " + paint_verdict(std::string(to_string(x->severity))) + " " + stage + x->check + ": " + x->message + "\n";
    }
  }
  for (const auto& k : r.racks) {
    std::vector<const Reason*> rs;
    for (const auto& x : k.reasons)
      if (failing(x) && x.check != "rack.node") rs.push_back(&x);
    if (rs.empty()) continue;
    out += "  " + paint(Color::bold, "rack " + k.name) + "\n";
    for (const auto* x : rs)
      out += "    " + paint_verdict(std::string(to_string(x->severity))) + " [" + x->stage + "] " + x->check + ": " + x->message + "\n";
  }
  // Warnings, briefly.
  int warns = 0;
  for (const auto& n : r.nodes)
    for (const auto& x : n.reasons)
      if (x.severity == Severity::warn) ++warns;
  if (warns) out += "\n" + std::to_string(warns) + " warning" + (warns == 1 ? "" : "s") + " (see the report's reasons with severity WARN)\n";

  // Worst measurements against their floors.
  auto worst = worst_measurements(r);
  if (!worst.empty()) {
    out += "\nWorst measurements against their thresholds:\n";
    out += "  " + pad("METRIC", 38) + pad("WORST", 20) + pad("WHERE", 24) + pad("THRESHOLD", 12) + pad("HEADROOM", 10) + "MEDIAN\n";
    for (const auto& w : worst) {
      const MetricInfo* info = find_metric(w.m->metric);
      std::string unit = info && *info->unit ? std::string(" ") + info->unit : "";
      std::string head = pct(w.headroom);
      out += "  " + pad(w.m->metric, 38) + pad(format_value(w.m->value) + unit, 20) +
             pad(where_of(w.node, w.m->gpu, w.m->link), 24) +
             pad((info && info->higher_is_better ? ">= " : "<= ") + format_value(*w.m->floor), 12) +
             (w.headroom < 0 ? paint(Color::red, pad(head, 10)) : pad(head, 10)) + format_value(w.median) + unit + " (" +
             std::to_string(w.samples) + ")\n";
    }
  }
  out += "\nRack verdicts:\n";
  for (const auto& k : r.racks)
    out += "  " + pad(k.name, 12) + paint_verdict(std::string(to_string(k.verdict))) +
           (k.certified ? " certified" : " not certified") + " (" + std::to_string(k.nodes.size()) + " node" +
           (k.nodes.size() == 1 ? "" : "s") + ")\n";
  return out;
}

json summary_json(const Report& r) {
  json j;
  j["verdict"] = to_string(r.summary.verdict);
  j["certified"] = r.summary.certified;
  j["exit_code"] = r.summary.exit_code;
  j["profile"] = {{"name", r.profile.name}, {"sha256", r.profile.sha256}, {"level", r.run.level}, {"note", r.profile.note}};
  j["run"] = {{"id", r.run.id}, {"mode", r.run.mode}, {"status", r.run.status},
              {"started_at", r.run.started_at}, {"ended_at", r.run.ended_at}};
  j["counts"] = {{"total", r.summary.nodes_total}, {"pass", r.summary.nodes_pass}, {"fail", r.summary.nodes_fail},
                 {"incomplete", r.summary.nodes_incomplete}, {"unreachable", r.summary.unreachable}};
  json racks = json::array();
  for (const auto& k : r.racks) {
    json reasons = json::array();
    for (const auto& x : k.reasons)
      if (failing(x)) reasons.push_back(to_json(x));
    racks.push_back({{"name", k.name}, {"verdict", to_string(k.verdict)}, {"certified", k.certified},
                     {"nodes", k.nodes}, {"reasons", reasons}});
  }
  j["racks"] = racks;
  json nodes = json::array();
  for (const auto& n : r.nodes) {
    json stages = json::object();
    for (const auto& s : n.stages) stages[s.stage] = s.outcome;
    json failing_reasons = json::array();
    for (const auto& x : n.reasons)
      if (failing(x)) failing_reasons.push_back(to_json(x));
    nodes.push_back({{"name", n.name}, {"verdict", to_string(n.verdict)}, {"stages", stages}, {"failing", failing_reasons}});
  }
  j["nodes"] = nodes;
  json worst = json::array();
  for (const auto& w : worst_measurements(r)) {
    json x = to_json(*w.m);
    x["node"] = w.node;
    x["headroom"] = w.headroom;
    x["median"] = w.median;
    worst.push_back(x);
  }
  j["worst"] = worst;
  return j;
}

// ---------------------------------------------------------------------------
// diff
// ---------------------------------------------------------------------------

DiffResult diff_reports(const Report& a, const Report& b, double margin_pct) {
  DiffResult d;
  json& j = d.json;
  j = {{"nodes_started_failing", json::array()}, {"nodes_fixed", json::array()}, {"nodes_added", json::array()},
       {"nodes_removed", json::array()}, {"checks_new", json::array()}, {"checks_gone", json::array()},
       {"measurements", json::array()}, {"racks", json::array()}, {"margin_pct", margin_pct}};
  std::string& t = d.text;
  if (a.profile.sha256 != b.profile.sha256)
    t += "note: the certifications used different profiles (" + a.profile.name + " " + short_sha(a.profile.sha256) +
         ", " + b.profile.name + " " + short_sha(b.profile.sha256) + "); thresholds may differ\n";
  j["profile_changed"] = a.profile.sha256 != b.profile.sha256;
  j["before"] = {{"run", a.run.id}, {"started_at", a.run.started_at}, {"verdict", to_string(a.summary.verdict)}};
  j["after"] = {{"run", b.run.id}, {"started_at", b.run.started_at}, {"verdict", to_string(b.summary.verdict)}};

  for (const auto& kb : b.racks) {
    const RackRecord* ka = nullptr;
    for (const auto& k : a.racks)
      if (k.name == kb.name) ka = &k;
    if (!ka) continue;
    if (ka->certified != kb.certified || ka->verdict != kb.verdict) {
      j["racks"].push_back({{"name", kb.name}, {"before", to_string(ka->verdict)}, {"after", to_string(kb.verdict)}});
      t += "rack " + kb.name + ": " + std::string(to_string(ka->verdict)) + " -> " + paint_verdict(std::string(to_string(kb.verdict))) + "\n";
      if (ka->certified && !kb.certified) d.regressed = true;
    }
  }
  auto key = [](const Reason& x) {
    return x.check + "|" + (x.gpu ? std::to_string(*x.gpu) : "") + "|" + x.link;
  };
  for (const auto& nb : b.nodes) {
    const NodeRecord* na = a.node(nb.name);
    if (!na) {
      j["nodes_added"].push_back({{"name", nb.name}, {"verdict", to_string(nb.verdict)}});
      t += "+ node " + nb.name + " (" + std::string(to_string(nb.verdict)) + ")\n";
      continue;
    }
    if (na->verdict == Verdict::pass && nb.verdict != Verdict::pass) {
      j["nodes_started_failing"].push_back({{"name", nb.name}, {"before", "PASS"}, {"after", to_string(nb.verdict)}});
      t += paint(Color::red, "node " + nb.name + " started failing") + ": PASS -> " + std::string(to_string(nb.verdict)) + "\n";
      d.regressed = true;
    } else if (na->verdict != Verdict::pass && nb.verdict == Verdict::pass) {
      j["nodes_fixed"].push_back({{"name", nb.name}, {"before", to_string(na->verdict)}, {"after", "PASS"}});
      t += paint(Color::green, "node " + nb.name + " fixed") + ": " + std::string(to_string(na->verdict)) + " -> PASS\n";
    } else if (na->verdict != nb.verdict) {
      t += "node " + nb.name + ": " + std::string(to_string(na->verdict)) + " -> " + std::string(to_string(nb.verdict)) + "\n";
      if (nb.verdict == Verdict::fail) d.regressed = true;
    }
    std::set<std::string> before_keys, after_keys;
    for (const auto& x : na->reasons)
      if (failing(x)) before_keys.insert(key(x));
    for (const auto& x : nb.reasons)
      if (failing(x)) after_keys.insert(key(x));
    for (const auto& x : nb.reasons)
      if (failing(x) && !before_keys.count(key(x))) {
        json r = to_json(x);
        j["checks_new"].push_back(r);
        t += "  + " + nb.name + " " + x.check + ": " + x.message + "\n";
        before_keys.insert(key(x));  // once per key
      }
    for (const auto& x : na->reasons)
      if (failing(x) && !after_keys.count(key(x))) {
        j["checks_gone"].push_back(to_json(x));
        t += "  - " + nb.name + " " + x.check + ": " + x.message + "\n";
        after_keys.insert(key(x));
      }
  }
  for (const auto& na : a.nodes)
    if (!b.node(na.name)) {
      j["nodes_removed"].push_back({{"name", na.name}, {"verdict", to_string(na.verdict)}});
      t += "- node " + na.name + " (was " + std::string(to_string(na.verdict)) + ")\n";
    }

  // Measurements by (node, metric, gpu, link).
  auto mkey = [](const std::string& node, const Measurement& m) {
    return node + "|" + m.metric + "|" + (m.gpu ? std::to_string(*m.gpu) : "") + "|" + m.link;
  };
  std::map<std::string, std::pair<std::string, const Measurement*>> before;
  for (const auto& n : a.nodes)
    for (const auto& m : n.measurements) before[mkey(n.name, m)] = {n.name, &m};
  for (const auto& k : a.racks)
    for (const auto& m : k.measurements) before[mkey("rack:" + k.name, m)] = {"", &m};
  struct Moved {
    double change;
    json j;
    std::string line;
  };
  std::vector<Moved> moved;
  auto compare = [&](const std::string& owner, const std::string& node, const Measurement& m) {
    auto it = before.find(mkey(owner, m));
    if (it == before.end() || it->second.second->value == 0) return;
    double old = it->second.second->value;
    double change = (m.value - old) / std::fabs(old) * 100;
    if (std::fabs(change) <= margin_pct) return;
    const MetricInfo* info = find_metric(m.metric);
    bool worse = info ? (info->higher_is_better ? change < 0 : change > 0) : false;
    if (worse) d.regressed = true;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%+.1f%%", change);
    std::string unit = info && *info->unit ? std::string(" ") + info->unit : "";
    json x = {{"metric", m.metric}, {"node", node}, {"before", old}, {"after", m.value},
              {"change_pct", change}, {"worse", worse}};
    if (m.gpu) x["gpu"] = *m.gpu;
    if (!m.link.empty()) x["link"] = m.link;
    std::string line = "  " + pad(m.metric, 38) + pad(where_of(node, m.gpu, m.link), 26) + format_value(old) + " -> " +
                       format_value(m.value) + unit + " (" + (worse ? paint(Color::red, buf) : paint(Color::green, buf)) + ")\n";
    moved.push_back({std::fabs(change), x, line});
  };
  for (const auto& n : b.nodes)
    for (const auto& m : n.measurements) compare(n.name, n.name, m);
  for (const auto& k : b.racks)
    for (const auto& m : k.measurements) compare("rack:" + k.name, "", m);
  std::sort(moved.begin(), moved.end(), [](const Moved& x, const Moved& y) { return x.change > y.change; });
  if (!moved.empty()) {
    t += "Measurements that moved by more than " + format_value(margin_pct) + "%:\n";
    for (const auto& m : moved) {
      j["measurements"].push_back(m.j);
      t += m.line;
    }
  }
  j["regressed"] = d.regressed;
  if (t.empty()) t = "no differences beyond the margin of " + format_value(margin_pct) + "%\n";
  return d;
}

// ---------------------------------------------------------------------------
// JUnit
// ---------------------------------------------------------------------------

namespace {

std::string xml_escape(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') out += ' ';  // not allowed in XML 1.0
        else out += static_cast<char>(c);
    }
  }
  return out;
}

std::string seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", s);
  return buf;
}

struct Case {
  std::string classname, name, body;
  double time = 0;
  int failures = 0, errors = 0, skipped = 0;
};

Case stage_case(const std::string& classname, const StageRecord& s, const std::vector<Reason>& reasons) {
  Case c{classname, s.stage, "", s.duration_s};
  std::vector<const Reason*> rs;
  for (const auto& x : reasons)
    if (x.stage == s.stage && failing(x)) rs.push_back(&x);
  std::string text;
  for (const auto* x : rs) text += std::string(to_string(x->severity)) + " " + x->check + ": " + x->message + "\n";
  std::string first = rs.empty() ? s.detail : rs.front()->check + ": " + rs.front()->message;
  if (s.outcome == "FAIL") {
    c.failures = 1;
    c.body = "<failure message=\"" + xml_escape(first) + "\" type=\"" + xml_escape(rs.empty() ? "FAIL" : rs.front()->check) +
             "\">" + xml_escape(text) + "</failure>";
  } else if (s.outcome == "INCOMPLETE" || s.outcome == "PENDING") {
    c.errors = 1;
    std::string msg = s.outcome == "PENDING" ? "did not run" : first;
    c.body = "<error message=\"" + xml_escape(msg) + "\" type=\"INCOMPLETE\">" + xml_escape(text.empty() ? msg : text) + "</error>";
  } else if (s.outcome == "SKIPPED") {
    c.skipped = 1;
    c.body = "<skipped message=\"" + xml_escape(s.detail) + "\"/>";
  }
  if (!s.command.empty())
    c.body += "<system-out>" + xml_escape("$ " + s.command + "\n" + s.detail) + "</system-out>";
  return c;
}

std::string suite(const std::string& name, const std::string& timestamp, const std::vector<Case>& cases,
                  const std::vector<std::pair<std::string, std::string>>& props) {
  int f = 0, e = 0, s = 0;
  double t = 0;
  for (const auto& c : cases) {
    f += c.failures;
    e += c.errors;
    s += c.skipped;
    t += c.time;
  }
  std::string x = "  <testsuite name=\"" + xml_escape(name) + "\" tests=\"" + std::to_string(cases.size()) +
                  "\" failures=\"" + std::to_string(f) + "\" errors=\"" + std::to_string(e) + "\" skipped=\"" +
                  std::to_string(s) + "\" time=\"" + seconds(t) + "\"" +
                  (timestamp.empty() ? "" : " timestamp=\"" + xml_escape(timestamp.substr(0, 19)) + "\"") + ">\n";
  x += "    <properties>\n";
  for (const auto& [k, v] : props)
    x += "      <property name=\"" + xml_escape(k) + "\" value=\"" + xml_escape(v) + "\"/>\n";
  x += "    </properties>\n";
  for (const auto& c : cases) {
    x += "    <testcase classname=\"" + xml_escape(c.classname) + "\" name=\"" + xml_escape(c.name) + "\" time=\"" +
         seconds(c.time) + "\"";
    x += c.body.empty() ? "/>\n" : ">" + c.body + "</testcase>\n";
  }
  x += "  </testsuite>\n";
  return x;
}

}  // namespace

std::string junit_xml(const Report& r) {
  std::string suites;
  int tests = 0, failures = 0, errors = 0, skipped = 0;
  double total = 0;
  auto account = [&](const std::vector<Case>& cases) {
    for (const auto& c : cases) {
      ++tests;
      failures += c.failures;
      errors += c.errors;
      skipped += c.skipped;
      total += c.time;
    }
  };
  for (const auto& n : r.nodes) {
    std::vector<Case> cases;
    std::string cls = "certify." + r.profile.name + "." + n.name;
    for (const auto& s : n.stages) cases.push_back(stage_case(cls, s, n.reasons));
    std::string ts = n.stages.empty() ? "" : n.stages.front().started_at;
    account(cases);
    suites += suite("node " + n.name, ts, cases,
                    {{"verdict", std::string(to_string(n.verdict))}, {"rack", n.rack}, {"profile", r.profile.name}});
  }
  for (const auto& k : r.racks) {
    std::vector<Case> cases;
    std::string cls = "certify." + r.profile.name + ".rack." + k.name;
    for (const auto& s : k.stages) cases.push_back(stage_case(cls, s, k.reasons));
    Case verdict{cls, "certified", "", 0};
    if (!k.certified) {
      std::string text;
      for (const auto& x : k.reasons)
        if (failing(x)) text += std::string(to_string(x.severity)) + " " + x.check + ": " + x.message + "\n";
      if (k.verdict == Verdict::fail) {
        verdict.failures = 1;
        verdict.body = "<failure message=\"rack " + xml_escape(k.name) + " is not certified (FAIL)\" type=\"rack\">" +
                       xml_escape(text) + "</failure>";
      } else {
        verdict.errors = 1;
        verdict.body = "<error message=\"rack " + xml_escape(k.name) + " is not certified (INCOMPLETE)\" type=\"INCOMPLETE\">" +
                       xml_escape(text) + "</error>";
      }
    }
    cases.push_back(verdict);
    account(cases);
    suites += suite("rack " + k.name, r.run.started_at, cases,
                    {{"verdict", std::string(to_string(k.verdict))}, {"certified", k.certified ? "true" : "false"}});
  }
  std::string head = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"aicloudctl certify " +
                     xml_escape(r.profile.name) + "\" tests=\"" + std::to_string(tests) + "\" failures=\"" +
                     std::to_string(failures) + "\" errors=\"" + std::to_string(errors) + "\" skipped=\"" +
                     std::to_string(skipped) + "\" time=\"" + seconds(total) + "\">\n";
  return head + suites + "</testsuites>\n";
}

}  // namespace aicloud::certify
