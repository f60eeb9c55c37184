// Parsing and validation of the shared connection options.
#include "fleet/options.hpp"

#include <libssh/libssh.h>

#include <cmath>
#include <cstdlib>

#include "common/error.hpp"
#include "common/files.hpp"
#include "common/strings.hpp"
#include "fleet/ssh_init.hpp"

namespace aicloud::fleet {

std::string_view to_string(HostKeyPolicy p) {
  switch (p) {
    case HostKeyPolicy::strict: return "strict";
    case HostKeyPolicy::accept_new: return "accept-new";
    case HostKeyPolicy::off: return "off";
  }
  return "strict";
}

HostKeyPolicy parse_host_key_policy(std::string_view text) {
  std::string t = to_lower(trim(text));
  if (t == "strict" || t == "yes") return HostKeyPolicy::strict;
  if (t == "accept-new" || t == "accept_new") return HostKeyPolicy::accept_new;
  if (t == "off") return HostKeyPolicy::off;
  throw UsageError("--host-key-policy must be strict, accept-new or off (got '" + std::string(text) + "')");
}

bool MaxFail::exceeded(std::size_t failed, std::size_t total) const {
  if (percent >= 0) return total > 0 && 100.0 * static_cast<double>(failed) / static_cast<double>(total) > percent;
  return failed > count;
}

MaxFail parse_max_fail(std::string_view text) {
  std::string t(trim(text));
  MaxFail m;
  auto bad = [&] { return UsageError("--max-fail takes a number of hosts or a percentage, e.g. 3 or 10% (got '" + t + "')"); };
  if (t.empty()) throw bad();
  if (t.back() == '%') {
    std::string num = t.substr(0, t.size() - 1);
    char* end = nullptr;
    double v = std::strtod(num.c_str(), &end);
    if (num.empty() || end != num.c_str() + num.size() || !std::isfinite(v) || v < 0 || v > 100) throw bad();
    m.percent = v;
    return m;
  }
  for (char c : t)
    if (c < '0' || c > '9') throw bad();
  if (t.size() > 9) throw bad();
  m.count = static_cast<std::size_t>(std::stoul(t));
  return m;
}

std::string default_known_hosts_path(const std::string& inventory_path) {
  auto slash = inventory_path.rfind('/');
  std::string dir = slash == std::string::npos ? std::string() : inventory_path.substr(0, slash + 1);
  std::string base = slash == std::string::npos ? inventory_path : inventory_path.substr(slash + 1);
  for (std::string_view ext : {".yaml", ".yml", ".json", ".ini"}) {
    if (ends_with(base, ext) && base.size() > ext.size()) {
      base.resize(base.size() - ext.size());
      break;
    }
  }
  if (base.empty()) base = "inventory";
  return dir + base + ".known_hosts";
}

std::string known_hosts_path(const ConnectionOptions& options) {
  if (!options.known_hosts.empty()) return options.known_hosts;
  if (options.inventory.empty()) throw UsageError("no known_hosts file: give --known-hosts FILE or -i INVENTORY");
  return default_known_hosts_path(options.inventory);
}

void validate(const ConnectionOptions& o) {
  if (o.forks < 1 || o.forks > 4096) throw UsageError("-f/--forks must be between 1 and 4096");
  if (!(o.connect_timeout.count() > 0)) throw UsageError("--connect-timeout must be more than 0");
  if (o.command_timeout.count() < 0) throw UsageError("--timeout must not be negative");
  if (!(o.keepalive_interval.count() > 0) || o.keepalive_count < 1)
    throw UsageError("--keepalive must be an interval above 0 and a count of at least 1");
  if (!o.ssh_config.empty() && o.no_ssh_config) throw UsageError("--ssh-config and --no-ssh-config exclude each other");
  for (const auto& id : o.identities)
    if (!file_exists(id)) throw UsageError("--identity " + id + ": no such file");
  if (!o.ssh_config.empty()) {
    if (!file_exists(o.ssh_config)) throw UsageError("--ssh-config " + o.ssh_config + ": no such file");
    // Parse it once up front so that a broken file is an invocation error
    // (exit 2), not the same failure repeated on every host.
    ensure_ssh_initialized();
    ssh_session s = ssh_new();
    if (!s) throw Error("libssh: out of memory");
    ssh_options_set(s, SSH_OPTIONS_HOST, "aicloudctl-config-check");
    int rc = ssh_options_parse_config(s, o.ssh_config.c_str());
    std::string err = ssh_get_error(s);
    ssh_free(s);
    if (rc != 0) throw UsageError("--ssh-config " + o.ssh_config + ": " + (err.empty() ? "cannot be parsed" : err));
  }
}

}  // namespace aicloud::fleet
