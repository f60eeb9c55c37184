#include "nccl_tests/fleet_launch.hpp"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <set>

#include "common/duration.hpp"
#include "common/error.hpp"
#include "common/hostinfo.hpp"
#include "common/interrupt.hpp"
#include "common/pipe_child.hpp"
#include "common/strings.hpp"
#include "common/term.hpp"
#include "fleet/exec.hpp"
#include "nccl_tests/external_launch.hpp"
#include "nccl_tests/localize_run.hpp"
#include "nccl_tests/nccl_env.hpp"
#include "nccl_tests/ssh_transport.hpp"
#include "nccl_tests/tcp_transport.hpp"

namespace aicloud::nccl_tests {

using json = nlohmann::ordered_json;

namespace {

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string first_line(const std::string& text) {
  std::string t(trim(text));
  auto nl = t.find('\n');
  return nl == std::string::npos ? t : t.substr(0, nl);
}

// The reason a setup command failed: its error, else its stderr.
std::string why(const fleet::HostResult& r) {
  if (!r.error.empty()) return r.error;
  std::string e = first_line(r.stderr_text);
  return e.empty() ? std::string(fleet::to_string(r.status)) : e;
}

// A setup step's result becomes the host's outcome when it is not ok.
void record_step(HostOutcome& h, const fleet::HostResult& r, const char* stage) {
  if (!r.host_key_sha256.empty()) h.host_key_sha256 = r.host_key_sha256;
  if (r.status == fleet::Status::ok) return;
  h.stage = stage;
  h.error = why(r);
  switch (r.status) {
    case fleet::Status::unreachable: h.status = "unreachable"; break;
    case fleet::Status::interrupted: h.status = "interrupted"; break;
    case fleet::Status::skipped: h.status = "skipped"; break;
    default: h.status = "failed"; break;
  }
}

bool setup_ok(const HostOutcome& h) { return h.stage.empty(); }

std::string progress_for(const Controller& ctl) {
  int hello = 0, ready = 0;
  for (const auto& r : ctl.ranks()) {
    hello += r.hello ? 1 : 0;
    ready += r.ready ? 1 : 0;
  }
  std::string s = "nccl: " + std::to_string(hello) + "/" + std::to_string(ctl.ranks().size()) + " ranks started, " +
                  std::to_string(ready) + " ready";
  if (!ctl.ranks().empty() && ctl.ranks().front().progress) {
    const auto& p = *ctl.ranks().front().progress;
    s += " · " + p.phase;
    if (p.bytes) s += " " + format_bytes(p.bytes);
    if (!p.placement.empty()) s += " " + p.placement;
  }
  return s;
}

std::string format_gbps(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f GB/s", v);
  return buf;
}

}  // namespace

bool needs_probe(const NcclOptions& o) { return o.ranks_per_node == 0 && parse_gpu_list(o.gpus).empty(); }

LaunchSpec plan_fleet_launch(const NcclOptions& o, const std::vector<std::string>& nodes,
                             const std::vector<int>& gpu_counts, std::vector<std::string>& node_errors) {
  NcclOptions v = o;
  v.root = 0;  // checked against the total rank count below
  // Flags first: invalid flags are invalid on every node (exit 2).
  LaunchSpec spec = make_launch_spec(v, {"(flags)"}, needs_probe(o) ? 1 : -1);
  spec.ranks.clear();
  node_errors.assign(nodes.size(), "");
  int rank = 0;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const int count = i < gpu_counts.size() ? gpu_counts[i] : -1;
    try {
      LaunchSpec one = make_launch_spec(v, {nodes[i]}, count);
      for (RankSpec r : one.ranks) {
        r.rank = rank++;
        spec.ranks.push_back(r);
      }
    } catch (const UsageError& e) {
      std::string msg = e.what();
      for (std::size_t at; (at = msg.find("this node")) != std::string::npos;) msg.replace(at, 9, nodes[i]);
      node_errors[i] = msg;
    }
  }
  return spec;
}

