// certify and report, read top to bottom like the job: check the
// invocation, load the profile, describe the machines, run the pipeline,
// write the report and the JUnit file, print the verdict.
#include "certify/commands.hpp"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <iostream>
#include <map>
#include <memory>
#include <optional>

#include "certify/fleet_exec.hpp"
#include "certify/ingest.hpp"
#include "certify/judge.hpp"
#include "certify/pipeline.hpp"
#include "certify/present.hpp"
#include "certify/profile.hpp"
#include "certify/report.hpp"
#include "certify/sshsig.hpp"
#include "common/error.hpp"
#include "common/files.hpp"
#include "common/interrupt.hpp"
#include "common/sha256.hpp"
#include "common/strings.hpp"
#include "common/term.hpp"
#include "fleet/exec.hpp"
#include "inventory/inventory.hpp"
#include "inventory/nodeset.hpp"
#include "nccl_tests/fleet_launch.hpp"

namespace aicloud::certify {

using nlohmann::json;

namespace {

std::string hostname() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof buf - 1) != 0 || !*buf) return "localhost";
  return buf;
}

std::string user_name() {
  if (const char* u = std::getenv("USER"); u && *u) return u;
  if (struct passwd* pw = ::getpwuid(::getuid()); pw && pw->pw_name) return pw->pw_name;
  return std::to_string(::getuid());
}

std::vector<std::string> own_command_line() {
  std::vector<std::string> out;
  try {
    std::string raw;
    FILE* f = std::fopen("/proc/self/cmdline", "rb");
    if (!f) return out;
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) raw.append(buf, n);
    std::fclose(f);
    for (const auto& a : split(raw, '\0')) out.push_back(a);
    if (!out.empty() && out.back().empty()) out.pop_back();
  } catch (...) {
  }
  return out;
}

// The folder of an output path must exist and be writable, before anything runs.
void check_writable(const std::string& path, const char* flag) {
  if (path.empty() || path == "-") return;
  std::string dir = dirname_of(path);
  if (!file_exists(dir)) throw UsageError(std::string(flag) + " " + path + ": the folder " + dir + " does not exist");
  if (::access(dir.c_str(), W_OK) != 0) throw UsageError(std::string(flag) + " " + path + ": the folder " + dir + " is not writable");
}

std::string default_output() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return "aicloudctl-certify-" + hostname() + "-" + buf + ".json";
}

// The node a replay folder was recorded on: facts.txt's hostname, else
// health.json's host, else this machine's name.
std::string replay_host(const std::string& dir) {
  try {
    if (file_exists(dir + "/facts.txt")) {
      json f = parse_node_facts(read_text_file(dir + "/facts.txt"));
      if (f["hostname"].is_string()) return f["hostname"].get<std::string>();
    }
    if (file_exists(dir + "/health.json")) {
      json h = json::parse(read_text_file(dir + "/health.json"));
      if (h.is_object() && h.contains("host") && h["host"].is_string() && !h["host"].get<std::string>().empty())
        return h["host"].get<std::string>();
    }
  } catch (const std::exception&) {
  }
  return hostname();
}

// --profile auto: ask health which GPU this is and pick the shipped profile.
Profile resolve_auto(NodeExecutor& exec, const NodeRecord& node, std::string& note) {
  show_progress("certify: detecting the GPU model for --profile auto");
  CommandResult c = exec.run_tool(node, "health", health_args(), Seconds(120));
  clear_progress();
  std::string why;
  HealthView h;
  try {
    h = parse_health(json::parse(c.stdout_text));
  } catch (const json::exception&) {
    h.problem = "no JSON result";
  }
  if (h.problem.empty() && !h.gpus.empty()) {
    if (auto name = profile_for_gpu(h.gpus.front().name)) {
      print_info("certify: --profile auto: " + h.gpus.front().name + " -> " + *name);
      return load_profile(*name);
    }
    note = "--profile auto: no shipped profile matches GPU '" + h.gpus.front().name + "' (shipped: " +
           join(shipped_profile_names(), ", ") + "); pass --profile NAME|FILE";
    return unmatched_profile();
  }
  if (h.problem.empty()) {
    std::vector<std::string> failed;
    for (const auto& f : h.findings)
      if (f.verdict == "FAIL") failed.push_back(f.check);
    why = failed.empty() ? "health found no GPU" : "health FAILed: " + join(failed, ", ") + "; see the health stage";
  } else {
    std::string err = c.error.empty() ? c.stderr_text : c.error;
    auto lines = split(err, '\n', false);
    why = "health gave no result" + (lines.empty() ? std::string() : ": " + std::string(trim(lines.back())));
  }
  note = "--profile auto: no NVIDIA GPU was found (" + why + "); nothing can be certified";
  return unmatched_profile();
}

