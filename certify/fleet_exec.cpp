// The fleet executor (see fleet_exec.hpp): per-node pipeline calls answered
// over one fleet::Fleet of persistent SSH sessions. Every problem of a node
// comes back as a CommandResult value; nothing here throws for a host.
#include "certify/fleet_exec.hpp"

#include <unistd.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/interrupt.hpp"
#include "common/strings.hpp"
#include "common/version.hpp"

namespace aicloud::certify {

using nlohmann::json;

namespace {

std::string self_exe() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) throw Error("cannot find this program's own file (/proc/self/exe) to deploy; pass --node-binary");
  return std::string(buf, static_cast<std::size_t>(n));
}

// "TERM" -> 15; 0 when the name is not a signal ("unknown": no exit status).
int signal_number(const std::string& name) {
  for (int s = 1; s < 65; ++s)
    if (const char* abbrev = ::sigabbrev_np(s); abbrev && name == abbrev) return s;
  return 0;
}

CommandResult from_exec(const fleet::ExecResult& e, std::string command) {
  CommandResult c;
  c.command = std::move(command);
  c.stdout_text = e.stdout_text;
  c.stderr_text = e.stderr_text;
  switch (e.status) {
    case fleet::Status::ok:
    case fleet::Status::failed:
      c.started = true;
      if (e.exit_code) {
        c.exited = true;
        c.exit_code = *e.exit_code;
      } else {
        c.error = e.error.empty() ? "the command ended without an exit status" : e.error;
      }
      break;
    case fleet::Status::signal:
      c.started = true;
      c.signal = signal_number(e.signal);
      if (c.signal == 0) c.error = "the command ended without an exit status (connection or sshd problem)";
      break;
    case fleet::Status::timeout:
      c.started = true;
      c.timed_out = true;
      break;
    case fleet::Status::interrupted:
      c.started = true;
      c.interrupted = true;
      break;
    case fleet::Status::unreachable:
      c.unreachable = true;
      c.error = e.error.empty() ? "connection lost" : e.error;
      break;
    case fleet::Status::skipped:
      c.error = e.error.empty() ? "not run" : e.error;
      break;
  }
  return c;
}

Seconds cap(Seconds stage_deadline, const fleet::ConnectionOptions& o) {
  if (o.command_timeout.count() > 0 && o.command_timeout < stage_deadline) return o.command_timeout;
  return stage_deadline;
}

}  // namespace

std::string remote_binary_path(const std::string& sha256) {
  return ".cache/aicloudctl/aicloudctl-" + sha256.substr(0, 16);
}

FleetExecutor::FleetExecutor(std::vector<fleet::Target> targets, const fleet::ConnectionOptions& options,
                             std::string binary)
    : m_binary_path(binary.empty() ? self_exe() : std::move(binary)) {
  for (std::size_t i = 0; i < targets.size(); ++i) m_index[targets[i].name] = i;
  m_deployed = std::make_unique<std::atomic<bool>[]>(targets.size());
  for (std::size_t i = 0; i < targets.size(); ++i) m_deployed[i] = false;
  m_binary = std::make_unique<fleet::LocalFile>(fleet::LocalFile::open(m_binary_path));
  m_fleet = std::make_unique<fleet::Fleet>(std::move(targets), options);
}

FleetExecutor::~FleetExecutor() { close(); }

void FleetExecutor::close() {
  if (m_fleet) m_fleet->close();
}

const std::string& FleetExecutor::binary_sha256() const { return m_binary->sha256(); }

std::optional<std::size_t> FleetExecutor::index_of(const std::string& node) const {
  auto it = m_index.find(node);
  if (it == m_index.end()) return std::nullopt;
  return it->second;
}

void FleetExecutor::connect_once() {
  std::call_once(m_connect_once, [this] {
    fleet::Fleet::RunOptions ro;
    ro.on_progress = m_on_progress;
    m_connect = m_fleet->connect_all(ro);
  });
}

fleet::Session* FleetExecutor::reach(const NodeRecord& node, CommandResult& why, std::size_t& index) {
  auto i = index_of(node.name);
  if (!i) {
    why.error = "not among the hosts selected from the inventory";
    return nullptr;
  }
  index = *i;
  return session_for(*i, why);
}

fleet::Session* FleetExecutor::session_for(std::size_t i, CommandResult& why) {
  connect_once();
  const fleet::HostResult& r = m_connect.at(i);
  fleet::Session* s = m_fleet->session(i);
  if (r.status == fleet::Status::ok && s) return s;
  if (r.status == fleet::Status::interrupted) {
    why.interrupted = true;
    why.started = true;
    return nullptr;
  }
  why.unreachable = r.status == fleet::Status::unreachable;
  why.error = r.error.empty() ? "not connected (" + std::string(fleet::to_string(r.status)) + ")" : r.error;
  return nullptr;
}

std::optional<CommandResult> FleetExecutor::check_reachable(const NodeRecord& node) {
  CommandResult c;
  auto i = index_of(node.name);
  c.command = "ssh " + (i ? fleet::describe(m_fleet->target(*i)) : node.name);
  if (!i) {
    c.error = "not among the hosts selected from the inventory";
    return c;
  }
  fleet::Session* s = session_for(*i, c);
  const fleet::HostResult& r = m_connect.at(*i);
  c.data = json::object();
  c.data["address"] = r.address;
  c.data["host_key_policy"] = fleet::to_string(m_fleet->options().host_key_policy);
  if (!r.host_key_sha256.empty()) c.data["host_key_sha256"] = r.host_key_sha256;
  if (!s) {
    if (!r.reason.empty()) c.data["reason"] = r.reason;
    return c;
  }
  c.started = c.exited = true;
  c.exit_code = 0;
  c.data["connect_s"] = s->connect_duration_s();
  c.stdout_text = "connected to " + fleet::describe(m_fleet->target(*i)) + ", host key " + s->host_key_sha256() +
                  " (policy " + std::string(fleet::to_string(m_fleet->options().host_key_policy)) + ")";
  return c;
}