std::string remote_binary_path(const FleetLaunchOptions& o, const std::string& sha256) {
  if (!o.remote_binary.empty()) return o.remote_binary;
  std::string dir = o.remote_dir.empty() ? "." : o.remote_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir + "/aicloudctl-" + sha256.substr(0, 16);
}

std::vector<HostOutcome> FleetRun::failures() const {
  std::vector<HostOutcome> out;
  for (const auto& h : hosts)
    if (h.status == "failed" || h.status == "unreachable") out.push_back(h);
  return out;
}

json to_json(const HostOutcome& h) {
  json j;
  j["host"] = h.host;
  j["address"] = h.address;
  j["status"] = h.status;
  j["stage"] = h.stage.empty() ? json(nullptr) : json(h.stage);
  j["error"] = h.error.empty() ? json(nullptr) : json(h.error);
  j["ranks"] = h.ranks;
  j["gpus"] = h.gpus < 0 ? json(nullptr) : json(h.gpus);
  j["pushed"] = h.pushed;
  j["host_key_sha256"] = h.host_key_sha256.empty() ? json(nullptr) : json(h.host_key_sha256);
  return j;
}

int fleet_exit_code(const RunReport& report, const std::vector<HostOutcome>& hosts) {
  if (report.status == "interrupted" || interrupted()) return 130;
  bool failed = report.exit_code != 0, unreachable = false;
  for (const auto& h : hosts) {
    if (h.status == "unreachable") unreachable = true;
    if (h.status == "failed") failed = true;
    if (h.status == "interrupted") return 130;
  }
  return (failed ? 1 : 0) | (unreachable ? 4 : 0);
}