// Fleet mode: the selected inventory hosts as report nodes and SSH targets.
struct FleetHosts {
  std::vector<NodeRecord> nodes;
  std::vector<fleet::Target> targets;
  std::string inventory_sha256;
  std::string format;  // "native" or "ansible"
  // For --profile auto: shipped profile -> hosts the inventory says are of
  // that SKU; hosts it says nothing usable about.
  std::map<std::string, std::vector<std::string>> skus;
  std::vector<std::string> unknown_sku;
};

// The shipped profile an inventory host names: its `sku` label (a shipped
// profile name), else its hardware.gpu_model as the prefix of exactly one
// shipped name ("H100-SXM" -> h100-sxm-8gpu) or an NVML name one matches.
std::optional<std::string> inventory_sku(const inventory::Host& h) {
  const auto names = shipped_profile_names();
  auto shipped = [&](const std::string& n) { return std::find(names.begin(), names.end(), n) != names.end(); };
  if (auto it = h.labels.find("sku"); it != h.labels.end() && shipped(it->second)) return it->second;
  if (h.hardware.gpu_model.empty()) return std::nullopt;
  std::string model = to_lower(h.hardware.gpu_model);
  std::replace(model.begin(), model.end(), ' ', '-');
  std::vector<std::string> hits;
  for (const auto& n : names)
    if (starts_with(n, model + "-")) hits.push_back(n);
  if (hits.size() == 1) return hits[0];
  return profile_for_gpu(h.hardware.gpu_model);
}

// `names` set (--resume): exactly those hosts, which must all still be in
// the inventory; otherwise the hosts --limit selects.
FleetHosts fleet_hosts(const fleet::ConnectionOptions& c, const std::vector<std::string>* names) {
  FleetHosts out;
  inventory::Inventory inv;
  if (names) {
    inv = inventory::load_inventory(c.inventory);
    std::vector<const inventory::Host*> hosts;
    for (const auto& name : *names) {
      const inventory::Host* h = inv.find(name);
      if (!h) throw UsageError("--resume: host " + name + " of the report is no longer in " + c.inventory);
      hosts.push_back(h);
    }
    out.targets = fleet::targets_from_hosts(inv, hosts);
  } else {
    fleet::Selection sel = fleet::load_selection(c);
    inv = std::move(sel.inventory);
    out.targets = std::move(sel.targets);
  }
  out.format = inv.format == inventory::Format::ansible ? "ansible" : "native";
  out.inventory_sha256 = sha256_hex(read_text_file(c.inventory, inventory::k_max_inventory_bytes));
  for (const auto& t : out.targets) {
    const inventory::Host* h = inv.find(t.name);
    NodeRecord n;
    n.name = t.name;
    n.address = t.address.empty() ? t.name : t.address;
    n.rack = h && !h->rack.empty() ? h->rack : "default";
    n.site = h ? h->site : "";
    if (auto sku = h ? inventory_sku(*h) : std::nullopt) out.skus[*sku].push_back(t.name);
    else out.unknown_sku.push_back(t.name);
    if (h) {
      n.expected.gpu_model = h->hardware.gpu_model;
      n.expected.gpu_count = h->hardware.gpu_count;
      n.expected.nics = h->hardware.nics;
    }
    out.nodes.push_back(std::move(n));
  }
  return out;
}

void list_profiles(bool as_json) {
  json all = json::array();
  for (const auto& name : shipped_profile_names()) {
    Profile p = load_profile(name);
    all.push_back({{"name", name}, {"description", p.description}, {"gpu_models", p.gpu_models},
                   {"gpu_count", p.gpu_count}, {"sha256", p.sha256}});
  }
  if (as_json) {
    std::cout << all.dump(2) << "\n";
    return;
  }
  for (const auto& p : all)
    std::cout << p["name"].get<std::string>() << std::string(18 - std::min<std::size_t>(17, p["name"].get<std::string>().size()), ' ')
              << p["description"].get<std::string>() << "\n";
}

}  // namespace