CommandResult FleetExecutor::push_binary(std::size_t i, fleet::Session& s) {
  const std::string remote = remote_binary();
  CommandResult c;
  c.command = "push " + m_binary_path + " to " + remote + " (sha256 " + binary_sha256().substr(0, 16) + "...)";
  fleet::PushOptions po;
  po.mode = 0755;
  po.timeout = cap(Seconds(600), m_fleet->options());
  fleet::PushResult p = s.push(*m_binary, remote, po);
  c.data = {{"remote_path", remote}, {"sha256", binary_sha256()}, {"bytes", m_binary->data().size()},
            {"copied", p.changed}, {"push_s", p.duration_s}};
  if (p.status != fleet::Status::ok) {
    c.unreachable = p.status == fleet::Status::unreachable;
    c.interrupted = p.status == fleet::Status::interrupted;
    c.started = c.interrupted;
    c.timed_out = p.status == fleet::Status::timeout;
    c.error = p.error.empty() ? "push failed (" + std::string(fleet::to_string(p.status)) + ")" : p.error;
    if (c.timed_out) c.error = "timed out: " + c.error;
    return c;
  }
  if (p.remote_sha256 != binary_sha256()) {
    c.error = "the node's copy has SHA-256 " + p.remote_sha256 + ", not " + binary_sha256();
    return c;
  }
  // It must run there and be this version.
  fleet::ExecOptions eo;
  eo.timeout = cap(Seconds(60), m_fleet->options());
  fleet::ExecResult v = s.exec(shell_quote(remote) + " --json --version", eo);
  CommandResult run = from_exec(v, remote + " --json --version");
  std::string version;
  try {
    json j = json::parse(v.stdout_text);
    version = j.value("version", "");
  } catch (const json::exception&) {
  }
  c.data["version"] = version;
  if (version != tool_version()) {
    c.unreachable = run.unreachable;
    c.interrupted = run.interrupted;
    c.started = run.interrupted;
    std::string why = !run.error.empty() ? run.error : std::string(trim(v.stderr_text));
    if (why.empty()) why = run.exited ? "exit code " + std::to_string(run.exit_code) : "no output";
    c.error = version.empty() ? "the deployed binary does not run on the node: " + why
                              : "the deployed binary reports version " + version + ", expected " + tool_version();
    return c;
  }
  c.started = c.exited = true;
  c.exit_code = 0;
  c.stdout_text = std::string(p.changed ? "copied" : "already there (same SHA-256), not copied") + ": aicloudctl " +
                  version + " at ~/" + remote + ", sha256 verified on the node";
  m_deployed[i] = true;
  return c;
}

std::optional<CommandResult> FleetExecutor::deploy(const NodeRecord& node) {
  CommandResult c;
  std::size_t i = 0;
  fleet::Session* s = reach(node, c, i);
  if (!s) return c;
  return push_binary(i, *s);
}

CommandResult FleetExecutor::run_tool(const NodeRecord& node, std::string_view, const std::vector<std::string>& args,
                                      Seconds timeout) {
  CommandResult c;
  c.command = "aicloudctl " + shell_join(args);
  std::size_t i = 0;
  fleet::Session* s = reach(node, c, i);
  if (!s) return c;
  if (!m_deployed[i]) {
    CommandResult d = push_binary(i, *s);
    if (!(d.exited && d.exit_code == 0)) {
      d.command = c.command;
      d.error = "aicloudctl could not be deployed first: " + d.error;
      return d;
    }
  }
  fleet::ExecOptions eo;
  eo.timeout = cap(timeout, m_fleet->options());
  fleet::ExecResult e = s->exec("env NO_COLOR=1 " + shell_quote(remote_binary()) + " " + shell_join(args), eo);
  return from_exec(e, c.command);
}

CommandResult FleetExecutor::run_shell(const NodeRecord& node, std::string_view, const std::string& script,
                                       Seconds timeout) {
  CommandResult c;
  c.command = "sh -c <node facts script>";
  std::size_t i = 0;
  fleet::Session* s = reach(node, c, i);
  if (!s) return c;
  fleet::ExecOptions eo;
  eo.timeout = cap(timeout, m_fleet->options());
  return from_exec(s->exec("sh -c " + shell_quote(script), eo), c.command);
}

std::string FleetExecutor::prepare_rack(RackNcclRequest& req) {
  connect_once();
  req.fleet = m_fleet.get();
  req.remote_binary = remote_binary();
  req.fleet_index.clear();
  for (const auto& host : req.hosts) {
    auto i = index_of(host);
    if (!i) return host + " is not among the hosts selected from the inventory";
    CommandResult why;
    fleet::Session* s = session_for(*i, why);
    if (!s) return host + ": " + (why.interrupted ? "interrupted (Ctrl-C)" : why.error);
    if (!m_deployed[*i]) {
      CommandResult d = push_binary(*i, *s);
      if (!(d.exited && d.exit_code == 0)) return host + ": aicloudctl could not be deployed: " + d.error;
    }
    req.fleet_index.push_back(*i);
  }
  req.timeout = cap(req.timeout, m_fleet->options());
  return "";
}

}  // namespace aicloud::certify