FleetRun run_fleet(fleet::Fleet& fl, const std::vector<std::size_t>& selected_in, const FleetLaunchOptions& o) {
  FleetRun run;
  const auto t0 = Clock::now();
  const std::string start_time = utc_now_iso();
  // Flags are checked before any host is touched.
  if (o.localize && o.nccl.dry_run) throw UsageError("--localize measures bandwidth; it cannot be a --dry-run");
  {
    std::vector<std::string> unused;
    plan_fleet_launch(o.nccl, {}, {}, unused);
  }
  std::vector<std::size_t> selected = selected_in;
  if (selected.empty())
    for (std::size_t i = 0; i < fl.size(); ++i) selected.push_back(i);
  const double setup_timeout = parse_duration(o.nccl.init_timeout).value_or(Seconds(120)).count();

  std::map<std::size_t, std::size_t> slot;  // fleet index -> position in run.hosts
  for (std::size_t k = 0; k < selected.size(); ++k) {
    const auto& t = fl.target(selected[k]);
    HostOutcome h;
    h.host = t.name;
    h.address = t.address.empty() ? t.name : t.address;
    h.status = "ok";
    run.hosts.push_back(h);
    slot[selected[k]] = k;
  }
  auto chosen = [&](std::size_t i) { return slot.count(i) && setup_ok(run.hosts[slot.at(i)]); };
  auto progress = [&](const char* what) {
    fleet::Fleet::RunOptions ro;
    ro.filter = chosen;
    if (o.show_progress && terminal().progress)
      ro.on_progress = [what](const fleet::Progress& p) { show_progress(fleet::progress_line(what, p)); };
    return ro;
  };

  // 1. Connect (sessions connected earlier are reused).
  {
    auto results = fl.connect_all(progress("nccl connect"));
    for (std::size_t i = 0; i < results.size(); ++i)
      if (slot.count(i)) record_step(run.hosts[slot[i]], results[i], "connect");
  }

  // 2. The binary, pushed unless the node already has it.
  std::string local = o.local_binary.empty() ? self_executable() : o.local_binary;
  if (local.empty()) throw Error("cannot find this program's own executable (/proc/self/exe)");
  std::optional<fleet::LocalFile> file;
  if (o.push || o.remote_binary.empty()) file.emplace(fleet::LocalFile::open(local));
  run.remote_binary = remote_binary_path(o, file ? file->sha256() : std::string(16, '0'));
  const std::string remote_q = shell_quote(run.remote_binary);
  if (o.push && !interrupted()) {
    fleet::PushOptions po;
    po.mode = 0755;
    po.timeout = Seconds(std::max(setup_timeout, 1.0));
    std::vector<char> pushed(fl.size(), 0);  // one element per host thread
    auto results = fl.run(
        [&](fleet::Session& s, std::size_t i) {
          fleet::HostResult r;
          fleet::PushResult p = s.push(*file, run.remote_binary, po);
          r.status = p.status;
          r.error = p.error;
          pushed[i] = p.changed ? 1 : 0;
          return r;
        },
        progress("nccl push"));
    for (std::size_t i = 0; i < results.size(); ++i)
      if (slot.count(i) && setup_ok(run.hosts[slot[i]])) {
        record_step(run.hosts[slot[i]], results[i], "push");
        run.hosts[slot[i]].pushed = pushed[i] != 0;
      }
  }

  // 3. GPUs per node, unless the flags say how many ranks each runs.
  std::vector<std::string> probe_error(fl.size());
  std::vector<int> gpus(fl.size(), -1);
  if (needs_probe(o.nccl) && !interrupted()) {
    auto results = fl.run(
        [&](fleet::Session& s, std::size_t i) {
          fleet::ExecOptions eo;
          eo.timeout = Seconds(std::max(setup_timeout, 1.0));
          fleet::ExecResult e = s.exec(remote_q + " nccl --probe", eo);
          fleet::HostResult r;
          r.status = e.status;
          r.error = e.error;
          r.stderr_text = e.stderr_text;
          if (e.status == fleet::Status::ok) {
            try {
              auto j = nlohmann::json::parse(first_line(e.stdout_text));
              gpus[i] = j.value("gpus", -1);
              probe_error[i] = j.value("error", std::string());
            } catch (const nlohmann::json::exception&) {
              r.status = fleet::Status::failed;
              r.error = "the GPU probe printed no JSON: " + first_line(e.stdout_text);
            }
          }
          return r;
        },
        progress("nccl probe"));
    for (std::size_t i = 0; i < results.size(); ++i)
      if (slot.count(i) && setup_ok(run.hosts[slot[i]])) {
        record_step(run.hosts[slot[i]], results[i], "probe");
        run.hosts[slot[i]].gpus = gpus[i];
      }
  }
  if (o.show_progress) clear_progress();

  // 4. The ranks of every node still in the run.
  std::vector<std::string> nodes;
  std::vector<int> counts;
  std::vector<std::size_t> node_index;  // fleet index of each node
  for (std::size_t i : selected)
    if (setup_ok(run.hosts[slot[i]])) {
      nodes.push_back(fl.target(i).name);
      counts.push_back(gpus[i]);
      node_index.push_back(i);
    }
  std::vector<std::string> node_errors;
  LaunchSpec spec = plan_fleet_launch(o.nccl, nodes, counts, node_errors);
  for (std::size_t n = 0; n < nodes.size(); ++n)
    if (!node_errors[n].empty()) {
      HostOutcome& h = run.hosts[slot[node_index[n]]];
      h.status = "failed";
      h.stage = "plan";
      h.error = node_errors[n] + (probe_error[node_index[n]].empty() ? "" : " (" + probe_error[node_index[n]] + ")");
    }
  if (o.forward_env)
    for (const auto& [k, v] : allowed_env_of_process())
      if (starts_with(k, "NCCL_") && !spec.env.count(k)) spec.env[k] = v;

  std::vector<Problem> host_problems;
  for (const auto& h : run.hosts)
    if (!setup_ok(h) && h.status != "skipped")
      host_problems.push_back({-1, h.stage, h.status == "unreachable" ? "unreachable" : h.status == "interrupted" ? "interrupted" : "setup",
                               h.host + ": " + h.error});
  // Any host not ready (failed, unreachable, or skipped by --max-fail or
  // Ctrl-C) keeps a benchmark from starting: its numbers would not be the rack's.
  const bool any_failed = std::any_of(run.hosts.begin(), run.hosts.end(), [](const HostOutcome& h) { return !setup_ok(h); });
  bool launch = !spec.ranks.empty() && !interrupted() && (o.nccl.dry_run || !any_failed);
  if (launch && (o.nccl.root < 0 || o.nccl.root >= static_cast<int>(spec.ranks.size()))) {
    host_problems.push_back({-1, "plan", "setup",
                             "--root " + std::to_string(o.nccl.root) + " is not a rank (0.." +
                                 std::to_string(spec.ranks.size() - 1) + ")"});
    launch = false;
  }
  if (!launch && spec.ranks.empty() && host_problems.empty())
    host_problems.push_back({-1, "plan", "setup", "no host left to run on"});

  std::map<std::string, std::string> report_env = allowed_env_of_process();
  for (const auto& [k, v] : spec.env)
    if (env_allowed(k)) report_env[k] = v;

  std::map<std::string, std::size_t> index_of_node;
  for (std::size_t n = 0; n < nodes.size(); ++n) index_of_node[nodes[n]] = node_index[n];
  const std::string worker_command = "exec " + remote_q + " nccl --worker";
  json localization;
  if (launch && o.localize) {
    // 5'. Localisation: rounds of sub-group launches over the same sessions.
    std::vector<std::string> loc_nodes;
    int per_node = 0;
    for (std::size_t n = 0; n < nodes.size(); ++n) {
      int k = 0;
      for (const auto& r : spec.ranks) k += r.node == nodes[n] ? 1 : 0;
      if (!k) continue;
      loc_nodes.push_back(nodes[n]);
      per_node = per_node ? std::min(per_node, k) : k;
    }
    const std::uint64_t size = o.localize_size ? o.localize_size : spec.plan.sizes.back();
    localize::RunOptions lo;
    lo.size = size;
    lo.on_round = [&](int round, const std::vector<std::string>& ids) {
      if (o.show_progress && terminal().progress)
        show_progress("nccl localize: round " + std::to_string(round + 1) + ", " + std::to_string(ids.size()) +
                      " groups (" + ids.front() + (ids.size() > 1 ? ", ..." : "") + ")");
    };
    auto runner = [&](const std::vector<LaunchSpec>& launches) {
      std::vector<std::unique_ptr<Controller>> controllers;
      std::vector<std::unique_ptr<SshTransport>> transports;
      std::vector<DriveTarget> targets;
      const auto t1 = Clock::now();
      const std::string st = utc_now_iso();
      for (const auto& l : launches) {
        std::vector<SshTransport::Rank> ranks;
        for (const auto& r : l.ranks) ranks.push_back({fl.session(index_of_node[r.node]), worker_command});
        controllers.push_back(std::make_unique<Controller>(l, Clock::now()));
        transports.push_back(std::make_unique<SshTransport>(ranks));
        targets.push_back({controllers.back().get(), transports.back().get()});
      }
      drive_many(targets);
      std::vector<RunReport> reports;
      for (const auto& c : controllers)
        reports.push_back(build_report(*c, report_env, st, utc_now_iso(), seconds_since(t1)));
      return reports;
    };
    localize::Outcome lr = localize::run_localize(loc_nodes, per_node, spec, runner, lo);
    if (o.show_progress) clear_progress();
    localization = localize::localization_json(lr, size);
    run.report.launch = localize::localize_base(spec, size);
    run.report.env = report_env;
    run.report.start_time = start_time;
    run.report.end_time = utc_now_iso();
    run.report.duration_s = seconds_since(t0);
    bool all_ok = true;
    for (const auto& m : lr.measurements) all_ok = all_ok && m.ok && m.wrong == 0;
    for (const auto& f : lr.attribution.findings) run.report.problems.push_back({-1, "localize", f.kind, f.summary});
    run.report.status = lr.interrupted ? "interrupted" : all_ok && lr.attribution.findings.empty() ? "ok" : "failed";
    run.report.exit_code = lr.interrupted ? 130 : run.report.status == "ok" ? 0 : 1;
    const bool none_ok = std::none_of(lr.measurements.begin(), lr.measurements.end(),
                                      [](const localize::Measurement& m) { return m.ok; });
    for (std::size_t n = 0; n < nodes.size(); ++n) {
      HostOutcome& h = run.hosts[slot[node_index[n]]];
      if (!setup_ok(h)) continue;
      if (none_ok && !lr.measurements.empty()) {
        // Every group failed: each host with the first error of a group it was in.
        h.status = "failed";
        h.stage = "localize";
        for (std::size_t g = 0; g < lr.groups.size() && h.error.empty(); ++g)
          for (int member : lr.groups[g].nodes)
            if (lr.plan.nodes[static_cast<std::size_t>(member)] == h.host) h.error = lr.measurements[g].error;
        if (h.error.empty()) h.error = "no localisation group completed";
        continue;
      }
      for (const auto& f : lr.attribution.findings)
        if (f.node >= 0 && lr.plan.nodes[static_cast<std::size_t>(f.node)] == h.host) {
          h.status = "failed";
          h.stage = "localize";
          h.error = f.summary;
          break;
        }
    }
  } else if (launch) {
    // 5. One exec channel per rank, all driven from this thread.
    std::vector<SshTransport::Rank> ranks;
    for (const auto& r : spec.ranks) {
      std::size_t i = index_of_node[r.node];
      ranks.push_back({fl.session(i), worker_command});
      run.hosts[slot[i]].ranks.push_back(r.rank);
    }
    Controller c(spec, Clock::now());
    SshTransport transport(ranks);
    drive(c, transport, [&](const Controller& ctl) {
      if (o.show_progress && terminal().progress) show_progress(progress_for(ctl));
    });
    if (o.show_progress) clear_progress();
    run.report = build_report(c, report_env, start_time, utc_now_iso(), seconds_since(t0));

    // Per host: lost connections, then the problems that name its ranks.
    for (std::size_t n = 0; n < nodes.size(); ++n) {
      HostOutcome& h = run.hosts[slot[node_index[n]]];
      if (!setup_ok(h)) continue;
      for (int r : h.ranks)
        if (transport.end_status(r) == fleet::Status::unreachable) {
          h.status = "unreachable";
          h.stage = "run";
          h.error = "rank " + std::to_string(r) + ": " + transport.end_error(r);
          break;
        }
      if (!h.stage.empty()) continue;
      for (const auto& p : run.report.problems)
        if (p.rank >= 0 && std::find(h.ranks.begin(), h.ranks.end(), p.rank) != h.ranks.end() &&
            p.kind != "interrupted") {
          h.status = "failed";
          h.stage = "run";
          h.error = p.message;
          break;
        }
      if (!h.stage.empty()) continue;
      if (c.interrupted()) {
        h.status = "interrupted";
        h.stage = "run";
        h.error = "interrupted (Ctrl-C)";
      } else if (c.aborting()) {
        h.status = "aborted";
        h.stage = "run";
        h.error = "stopped because another rank failed";
      }
    }
  } else {
    // Nothing was launched: the report carries the plan and the reasons.
    run.report.launch = spec;
    run.report.launch.ranks.clear();
    run.report.env = report_env;
    run.report.start_time = start_time;
    run.report.end_time = utc_now_iso();
    run.report.duration_s = seconds_since(t0);
    const bool intr = interrupted();
    run.report.status = intr ? "interrupted" : "failed";
    run.report.exit_code = intr ? 130 : 1;
    for (auto& h : run.hosts)
      if (setup_ok(h)) {
        h.status = intr ? "interrupted" : "skipped";
        h.stage = intr ? "launch" : "";
        h.error = intr ? "interrupted (Ctrl-C) before the launch" : "not launched: other hosts failed before the launch";
      }
    if (intr) run.report.problems.push_back({-1, "launch", "interrupted", "interrupted (Ctrl-C) before the launch"});
  }
  run.report.problems.insert(run.report.problems.begin(), host_problems.begin(), host_problems.end());
  run.exit_code = fleet_exit_code(run.report, run.hosts);
  if (run.exit_code != 0 && run.report.status == "ok") run.report.status = "failed";
  run.report.exit_code = run.exit_code;

  run.document = report_to_json(run.report);
  run.document["launcher"] = {{"kind", "ssh"}, {"remote_binary", run.remote_binary}};
  if (!localization.is_null()) run.document["localization"] = localization;
  json hosts = json::array(), failures = json::array();
  for (const auto& h : run.hosts) {
    hosts.push_back(to_json(h));
    if (h.status == "failed" || h.status == "unreachable") failures.push_back(to_json(h));
  }
  run.document["hosts"] = hosts;
  run.document["host_failures"] = failures;
  return run;
}