namespace {

// The rack NCCL stage over the fleet's sessions: nccl_tests::run_fleet with
// the profile level's collectives and size, on the binary the deploy stage
// already put on every node (no second push).
RackNcclResult run_rack_nccl_over_fleet(const RackNcclRequest& r) {
  RackNcclResult out;
  if (!r.fleet) {
    out.error = "inter-node NCCL needs the SSH sessions of fleet mode (certify -i)";
    return out;
  }
  nccl_tests::FleetLaunchOptions o;
  o.nccl.collectives = r.nccl.collectives;
  o.nccl.min_bytes = o.nccl.max_bytes = std::to_string(r.nccl.size_bytes);
  o.nccl.iterations = r.nccl.iters;
  o.nccl.warmup = r.nccl.warmup;
  // One size is measured: each row may use most of the stage's deadline.
  auto row_s = std::max<long long>(60, static_cast<long long>(r.timeout.count() * 0.8));
  o.nccl.timeout = std::to_string(row_s) + "s";
  o.nccl.init_timeout = std::to_string(std::min<long long>(row_s, 300)) + "s";
  o.remote_binary = r.remote_binary;
  o.push = false;
  out.command = "aicloudctl nccl -i <inventory> --limit " + join(r.hosts, ",") + " -c " + join(r.nccl.collectives, ",") +
                " -b " + o.nccl.min_bytes + " -e " + o.nccl.max_bytes + " -n " + std::to_string(o.nccl.iterations) +
                " -w " + std::to_string(o.nccl.warmup) + " --remote-binary " + r.remote_binary;
  nccl_tests::FleetRun run = nccl_tests::run_fleet(*r.fleet, r.fleet_index, o);
  out.document = nlohmann::json(run.document);  // ordered_json -> json, no text round trip
  for (const auto& h : run.failures())
    out.host_failures[h.host] = h.status + (h.stage.empty() ? "" : " (" + h.stage + ")") + ": " + h.error;
  if (!out.document.is_object()) out.error = "the NCCL fleet launcher returned no document";
  return out;
}

}  // namespace

