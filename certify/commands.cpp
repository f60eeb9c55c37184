// certify and report, read top to bottom like the job: check the
// invocation, load the profile, describe the machines, run the pipeline,
// write the report and the JUnit file, print the verdict.
#include "certify/commands.hpp"

#include <pwd.h>
#include <unistd.h>

#include <ctime>
#include <iostream>
#include <memory>

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
#include "common/strings.hpp"
#include "common/term.hpp"

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

  // 1. Which machines.
  if (o.local && !o.inventory.empty())
    throw UsageError("--local certifies this machine; -i INVENTORY certifies a rack over SSH: give one of them");
  if (!o.inventory.empty())
    throw Error("certify -i INVENTORY runs the stages over SSH (fleet/), which is not in this build yet; "
                "certify this machine with --local");
  if (!o.local && o.resume.empty())
    throw UsageError("certify needs -i INVENTORY (a rack, over SSH) or --local (this machine)");
  if (!o.limit.empty() && o.inventory.empty()) throw UsageError("--limit selects inventory hosts; it needs -i INVENTORY");
  if (!o.level.empty() && o.level != "quick" && o.level != "standard" && o.level != "burnin") {
    std::string msg = "--level " + o.level + ": expected quick, standard or burnin";
    if (auto g = did_you_mean(o.level, {"quick", "standard", "burnin"})) msg += " (did you mean '" + *g + "'?)";
    throw UsageError(msg);
  }
  if (!o.replay.empty() && !file_exists(o.replay + "/."))
    throw UsageError("--replay " + o.replay + ": not a folder of recorded outputs");

  if (!o.node_binary.empty() && !o.replay.empty()) throw UsageError("--node-binary and --replay exclude each other");
  if (!o.node_binary.empty() && ::access(o.node_binary.c_str(), X_OK) != 0)
    throw UsageError("--node-binary " + o.node_binary + ": not an executable file");
  std::unique_ptr<NodeExecutor> exec;
  if (o.replay.empty()) exec = std::make_unique<LocalExecutor>(o.node_binary);
  else exec = std::make_unique<ReplayExecutor>(o.replay);

  // 2. The report: a new one, or the one we resume.
  Report report;
  Profile profile;
  std::string out = o.output;
  if (!o.resume.empty()) {
    report = load_report(o.resume);
    if (report.run.mode == "fleet")
      throw Error("--resume: this report certifies a rack over SSH, which is not in this build yet");
    if (!report.profile.note.empty()) profile = unmatched_profile();
    else if (o.profile.empty()) profile = profile_from_json(report.profile.resolved, o.resume + " (profile)");
    else profile = load_profile(o.profile);
    check_resume_compatible(report, profile, report.inventory.sha256);
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
  } else {
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
  print_info("certify: " + report.nodes.front().name + (report.nodes.size() > 1 ? " and others" : "") + " against " +
             profile.name + " (level " + level.name + (level.runs("burnin") ? ", burn-in " + format_duration(level.burnin.duration) : "") +
             "), report " + out);
  RunOptions ro;
  ro.report_path = out;
  ro.on_stage_begin = [&level](const StageDef& def, std::size_t nodes) {
    std::string how_long = def.id == "burnin" ? ", " + format_duration(level.burnin.duration) + " of burn-in" : "";
    print_info("certify: stage " + std::string(def.id) + " (" + def.title + ") on " + std::to_string(nodes) + " node" +
               (nodes == 1 ? "" : "s") + how_long);
  };
  ro.on_stage_done = [](const std::string& node, const StageRecord& rec) {
    std::string who = node.empty() ? "rack" : node;
    std::string line = "certify: " + who + " " + rec.stage + ": " + std::string(to_string(rec.status)) +
                       (rec.detail.empty() ? "" : " (" + rec.detail + ")");
    print_info(line);
  };
  int rc = run_pipeline(report, profile, *exec, ro);

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