int run_nccl_fleet(const fleet::ConnectionOptions& connection, const FleetLaunchOptions& options, bool json_out,
                   bool verbose) {
  fleet::validate(connection);
  {
    std::vector<std::string> unused;
    plan_fleet_launch(options.nccl, {}, {}, unused);  // flag errors before loading anything
  }
  fleet::Selection sel = fleet::load_selection(connection);
  if (connection.host_key_policy == fleet::HostKeyPolicy::off)
    print_warning("--host-key-policy off: host keys are not checked");
  fleet::Fleet fl(sel.targets, connection);
  FleetLaunchOptions o = options;
  o.show_progress = true;
  FleetRun run = run_fleet(fl, {}, o);
  fl.close();
  if (json_out) {
    std::cout << fleet::dump_json(nlohmann::json(run.document)) << "\n";
  } else {
    if (!run.report.ranks.empty())
      std::cout << (run.report.launch.dry_run ? format_dry_run(run.report) : format_table(run.report, verbose));
    if (run.document.contains("localization")) {
      const json& l = run.document["localization"];
      std::cout << "localize: " << l["rounds"].get<int>() << " rounds, " << l["groups"].size()
                << " groups, all_reduce of " << format_bytes(l["size"].get<std::uint64_t>()) << "\n";
      for (const auto& g : l["groups"])
        if (g["verdict"] != "ok" || verbose)
          std::cout << "  " << g["id"].get<std::string>() << ": " << g["verdict"].get<std::string>()
                    << (g["busbw_gbps"].is_number() ? " " + format_gbps(g["busbw_gbps"].get<double>()) : std::string())
                    << (g["error"].is_string() ? " (" + g["error"].get<std::string>() + ")" : std::string()) << "\n";
      for (const auto& f : l["findings"]) {
        std::cout << "finding: " << f["summary"].get<std::string>() << "\n";
        for (const auto& e : f["evidence"]) std::cout << "  " << e.get<std::string>() << "\n";
      }
      if (l["findings"].empty()) std::cout << "localize: no bad node, GPU, rail or link found\n";
    }
    std::size_t ok = 0;
    std::map<std::string, std::size_t> counts;
    for (const auto& h : run.hosts) {
      ++counts[h.status];
      if (h.status == "ok") ++ok;
      else
        std::cout << "host " << h.host << ": " << h.status << (h.stage.empty() ? "" : " (" + h.stage + ")")
                  << (h.error.empty() ? "" : ": " + h.error) << "\n";
    }
    std::string line = std::to_string(run.hosts.size()) + " hosts:";
    bool first = true;
    for (const auto& [status, n] : counts) {
      line += std::string(first ? " " : ", ") + std::to_string(n) + " " + status;
      first = false;
    }
    if (run.report.ranks.empty() && !run.document.contains("localization")) line += "; nothing was launched";
    std::cout << line << "\nnccl: " << run.report.status << "\n";
  }
  std::cout.flush();
  return run.exit_code;
}

}  // namespace aicloud::nccl_tests