int certify_command(const CertifyOptions& o) {
  if (o.list_profiles) {
    list_profiles(o.json);
    return 0;
  }
  if (o.check_profile) {
    if (o.profile.empty()) throw UsageError("--check-profile needs --profile NAME|FILE");
    Profile p = load_profile(o.profile);
    if (!o.level.empty()) (void)p.level(o.level);
    json j = {{"name", p.name}, {"sha256", p.sha256}, {"resolved", profile_to_json(p)}, {"sources", json::array()}};
    for (const auto& s : p.sources) j["sources"].push_back({{"origin", s.origin}, {"sha256", s.sha256}});
    if (o.json) std::cout << j.dump(2) << "\n";
    else std::cout << "profile " << p.name << " is valid (sha256 " << p.sha256 << ")\n" << j["resolved"].dump(2) << "\n";
    return 0;
  }

  // 1. Which machines: this one (--local, --replay), or inventory hosts over SSH.
  const fleet::ConnectionOptions& conn = o.connection;
  bool fleet_mode = !conn.inventory.empty();
  if (o.local && fleet_mode)
    throw UsageError("--local certifies this machine; -i INVENTORY certifies a rack over SSH: give one of them");
  if (!o.local && !fleet_mode && o.resume.empty())
    throw UsageError("certify needs -i INVENTORY (a rack, over SSH) or --local (this machine)");
  if (!conn.limit.empty() && !fleet_mode && o.resume.empty())
    throw UsageError("--limit selects inventory hosts; it needs -i INVENTORY");
  if (!o.level.empty() && o.level != "quick" && o.level != "standard" && o.level != "burnin") {
    std::string msg = "--level " + o.level + ": expected quick, standard or burnin";
    if (auto g = did_you_mean(o.level, {"quick", "standard", "burnin"})) msg += " (did you mean '" + *g + "'?)";
    throw UsageError(msg);
  }
  if (!o.replay.empty() && fleet_mode) throw UsageError("--replay judges recorded outputs of this machine; it excludes -i INVENTORY");
  if (!o.replay.empty() && !file_exists(o.replay + "/."))
    throw UsageError("--replay " + o.replay + ": not a folder of recorded outputs");

  if (!o.node_binary.empty() && !o.replay.empty()) throw UsageError("--node-binary and --replay exclude each other");
  if (!o.node_binary.empty() && ::access(o.node_binary.c_str(), X_OK) != 0)
    throw UsageError("--node-binary " + o.node_binary + ": not an executable file");

  // 2. The report: a new one, or the one we resume.
  Report report;
  Profile profile;
  std::unique_ptr<NodeExecutor> exec;
  FleetExecutor* fleet_exec = nullptr;
  std::string out = o.output;
  auto start_fleet = [&](const FleetHosts& hosts, const fleet::ConnectionOptions& c) {
    if (c.host_key_policy == fleet::HostKeyPolicy::off)
      print_warning("--host-key-policy off: host keys are not checked, so any machine on the path can pose as these hosts");
    auto fe = std::make_unique<FleetExecutor>(hosts.targets, c, o.node_binary);
    if (terminal().progress)
      fe->on_connect_progress([](const fleet::Progress& p) {
        if (p.done == p.total) clear_progress();
        else show_progress(fleet::progress_line("certify: connecting", p));
      });
    fleet_exec = fe.get();
    exec = std::move(fe);
  };
  if (!o.resume.empty()) {
    report = load_report(o.resume);
    if (!report.profile.note.empty()) profile = unmatched_profile();
    else if (o.profile.empty()) profile = profile_from_json(report.profile.resolved, o.resume + " (profile)");
    else profile = load_profile(o.profile);
    std::string inventory_sha256 = report.inventory.sha256;
    if (report.run.mode == "fleet") {
      // The same hosts, reached the way this invocation says (known_hosts,
      // identities...), from the inventory the report names unless -i says.
      fleet::ConnectionOptions c = conn;
      if (c.inventory.empty()) c.inventory = report.inventory.path;
      if (!c.limit.empty() && c.limit != report.run.selector)
        throw UsageError("--resume: the report selected '" + report.run.selector + "', not '" + c.limit +
                         "'; resume without --limit or start a new certification");
      c.limit = report.run.selector;
      fleet::validate(c);
      std::vector<std::string> names;
      for (const auto& n : report.nodes) names.push_back(n.name);
      FleetHosts hosts = fleet_hosts(c, &names);
      inventory_sha256 = hosts.inventory_sha256;
      check_resume_compatible(report, profile, inventory_sha256);
      start_fleet(hosts, c);
      // One certification runs one aicloudctl on its nodes: stages already
      // done were measured by the deployed binary, so the rest must be too.
      for (const auto& n : report.nodes)
        if (const StageRecord* d = n.stage("deploy"); d && d->status == StageStatus::done && d->data.is_object()) {
          std::string sha = d->data.value("sha256", "");
          if (!sha.empty() && sha != fleet_exec->binary_sha256())
            throw UsageError("--resume: " + n.name + " ran aicloudctl sha256 " + sha.substr(0, 16) + ", but this one (" +
                             (o.node_binary.empty() ? "the running binary" : o.node_binary) + ") is " +
                             fleet_exec->binary_sha256().substr(0, 16) +
                             "; resume with the same binary (--node-binary) or start a new certification");
        }
    } else {
      if (fleet_mode || !conn.limit.empty())
        throw UsageError("--resume: " + o.resume + " certified one machine (" + report.run.mode +
                         " mode), not inventory hosts; resume it without -i/--limit");
      check_resume_compatible(report, profile, inventory_sha256);
      if (o.replay.empty()) exec = std::make_unique<LocalExecutor>(o.node_binary);
      else exec = std::make_unique<ReplayExecutor>(o.replay);
    }
    if (!o.level.empty() && o.level != report.run.level)
      throw UsageError("--resume: the report ran level " + report.run.level + ", not " + o.level);
    if (out.empty()) out = o.resume;
    check_writable(out, "-o");
    check_writable(o.junit, "--junit");
    auto planned = plan_resume(report);
    if (planned.empty()) {
      print_info("certify: nothing to resume: every stage of " + o.resume + " finished");
    } else {
      print_info("certify: resuming " + o.resume + ": " + std::to_string(planned.size()) + " stage" +
                 (planned.size() == 1 ? "" : "s") + " to run (" + join(planned, ", ") + ")");
    }
  } else if (fleet_mode) {
    fleet::validate(conn);
    FleetHosts hosts = fleet_hosts(conn, nullptr);
    std::string spec = o.profile.empty() ? "auto" : o.profile;
    if (spec == "auto") {
      // From the inventory (sku label or gpu_model), never by guessing from
      // one node: every selected host must name the same shipped profile.
      if (!hosts.unknown_sku.empty())
        throw UsageError("--profile auto: the inventory does not say which SKU " + inventory::fold_nodeset(hosts.unknown_sku) +
                         (hosts.unknown_sku.size() == 1 ? " is" : " are") +
                         " (a `sku` label naming a shipped profile, or hardware.gpu_model); pass --profile NAME|FILE "
                         "(see --list-profiles)");
      if (hosts.skus.size() > 1) {
        std::vector<std::string> parts;
        for (const auto& [sku, names] : hosts.skus) parts.push_back(sku + ": " + inventory::fold_nodeset(names));
        throw UsageError("--profile auto: the selected hosts are of different SKUs (" + join(parts, "; ") +
                         "); certify each SKU with its own --limit, or pass --profile");
      }
      spec = hosts.skus.begin()->first;
      print_info("certify: --profile auto: " + spec + " (from the inventory)");
    }
    profile = load_profile(spec);
    const Level& level = profile.level(o.level);
    if (out.empty()) out = default_output();
    check_writable(out, "-o");
    check_writable(o.junit, "--junit");
    start_fleet(hosts, conn);
    report = new_report(profile, level, hosts.nodes, exec->mode());
    report.inventory.path = conn.inventory;
    report.inventory.sha256 = hosts.inventory_sha256;
    report.inventory.format = hosts.format;
    report.run.selector = conn.limit;
    report.profile.spec = o.profile.empty() ? "auto" : o.profile;
    report.run.operator_name = user_name() + "@" + hostname();
    report.run.controller = hostname();
    report.run.command_line = own_command_line();
  } else {
    if (o.replay.empty()) exec = std::make_unique<LocalExecutor>(o.node_binary);
    else exec = std::make_unique<ReplayExecutor>(o.replay);
    if (out.empty()) out = default_output();
    check_writable(out, "-o");
    check_writable(o.junit, "--junit");
    NodeRecord node;
    node.name = o.replay.empty() ? hostname() : replay_host(o.replay);
    node.address = "localhost";
    node.rack = "local";
    std::string note;
    std::string spec = o.profile.empty() ? "auto" : o.profile;
    profile = spec == "auto" ? resolve_auto(*exec, node, note) : load_profile(spec);
    if (interrupted()) {
      print_warning("interrupted before the certification started; nothing was written");
      return 130;
    }
    const Level& level = profile.level(o.level);
    report = new_report(profile, level, {node}, exec->mode());
    report.inventory.format = "local";
    report.profile.spec = spec;
    report.profile.note = note;
    report.run.operator_name = user_name() + "@" + hostname();
    report.run.controller = hostname();
    report.run.command_line = own_command_line();
  }

  // 3. Run the stages; the report is checkpointed after each.
  const Level& level = profile.level(report.run.level);
  std::string who = report.nodes.front().name;
  if (report.nodes.size() > 1) who = std::to_string(report.nodes.size()) + " nodes (" + who + ", ...)";
  print_info("certify: " + who + " against " +
             profile.name + " (level " + level.name + (level.runs("burnin") ? ", burn-in " + format_duration(level.burnin.duration) : "") +
             "), report " + out);
  RunOptions ro;
  ro.report_path = out;
  ro.rack_nccl = o.rack_nccl;
  if (!ro.rack_nccl && fleet_exec) ro.rack_nccl = run_rack_nccl_over_fleet;
  if (fleet_exec) ro.parallel = std::max(1, conn.forks);
  ro.on_stage_begin = [&level](const StageDef& def, std::size_t nodes) {
    std::string how_long = def.id == "burnin" ? ", " + format_duration(level.burnin.duration) + " of burn-in" : "";
    print_info("certify: stage " + std::string(def.id) + " (" + def.title + ") on " + std::to_string(nodes) + " node" +
               (nodes == 1 ? "" : "s") + how_long);
  };
  ro.on_stage_done = [](const std::string& who, const StageRecord& rec) {
    // A node an earlier stage stopped would repeat that reason for every
    // later stage: the report has it; -v prints it.
    if (rec.status == StageStatus::skipped && starts_with(rec.detail, "not run:") && terminal().verbosity < 1) return;
    std::string line = "certify: " + who + " " + rec.stage + ": " + std::string(to_string(rec.status)) +
                       (rec.detail.empty() ? "" : " (" + rec.detail + ")");
    print_info(line);
  };
  int rc = run_pipeline(report, profile, *exec, ro);
  if (fleet_exec) fleet_exec->close();

  // 4. JUnit, the summary, the exit code.
  if (!o.junit.empty()) write_file_atomic(o.junit, junit_xml(report));
  if (out == "-") {
    write_report(report, "-");  // the report itself is the JSON on stdout
  } else if (o.json) {
    json s = summary_json(report);
    s["report"] = out;
    if (!o.junit.empty()) s["junit"] = o.junit;
    std::cout << s.dump(2) << "\n";
  } else {
    std::cout << "\n" << render_summary(report) << "\nreport: " << out << (o.junit.empty() ? "" : ", junit: " + o.junit) << "\n";
  }
  if (report.run.status == "interrupted")
    print_warning("interrupted: the partial report is in " + out + "; continue with: aicloudctl certify --resume " + out);
  return rc;
}

