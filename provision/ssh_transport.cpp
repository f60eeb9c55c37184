// HostTransport over fleet::Session; see ssh_transport.hpp.
#include "provision/ssh_transport.hpp"

#include <chrono>
#include <thread>

#include "common/error.hpp"
#include "common/interrupt.hpp"
#include "common/strings.hpp"
#include "fleet/executor.hpp"
#include "fleet/session.hpp"
#include "fleet/ssh_init.hpp"
#include "provision/inventory_hosts.hpp"

namespace aicloud::provision {

namespace {

int signal_number(const std::string& name) {
  static const std::map<std::string, int> k = {{"HUP", 1},  {"INT", 2},   {"QUIT", 3},  {"ILL", 4},  {"ABRT", 6},
                                               {"FPE", 8},  {"KILL", 9},  {"SEGV", 11}, {"PIPE", 13}, {"ALRM", 14},
                                               {"TERM", 15}, {"USR1", 10}, {"USR2", 12}, {"BUS", 7}};
  auto it = k.find(name);
  return it == k.end() ? -1 : it->second;
}

ExecResult from_fleet(fleet::ExecResult&& e) {
  ExecResult r;
  r.duration_s = e.duration_s;
  r.stdout_text = std::move(e.stdout_text);
  r.stderr_text = std::move(e.stderr_text);
  switch (e.status) {
    case fleet::Status::ok:
    case fleet::Status::failed:
      r.exited = e.exit_code.has_value();
      r.exit_code = e.exit_code.value_or(-1);
      if (!r.exited) r.error = e.error.empty() ? "the command did not report an exit status" : e.error;
      break;
    case fleet::Status::signal: r.signal = signal_number(e.signal); r.error = e.error; break;
    case fleet::Status::timeout: r.timed_out = true; r.error = e.error; break;
    case fleet::Status::unreachable: r.unreachable = true; r.error = e.error.empty() ? "the connection was lost" : e.error; break;
    case fleet::Status::interrupted: r.error = "interrupted (Ctrl-C)"; break;
    case fleet::Status::skipped: r.error = e.error.empty() ? "not run" : e.error; break;
  }
  return r;
}

}  // namespace

std::string remote_script_command(const ExecRequest& request) {
  std::string sh = "/bin/sh -c " + shell_quote(request.script);
  if (!request.become) return sh;
  std::string sudo = "sudo -n -H ";
  if (!request.become_user.empty()) sudo += "-u " + shell_quote(request.become_user) + " ";
  return sudo + "-- " + sh;
}

class SshTransport : public HostTransport {
 public:
  SshTransport(SshTransportFactory& factory, fleet::Target target, std::unique_ptr<fleet::Session> session)
      : m_factory(factory), m_target(std::move(target)), m_session(std::move(session)) {}

  ExecResult exec(const ExecRequest& request) override {
    if (!m_session || !m_session->connected()) {
      ExecResult r;
      r.unreachable = true;
      r.error = m_lost.empty() ? "the SSH session is closed" : m_lost;
      return r;
    }
    fleet::ExecOptions eo;
    eo.become = false;  // remote_script_command applies become (with become_user)
    std::optional<fleet::LocalFile> file;
    if (!request.stdin_data.empty()) {
      eo.stdin_data = request.stdin_data;
    } else if (!request.stdin_path.empty()) {
      try {
        file.emplace(fleet::LocalFile::open(request.stdin_path));
      } catch (const std::exception& e) {
        ExecResult r;
        r.error = e.what();
        return r;
      }
      eo.stdin_data = file->data();
    }
    if (request.timeout_s && *request.timeout_s > 0)
      eo.timeout = Seconds(*request.timeout_s);
    else
      eo.timeout = m_factory.m_options.command_timeout;
    ExecResult r = from_fleet(m_session->exec(remote_script_command(request), eo));
    if (r.unreachable) m_lost = r.error;
    return r;
  }

