// Inventory hosts to SSH targets, with jump hosts resolved to targets too.
#include "fleet/target.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "common/error.hpp"
#include "common/strings.hpp"

namespace aicloud::fleet {

namespace {

std::string var_string(const inventory::Host& h, const char* key) {
  auto it = h.vars.find(key);
  if (it == h.vars.end()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return std::to_string(it->get<long long>());
  return {};
}

int parse_port(const std::string& s) {
  if (s.empty() || s.size() > 5 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return -1;
  int p = std::stoi(s);
  return p >= 1 && p <= 65535 ? p : -1;
}

struct Builder {
  const inventory::Inventory& inv;
  std::map<std::string, std::shared_ptr<const Target>> jumps;  // by inventory name or spec

  Target build(const inventory::Host& h, std::vector<std::string>& chain) {
    Target t;
    t.name = h.name;
    t.address = h.address.empty() ? h.name : h.address;
    t.port = h.ssh.port;
    t.user = h.ssh.user;
    t.identity_file = h.ssh.identity_file;
    t.become = h.ssh.become;
    // Ansible inventories: the connection variables fill what ssh: left empty.
    if (h.address.empty() || h.address == h.name) {
      if (auto a = var_string(h, "ansible_host"); !a.empty()) t.address = a;
    }
    if (t.port == 0) {
      if (auto p = var_string(h, "ansible_port"); !p.empty()) t.port = std::max(0, parse_port(p));
      if (auto p = var_string(h, "ansible_ssh_port"); t.port == 0 && !p.empty()) t.port = std::max(0, parse_port(p));
    }
    if (t.user.empty()) {
      t.user = var_string(h, "ansible_user");
      if (t.user.empty()) t.user = var_string(h, "ansible_ssh_user");
    }
    if (t.identity_file.empty()) t.identity_file = var_string(h, "ansible_ssh_private_key_file");
    if (t.identity_file.empty()) t.identity_file = var_string(h, "ansible_private_key_file");
    if (!h.ssh.become) {
      auto it = h.vars.find("ansible_become");
      if (it != h.vars.end() && ((it->is_boolean() && it->get<bool>()) ||
                                 (it->is_string() && (it->get<std::string>() == "true" || it->get<std::string>() == "yes"))))
        t.become = true;
    }
    std::string jump = h.ssh.jump_host;
    if (!jump.empty()) t.jump = resolve_jump(h, jump, chain);
    return t;
  }

  std::shared_ptr<const Target> resolve_jump(const inventory::Host& from, const std::string& spec,
                                             std::vector<std::string>& chain) {
    if (auto it = jumps.find(spec); it != jumps.end()) return it->second;
    std::shared_ptr<const Target> result;
    if (const inventory::Host* jh = inv.find(spec)) {
      if (std::find(chain.begin(), chain.end(), jh->name) != chain.end()) {
        chain.push_back(jh->name);
        throw InputError(from.defined_at, "jump host loop: " + join(chain, " -> "));
      }
      chain.push_back(jh->name);
      result = std::make_shared<const Target>(build(*jh, chain));
      chain.pop_back();
    } else {
      try {
        result = std::make_shared<const Target>(parse_jump_spec(spec));
      } catch (const UsageError& e) {
        throw InputError(from.defined_at, std::string("host ") + from.name + ": " + e.what());
      }
    }
    jumps[spec] = result;
    return result;
  }
};

}  // namespace

Target parse_jump_spec(const std::string& spec) {
  Target t;
  std::string rest = spec;
  auto bad = [&](const std::string& why) {
    return UsageError("jump host '" + spec + "' " + why + " (expected [user@]host[:port] or an inventory host name)");
  };
  if (rest.empty()) throw bad("is empty");
  if (auto at = rest.rfind('@'); at != std::string::npos) {
    t.user = rest.substr(0, at);
    rest = rest.substr(at + 1);
    if (t.user.empty()) throw bad("has an empty user");
  }
  std::string port;
  bool has_port = false;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string::npos) throw bad("has '[' without ']'");
    t.address = rest.substr(1, close - 1);
    std::string after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') throw bad("has text after ']'");
      port = after.substr(1);
      has_port = true;
    }
  } else if (std::count(rest.begin(), rest.end(), ':') == 1) {
    auto colon = rest.find(':');
    t.address = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    has_port = true;
  } else {
    t.address = rest;  // a name, an IPv4 address or a bare IPv6 address
  }
  if (t.address.empty()) throw bad("has no host");
  for (char c : t.address)
    if (static_cast<unsigned char>(c) <= ' ' || c == '\'' || c == '"' || c == '`' || c == '$' || c == ';' || c == '\\')
      throw bad("has a character that cannot be in a host name");
  if (has_port) {
    t.port = parse_port(port);
    if (t.port < 0) throw bad("has an invalid port");
  }
  t.name = spec;
  return t;
}

std::vector<Target> targets_from_hosts(const inventory::Inventory& inv, const std::vector<const inventory::Host*>& hosts) {
  Builder b{inv, {}};
  std::vector<Target> out;
  out.reserve(hosts.size());
  for (const inventory::Host* h : hosts) {
    std::vector<std::string> chain{h->name};
    out.push_back(b.build(*h, chain));
  }
  return out;
}

Target target_from_host(const inventory::Inventory& inv, const inventory::Host& host) {
  Builder b{inv, {}};
  std::vector<std::string> chain{host.name};
  return b.build(host, chain);
}

std::string describe(const Target& t) {
  std::string s;
  if (!t.user.empty()) s += t.user + "@";
  s += t.address.find(':') != std::string::npos ? "[" + t.address + "]" : t.address;
  if (t.port) s += ":" + std::to_string(t.port);
  if (t.jump) s += " via " + describe(*t.jump);
  return s;
}

bool is_plain_hostname(const std::string& name) {
  if (name.empty() || name.size() > 253 || name.front() == '-' || name.front() == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
  });
}

}  // namespace aicloud::fleet