int report_show_command(const std::string& path, bool as_json) {
  Report r = load_report(path);
  if (as_json) std::cout << summary_json(r).dump(2) << "\n";
  else std::cout << render_summary(r);
  return r.summary.certified ? 0 : 1;
}

int report_diff_command(const std::string& before, const std::string& after, double margin_pct, bool as_json) {
  if (margin_pct < 0 || margin_pct > 1000) throw UsageError("--margin must be a percentage between 0 and 1000");
  Report a = load_report(before);
  Report b = load_report(after);
  DiffResult d = diff_reports(a, b, margin_pct);
  if (as_json) std::cout << d.json.dump(2) << "\n";
  else std::cout << d.text;
  return d.regressed ? 1 : 0;
}

int report_sign_command(const std::string& report, const std::string& key, const std::string& signature_out,
                        const std::string& hash, bool as_json) {
  if (hash != "sha512" && hash != "sha256") throw UsageError("--hash must be sha512 or sha256");
  std::string text = read_text_file(report, 1ull << 30);
  (void)report_from_json_text(text, report);  // refuse to sign something that is not a report
  std::string out = signature_out.empty() ? report + ".sig" : signature_out;
  check_writable(out, "-o");
  sshsig::SigningKey sk = sshsig::SigningKey::load(key);
  std::string sig = sshsig::sign(sk, text, sshsig::k_namespace, hash);
  write_file_atomic(out, sig);
  const auto& pub = sk.public_key();
  if (as_json) {
    std::cout << json({{"report", report}, {"signature", out}, {"namespace", sshsig::k_namespace}, {"key", pub.openssh()},
                       {"fingerprint", pub.fingerprint()}, {"agent", sk.via_agent()}})
                     .dump(2)
              << "\n";
  } else {
    std::cout << "signed " << report << " with " << pub.kind() << " key " << pub.fingerprint()
              << (sk.via_agent() ? " (ssh-agent)" : "") << ": " << out << "\n"
              << "verify with: aicloudctl report verify " << report << " --allowed-signers FILE -I IDENTITY\n"
              << "         or: ssh-keygen -Y verify -f FILE -I IDENTITY -n " << sshsig::k_namespace << " -s " << out
              << " < " << report << "\n";
  }
  return 0;
}

int report_verify_command(const std::string& report, const std::string& allowed_signers, const std::string& identity,
                          const std::string& signature, bool as_json) {
  std::string text = read_text_file(report, 1ull << 30);
  std::string sig_path = signature.empty() ? report + ".sig" : signature;
  std::string sig = read_text_file(sig_path, 1u << 20);
  std::string allowed = read_text_file(allowed_signers, 16u << 20);
  auto v = sshsig::verify(sig, text, sshsig::k_namespace, allowed, identity, std::time(nullptr));
  if (as_json) {
    json j = {{"ok", v.ok}, {"message", v.message}, {"principals", v.principals}, {"signature", sig_path}};
    if (v.key) j["fingerprint"] = v.key->fingerprint();
    std::cout << j.dump(2) << "\n";
  } else if (v.ok) {
    std::cout << v.message << "\n";
  } else {
    print_error(report + ": " + v.message);
  }
  return v.ok ? 0 : 1;
}

}  // namespace aicloud::certify