  ExecResult reconnect(double timeout_s, double connect_timeout_s) override {
    ExecResult r;
    auto t0 = std::chrono::steady_clock::now();
    auto deadline = t0 + std::chrono::duration_cast<std::chrono::steady_clock::duration>(Seconds(timeout_s));
    std::string old_key = m_session ? m_session->host_key_sha256() : std::string();
    // First wait for the node to drop this session (it was told to go
    // down): probing it once a second, bounded so that a node whose reboot
    // keeps sessions alive is still checked (by boot id) in time.
    auto drop_deadline = t0 + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                  Seconds(std::min(timeout_s, 120.0)));
    while (m_session && m_session->connected() && !interrupted() && std::chrono::steady_clock::now() < drop_deadline) {
      fleet::ExecOptions eo;
      eo.timeout = Seconds(10);
      fleet::ExecResult e = m_session->exec("sleep 1", eo);
      if (e.status == fleet::Status::unreachable || !m_session->connected()) break;
      if (e.status != fleet::Status::ok) std::this_thread::sleep_for(std::chrono::seconds(1));
    }
    if (m_session) m_session->close();
    m_session.reset();
    fleet::ConnectionOptions opt = m_factory.m_options;
    if (connect_timeout_s > 0) opt.connect_timeout = Seconds(connect_timeout_s);
    std::string last_error = "no attempt";
    while (!interrupted()) {
      auto s = std::make_unique<fleet::Session>();
      auto left = deadline - std::chrono::steady_clock::now();
      if (left <= std::chrono::steady_clock::duration::zero()) break;
      if (Seconds(left) < opt.connect_timeout) opt.connect_timeout = std::max(Seconds(0.5), Seconds(left));
      if (s->connect(m_target, opt, *m_factory.m_known, m_factory.m_jumps.get())) {
        r.exited = true;
        r.exit_code = 0;
        r.host_key_sha256 = s->host_key_sha256();
        m_session = std::move(s);
        m_lost.clear();
        r.duration_s = Seconds(std::chrono::steady_clock::now() - t0).count();
        return r;
      }
      if (s->error_kind() == fleet::ConnectError::host_key_changed) {
        // The node is back, but with another key: report the key so the
        // reboot module fails the host with both fingerprints.
        r.host_key_sha256 = s->host_key_sha256().empty() ? "(unknown)" : s->host_key_sha256();
        if (r.host_key_sha256 == old_key) r.host_key_sha256 = "(changed, refused by known_hosts)";
        m_lost = "host key changed: " + s->error();
        r.duration_s = Seconds(std::chrono::steady_clock::now() - t0).count();
        return r;
      }
      last_error = s->error();
      if (s->error_kind() == fleet::ConnectError::auth_denied || s->error_kind() == fleet::ConnectError::interrupted) break;
      auto pause = std::min<std::chrono::steady_clock::duration>(std::chrono::seconds(1), deadline - std::chrono::steady_clock::now());
      if (pause > std::chrono::steady_clock::duration::zero()) std::this_thread::sleep_for(pause);
    }
    r.unreachable = true;
    r.error = interrupted() ? "interrupted (Ctrl-C) while waiting for the node" : last_error;
    m_lost = r.error;
    r.duration_s = Seconds(std::chrono::steady_clock::now() - t0).count();
    return r;
  }

  std::string host_key_sha256() const override { return m_session ? m_session->host_key_sha256() : ""; }

 private:
  SshTransportFactory& m_factory;
  fleet::Target m_target;
  std::unique_ptr<fleet::Session> m_session;
  std::string m_lost;
};

SshTransportFactory::SshTransportFactory(std::map<std::string, fleet::Target> targets, fleet::ConnectionOptions options)
    : m_targets(std::move(targets)), m_options(std::move(options)) {
  fleet::ensure_ssh_initialized();
  m_known = std::make_shared<fleet::KnownHosts>(fleet::KnownHosts::load(fleet::known_hosts_path(m_options)));
  m_jumps = std::make_unique<fleet::JumpPool>(m_options, *m_known);
}

SshTransportFactory::~SshTransportFactory() {
  if (m_jumps) m_jumps->shutdown();
}

void SshTransportFactory::record_key(const std::string& host, const std::string& fp) {
  if (fp.empty()) return;
  std::lock_guard<std::mutex> lock(m_mutex);
  m_keys[host] = fp;
}

std::map<std::string, std::string> SshTransportFactory::host_keys() const {
  std::lock_guard<std::mutex> lock(m_mutex);
  return m_keys;
}

std::unique_ptr<HostTransport> SshTransportFactory::open(const RunHost& host, std::string* error) {
  auto it = m_targets.find(host.name);
  if (it == m_targets.end()) {
    if (error) *error = "no SSH target for " + host.name;
    return nullptr;
  }
  fleet::Target t = it->second;
  if (!host.user.empty()) t.user = host.user;  // a play's remote_user
  auto s = std::make_unique<fleet::Session>();
  bool ok = s->connect(t, m_options, *m_known, m_jumps.get());
  record_key(host.name, s->host_key_sha256());
  if (!ok) {
    // The host-independent reason, so that the report folds hosts that
    // failed alike (the presented key's fingerprint is in the recap).
    if (error) *error = fleet::short_reason(s->error_kind(), s->error());
    return nullptr;
  }
  return std::make_unique<SshTransport>(*this, std::move(t), std::move(s));
}

std::unique_ptr<SshProvisionSetup> ssh_provision_setup(const fleet::ConnectionOptions& options) {
  fleet::validate(options);
  if (options.inventory.empty()) throw UsageError("no inventory: give -i/--inventory FILE");
  auto setup = std::make_unique<SshProvisionSetup>();
  setup->inventory = inventory::load_inventory(options.inventory);
  if (setup->inventory.hosts.empty()) throw UsageError("the inventory " + options.inventory + " has no hosts");
  std::vector<const inventory::Host*> all;
  for (const auto& h : setup->inventory.hosts) all.push_back(&h);
  std::map<std::string, fleet::Target> targets;
  for (auto& t : fleet::targets_from_hosts(setup->inventory, all)) {
    std::string name = t.name;
    targets.emplace(std::move(name), std::move(t));
  }
  setup->targets.hosts = run_hosts_from_inventory(setup->inventory);
  const inventory::Inventory* inv = &setup->inventory;
  setup->targets.selector = [inv](const std::string& term) {
    std::vector<std::string> out;
    for (const auto* h : inventory::select_hosts(*inv, term)) out.push_back(h->name);
    return out;
  };
  setup->factory = std::make_unique<SshTransportFactory>(std::move(targets), options);
  setup->targets.transports = setup->factory.get();
  return setup;
}

}  // namespace aicloud::provision