namespace aicloud::nccl_tests {

namespace {

std::string random_token() {
  std::random_device rd;
  std::string t;
  for (int i = 0; i < 4; ++i) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%08x", rd());
    t += buf;
  }
  return t;
}

}  // namespace

int run_nccl_external(const fleet::ConnectionOptions& connection, const FleetLaunchOptions& options,
                      const ExternalOptions& external, bool json_out, bool verbose) {
  const Launcher kind = parse_launcher(external.launcher);
  if (kind == Launcher::ssh && external.print_command) {
    // What runs on each node: one such channel per rank.
    fleet::Selection sel = fleet::load_selection(connection);
    std::string local = options.local_binary.empty() ? self_executable() : options.local_binary;
    std::string sha = options.remote_binary.empty() ? fleet::LocalFile::open(local).sha256() : std::string(16, '0');
    const std::string cmd = "exec " + shell_quote(remote_binary_path(options, sha)) + " nccl --worker";
    const std::string per = needs_probe(options.nccl) ? "one per GPU" : "per --ranks-per-node/--gpus";
    for (const auto& t : sel.targets) std::cout << fleet::describe(t) << ": " << cmd << "   # " << per << "\n";
    return 0;
  }
  if (kind == Launcher::ssh) return run_nccl_fleet(connection, options, json_out, verbose);
  if (options.localize) throw UsageError("--localize runs over SSH only (--launcher ssh)");
  if (needs_probe(options.nccl))
    throw UsageError("--launcher " + std::string(to_string(kind)) +
                     " needs --ranks-per-node N or --gpus LIST (GPU counts are probed over SSH only)");
  std::vector<std::string> unused;
  plan_fleet_launch(options.nccl, {}, {}, unused);
  fleet::Selection sel = fleet::load_selection(connection);
  std::vector<std::string> nodes;
  for (const auto& t : sel.targets) nodes.push_back(t.name);
  std::vector<std::string> node_errors;
  LaunchSpec spec = plan_fleet_launch(options.nccl, nodes, std::vector<int>(nodes.size(), -1), node_errors);
  if (options.nccl.root >= static_cast<int>(spec.ranks.size()))
    throw UsageError("--root " + std::to_string(options.nccl.root) + " is not a rank (0.." +
                     std::to_string(spec.ranks.size() - 1) + ")");
  if (options.forward_env)
    for (const auto& [k, v] : allowed_env_of_process())
      if (starts_with(k, "NCCL_") && !spec.env.count(k)) spec.env[k] = v;

  ExternalLaunch el;
  for (const auto& t : sel.targets) {
    el.hosts.push_back(t.address.empty() ? t.name : t.address);
    int k = 0;
    for (const auto& r : spec.ranks) k += r.node == t.name ? 1 : 0;
    el.slots.push_back(k);
  }
  el.binary = options.remote_binary.empty() ? self_executable() : options.remote_binary;
  el.env = forwarded_env({}, spec.env);
  el.launcher_path = external.launcher_path;
  const std::string address = external.controller_address.empty() ? host_name() : external.controller_address;
  auto command_for = [&](const std::string& port, const std::string& token) {
    ExternalLaunch l = el;
    l.worker_args = {"nccl", "--worker", "--connect", address + ":" + port, "--token", token};
    return kind == Launcher::mpirun ? mpirun_command(l) : srun_command(l);
  };
  if (external.print_command) {
    std::cout << shell_join(command_for("PORT", "TOKEN")) << "\n";
    return 0;
  }

  const std::string token = random_token();
  TcpTransport transport(static_cast<int>(spec.ranks.size()), token);
  const std::vector<std::string> argv = command_for(std::to_string(transport.port()), token);
  const auto t0 = Clock::now();
  const std::string start_time = utc_now_iso();
  Controller c(spec, t0);
  std::string err;
  if (!transport.start_launcher(argv, err)) throw Error("cannot start " + argv.front() + ": " + err);
  drive(c, transport, [](const Controller& ctl) {
    if (terminal().progress) show_progress(progress_for(ctl));
  });
  clear_progress();
  std::map<std::string, std::string> report_env = allowed_env_of_process();
  for (const auto& [k, v] : spec.env)
    if (env_allowed(k)) report_env[k] = v;
  RunReport report = build_report(c, report_env, start_time, utc_now_iso(), seconds_since(t0));
  if (json_out) {
    json doc = report_to_json(report);
    doc["launcher"] = {{"kind", std::string(to_string(kind))}, {"command", argv}};
    std::cout << fleet::dump_json(nlohmann::json(doc)) << "\n";
  } else {
    std::cout << (report.launch.dry_run ? format_dry_run(report) : format_table(report, verbose));
  }
  std::cout.flush();
  return report.exit_code;
}

}  // namespace aicloud::nccl_tests
