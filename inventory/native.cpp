// The native inventory format (docs/inventory.md): defaults, groups, sites,
// racks and node entries whose name is a node set zipped with address, U,
// SSH port and BMC URL ranges. Settings merge with the precedence
// node > rack > site > group > defaults; each merged var remembers where it
// came from. Validation keeps going after the first problem so that every
// error is reported with its FILE:LINE:COL.
#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "common/strings.hpp"
#include "inventory/loader.hpp"
#include "inventory/nodeset.hpp"

namespace aicloud::inventory::detail {

namespace {

const std::vector<std::string> k_top_keys = {"version", "description", "defaults", "groups", "sites", "nodes"};
const std::vector<std::string> k_defaults_keys = {"ssh", "vars", "labels", "hardware", "bmc", "groups"};
const std::vector<std::string> k_group_keys = {"description", "vars"};
const std::vector<std::string> k_site_keys = {"description", "ssh",    "vars",  "labels", "hardware",
                                              "bmc",         "groups", "racks", "nodes"};
const std::vector<std::string> k_rack_keys = {"description", "ssh", "vars", "labels", "hardware", "bmc", "groups", "nodes"};
const std::vector<std::string> k_node_keys = {"name", "address", "u", "bmc", "ssh", "hardware", "labels", "groups", "vars"};
const std::vector<std::string> k_ssh_keys = {"user", "port", "identity_file", "jump_host", "become"};
const std::vector<std::string> k_hw_keys = {"gpu_model", "gpu_count", "nics"};
const std::vector<std::string> k_bmc_keys = {"url", "credentials"};

// Connection settings live in `ssh:` and `address:`; the Ansible names are
// derived from them (so that playbooks see them) and may not be set twice.
const std::vector<std::pair<std::string, std::string>> k_reserved_vars = {
    {"ansible_host", "address"},
    {"ansible_ssh_host", "address"},
    {"ansible_port", "ssh.port"},
    {"ansible_ssh_port", "ssh.port"},
    {"ansible_user", "ssh.user"},
    {"ansible_ssh_user", "ssh.user"},
    {"ansible_ssh_private_key_file", "ssh.identity_file"},
    {"ansible_private_key_file", "ssh.identity_file"},
    {"ansible_become", "ssh.become"},
    {"ansible_ssh_common_args", "ssh.jump_host"},
};

constexpr int k_max_rack_u = 100;

template <class T>
struct Val {
  std::optional<T> v;
  SourceLocation at;
  std::string level;
  void set(T value, SourceLocation where, const std::string& lvl) {
    v = std::move(value);
    at = std::move(where);
    level = lvl;
  }
  void over(const Val& o) {
    if (o.v) *this = o;
  }
};

struct VarDef {
  std::string key;
  nlohmann::json value;
  SourceLocation at;
};

// The settings written at one level (defaults, a group, a site, a rack or a
// node entry).
struct Level {
  std::string level;
  Val<std::string> user, identity_file, jump_host, gpu_model, bmc_credentials;
  Val<int> port, gpu_count;
  Val<bool> become;
  Val<std::vector<std::string>> nics;
  std::vector<std::pair<std::string, Val<std::string>>> labels;
  std::vector<VarDef> vars;
  std::vector<std::pair<std::string, SourceLocation>> groups;
};

bool valid_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.';
}

bool valid_name(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  char c0 = s[0];
  if (!((c0 >= 'a' && c0 <= 'z') || (c0 >= 'A' && c0 <= 'Z') || (c0 >= '0' && c0 <= '9'))) return false;
  return std::all_of(s.begin(), s.end(), valid_name_char);
}

bool valid_address(std::string_view s) {
  if (s.empty() || s.size() > 253 || s[0] == '-') return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return valid_name_char(c) || c == ':' || c == '%'; });
}

bool valid_label_key(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return valid_name_char(c) || c == '/'; });
}

// A short decimal number, or 0 when the text is not one.
int small_number(const std::string& s, std::size_t max_digits) {
  if (s.empty() || s.size() > max_digits || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return 0;
  return std::stoi(s);
}

// redfish://host[:port][/path] or ipmi://host[:port]; IPv6 hosts in brackets.
std::optional<Bmc> parse_bmc_url(const std::string& url, std::string& problem) {
  Bmc b;
  b.url = url;
  auto sep = url.find("://");
  b.scheme = sep == std::string::npos ? "" : url.substr(0, sep);
  if (b.scheme != "redfish" && b.scheme != "ipmi") {
    problem = "must start with redfish:// or ipmi://";
    return std::nullopt;
  }
  std::string rest = url.substr(sep + 3);
  std::string hostport = rest.substr(0, rest.find('/'));
  std::string host = hostport, port_text;
  if (!hostport.empty() && hostport[0] == '[') {
    auto close = hostport.find(']');
    host = close == std::string::npos ? "" : hostport.substr(1, close - 1);
    if (close != std::string::npos && close + 1 < hostport.size()) {
      if (hostport[close + 1] != ':') host.clear();
      port_text = hostport.substr(close + 2);
      if (port_text.empty()) port_text = "x";
    }
  } else if (auto colon = hostport.rfind(':'); colon != std::string::npos) {
    host = hostport.substr(0, colon);
    port_text = hostport.substr(colon + 1);
    if (port_text.empty()) port_text = "x";
  }
  if (host.empty() || !valid_address(host)) {
    problem = "has no valid host";
    return std::nullopt;
  }
  if (!port_text.empty()) {
    int pv = small_number(port_text, 5);
    if (pv < 1 || pv > 65535) {
      problem = "has a bad port";
      return std::nullopt;
    }
    b.port = pv;
  }
  b.host = host;
  return b;
}

std::string describe_loc(const SourceLocation& at) {
  return "line " + std::to_string(at.line) + (at.column ? ", column " + std::to_string(at.column) : "");
}

class NativeLoader : public Loader {
 public:
  NativeLoader(const YamlTree& t, const LoadOptions& options)
      : Loader(t), m_budget(2'000'000 + 8 * t.node_count()), m_options(options) {}

  Inventory run();

 private:
  struct Zipped {
    bool present = false;
    NodeId node = 0;
    std::vector<std::string> values;
    std::vector<NodeId> value_nodes;  // for a YAML list: where each value was written
    NodeId at(std::size_t i) const {
      if (value_nodes.empty() || value_nodes.size() != values.size()) return node;
      if (value_nodes.size() == 1) return value_nodes[0];
      return i < value_nodes.size() ? value_nodes[i] : node;
    }
  };

  void parse_level(NodeId map, std::string_view what, const std::vector<std::string>& allowed, Level& out,
                   std::vector<Entry>* rest = nullptr);
  void parse_ssh(NodeId map, std::string_view what, Level& out, Zipped* port_zip);
  void parse_hardware(NodeId map, std::string_view what, Level& out);
  void parse_bmc(NodeId map, std::string_view what, Level& out, Zipped* url_zip);
  void parse_labels(NodeId map, std::string_view what, Level& out);
  void parse_vars(NodeId map, std::string_view what, Level& out);
  void parse_groups_ref(NodeId v, std::string_view what, Level& out);
  Zipped zipped(NodeId v, std::string_view what);
  void parse_nodes(NodeId seq, const std::string& site, const std::string& rack, const Level* site_level,
                   const Level* rack_level);
  void parse_node(NodeId map, const std::string& site, const std::string& rack, const Level* site_level,
                  const Level* rack_level);
  void check_duplicates();
  std::size_t estimate_hosts(const std::vector<Entry>& top);

  std::uint64_t m_budget;
  LoadOptions m_options;
  Level m_defaults{"defaults"};
  std::vector<std::pair<std::string, Level>> m_groups;  // groups section, in file order
  bool m_have_groups_section = false;
  Inventory m_inv;
  // Where each host's rack U, address and BMC URL were written (parallel to
  // m_inv.hosts), for duplicate reports: nodes, not locations, since a
  // location copies the file name.
  std::vector<NodeId> m_u_at;
  std::vector<NodeId> m_addr_at;
  std::vector<NodeId> m_bmc_at;
};

void NativeLoader::parse_vars(NodeId map, std::string_view what, Level& out) {
  std::vector<Entry> es;
  if (!entries(map, what, {}, es)) return;
  for (const Entry& e : es) {
    auto reserved = std::find_if(k_reserved_vars.begin(), k_reserved_vars.end(),
                                 [&](const auto& r) { return r.first == e.key; });
    if (reserved != k_reserved_vars.end()) {
      error(e.key_node, "'" + e.key + "' is derived from '" + reserved->second + "'; set '" + reserved->second +
                            "' instead of vars." + e.key);
      continue;
    }
    try {
      out.vars.push_back({e.key, to_json(tree(), e.value, m_budget), tree().where(e.key_node)});
    } catch (const InputError& err) {
      for (const auto& d : err.diagnostics()) error(d.where, d.message);
    }
  }
}

void NativeLoader::parse_labels(NodeId map, std::string_view what, Level& out) {
  std::vector<Entry> es;
  if (!entries(map, what, {}, es)) return;
  for (const Entry& e : es) {
    if (!valid_label_key(e.key)) {
      error(e.key_node, "invalid label key '" + e.key + "' (letters, digits, '-', '_', '.', '/')");
      continue;
    }
    if (!tree().is_scalar(e.value)) {
      error(e.value, "label '" + e.key + "' must be a single value, found " + kind_name(tree(), e.value));
      continue;
    }
    Val<std::string> v;
    v.set(std::string(tree().node(e.value).text), tree().where(e.key_node), out.level);
    out.labels.push_back({e.key, v});
  }
}

void NativeLoader::parse_groups_ref(NodeId v, std::string_view what, Level& out) {
  auto list = string_list(v, what);
  if (!list) return;
  const YamlNode& n = tree().node(v);
  for (std::size_t i = 0; i < list->size(); ++i) {
    NodeId at = n.kind == YamlNode::Kind::sequence ? n.items[i] : v;
    const std::string& g = (*list)[i];
    if (!valid_name(g) || g == "all") {
      error(at, "invalid group name '" + g + "' (letters, digits, '-', '_', '.'; not 'all')");
      continue;
    }
    out.groups.push_back({g, tree().where(at)});
  }
}

void NativeLoader::parse_ssh(NodeId map, std::string_view what, Level& out, Zipped* port_zip) {
  std::vector<Entry> es;
  if (!entries(map, what, k_ssh_keys, es)) return;
  std::string w(what);
  for (const Entry& e : es) {
    SourceLocation at = tree().where(e.value);
    if (e.key == "user") {
      if (auto s = string(e.value, w + ".user")) {
        if (s->empty() || s->find_first_of(" \t@:/") != std::string::npos)
          error(e.value, w + ".user '" + *s + "' is not a valid user name");
        else
          out.user.set(*s, at, out.level);
      }
    } else if (e.key == "port") {
      if (port_zip) {
        *port_zip = zipped(e.value, w + ".port");
      } else if (auto p = integer(e.value, w + ".port", 1, 65535)) {
        out.port.set(static_cast<int>(*p), at, out.level);
      }
    } else if (e.key == "identity_file") {
      if (auto s = string(e.value, w + ".identity_file")) {
        if (s->empty())
          error(e.value, w + ".identity_file is empty");
        else
          out.identity_file.set(*s, at, out.level);
      }
    } else if (e.key == "jump_host") {
      if (auto s = string(e.value, w + ".jump_host")) {
        if (s->empty() || s->find_first_of(" \t") != std::string::npos)
          error(e.value, w + ".jump_host '" + *s + "' is not [user@]host[:port] or an inventory host name");
        else
          out.jump_host.set(*s, at, out.level);
      }
    } else if (e.key == "become") {
      if (auto b = boolean(e.value, w + ".become")) out.become.set(*b, at, out.level);
    }
  }
}

void NativeLoader::parse_hardware(NodeId map, std::string_view what, Level& out) {
  std::vector<Entry> es;
  if (!entries(map, what, k_hw_keys, es)) return;
  std::string w(what);
  for (const Entry& e : es) {
    SourceLocation at = tree().where(e.value);
    if (e.key == "gpu_model") {
      if (auto s = string(e.value, w + ".gpu_model")) out.gpu_model.set(*s, at, out.level);
    } else if (e.key == "gpu_count") {
      if (auto n = integer(e.value, w + ".gpu_count", 0, 1024)) out.gpu_count.set(static_cast<int>(*n), at, out.level);
    } else if (e.key == "nics") {
      if (auto l = string_list(e.value, w + ".nics")) out.nics.set(*l, at, out.level);
    }
  }
}

void NativeLoader::parse_bmc(NodeId map, std::string_view what, Level& out, Zipped* url_zip) {
  std::vector<Entry> es;
  std::string w(what);
  if (tree().is_map(map)) {
    // Say why a secret is refused rather than just "unknown key".
    const YamlNode& m = tree().node(map);
    for (std::size_t i = 0; i + 1 < m.items.size(); i += 2) {
      const std::string k(tree().node(m.items[i]).text);
      if (k == "password" || k == "pass" || k == "secret" || k == "passwd")
        error(m.items[i], w + "." + k + ": BMC secrets never go in an inventory; use credentials: env:VAR or file:PATH");
    }
  }
  std::vector<std::string> allowed = k_bmc_keys;
  allowed.insert(allowed.end(), {"password", "pass", "secret", "passwd"});
  if (!entries(map, what, allowed, es)) return;
  for (const Entry& e : es) {
    if (e.key == "url") {
      if (url_zip)
        *url_zip = zipped(e.value, w + ".url");
      else
        error(e.key_node, w + ".url belongs on a node entry (each node has its own BMC)");
    } else if (e.key == "credentials") {
      auto s = string(e.value, w + ".credentials");
      if (!s) continue;
      bool ok = false;
      if (starts_with(*s, "env:")) {
        std::string var = s->substr(4);
        ok = !var.empty() && !(var[0] >= '0' && var[0] <= '9') &&
             std::all_of(var.begin(), var.end(), [](char c) {
               return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
             });
      } else if (starts_with(*s, "file:")) {
        ok = s->size() > 5 && s->find('\n') == std::string::npos;
      }
      if (!ok)
        error(e.value, w + ".credentials must be a reference, 'env:VAR' or 'file:PATH' (the secret itself never goes in an inventory)");
      else
        out.bmc_credentials.set(*s, tree().where(e.value), out.level);
    }
  }
}

void NativeLoader::parse_level(NodeId map, std::string_view what, const std::vector<std::string>& allowed, Level& out,
                               std::vector<Entry>* rest) {
  std::vector<Entry> es;
  if (!entries(map, what, allowed, es)) return;
  std::string w(what);
  for (const Entry& e : es) {
    if (e.key == "ssh")
      parse_ssh(e.value, w + ".ssh", out, nullptr);
    else if (e.key == "vars")
      parse_vars(e.value, w + ".vars", out);
    else if (e.key == "labels")
      parse_labels(e.value, w + ".labels", out);
    else if (e.key == "hardware")
      parse_hardware(e.value, w + ".hardware", out);
    else if (e.key == "bmc")
      parse_bmc(e.value, w + ".bmc", out, nullptr);
    else if (e.key == "groups")
      parse_groups_ref(e.value, w + ".groups", out);
    else if (e.key == "description")
      (void)string(e.value, w + ".description");
    else if (rest)
      rest->push_back(e);
  }
}

NativeLoader::Zipped NativeLoader::zipped(NodeId v, std::string_view what) {
  Zipped z;
  z.present = true;
  z.node = v;
  const YamlNode& n = tree().node(v);
  if (n.kind == YamlNode::Kind::sequence) {
    for (NodeId c : n.items) {
      if (!tree().is_scalar(c)) {
        error(c, std::string(what) + " entries must be single values, found " + kind_name(tree(), c));
        z.values.clear();
        z.value_nodes.clear();
        return z;
      }
      z.values.emplace_back(tree().node(c).text);
      z.value_nodes.push_back(c);
    }
    if (z.values.empty()) error(v, std::string(what) + " is an empty list");
    return z;
  }
  if (n.kind != YamlNode::Kind::scalar) {
    error(v, std::string(what) + " must be a value or a range, found " + kind_name(tree(), v));
    return z;
  }
  if (n.text.find('[') == std::string::npos) {
    z.values.emplace_back(n.text);
    return z;
  }
  try {
    z.values = expand_nodeset(n.text);
  } catch (const NodeSetError& e) {
    error(inside(v, e.column() - 1), std::string(what) + ": " + e.reason());
  } catch (const InputError& e) {
    error(v, std::string(what) + ": " + e.what());
  }
  return z;
}

void NativeLoader::parse_nodes(NodeId seq, const std::string& site, const std::string& rack, const Level* site_level,
                               const Level* rack_level) {
  if (tree().is_null(seq)) return;
  if (!tree().is_seq(seq)) {
    error(seq, "nodes must be a list of node entries ('- name: gpu-[01-16]'), found " + kind_name(tree(), seq));
    return;
  }
  for (NodeId item : tree().node(seq).items) parse_node(item, site, rack, site_level, rack_level);
}

void NativeLoader::parse_node(NodeId map, const std::string& site, const std::string& rack, const Level* site_level,
                              const Level* rack_level) {
  if (!tree().is_map(map)) {
    error(map, "a node entry must be a mapping with at least 'name:', found " + kind_name(tree(), map));
    return;
  }
  Level node{"node"};
  std::vector<Entry> es;
  if (!entries(map, "node entry", k_node_keys, es)) return;
  std::optional<NodeId> name_node;
  Zipped addr, u, port, url;
  for (const Entry& e : es) {
    if (e.key == "name")
      name_node = e.value;
    else if (e.key == "address")
      addr = zipped(e.value, "address");
    else if (e.key == "u")
      u = zipped(e.value, "u");
    else if (e.key == "ssh")
      parse_ssh(e.value, "ssh", node, &port);
    else if (e.key == "bmc")
      parse_bmc(e.value, "bmc", node, &url);
    else if (e.key == "hardware")
      parse_hardware(e.value, "hardware", node);
    else if (e.key == "labels")
      parse_labels(e.value, "labels", node);
    else if (e.key == "groups")
      parse_groups_ref(e.value, "groups", node);
    else if (e.key == "vars")
      parse_vars(e.value, "vars", node);
  }
  if (!name_node) {
    error(map, "node entry has no 'name' (a node name or a range such as gpu-a12-[01-16])");
    return;
  }
  auto name_text = string(*name_node, "name");
  if (!name_text) return;
  std::vector<std::string> names;
  try {
    names = expand_nodeset(*name_text);
  } catch (const NodeSetError& e) {
    error(inside(*name_node, e.column() - 1), "name: " + e.reason());
    return;
  } catch (const InputError& e) {
    error(*name_node, std::string("name: ") + e.what());
    return;
  }
  bool names_ok = true;
  for (const auto& n : names)
    if (!valid_name(n)) {
      error(*name_node, "invalid node name '" + n + "' (letters, digits, '-', '_' and '.', starting with a letter or digit)");
      names_ok = false;
      break;
    }
  if (!names_ok) return;
  if (m_inv.hosts.size() + names.size() > k_max_inventory_hosts) {
    error(*name_node, "too many hosts (limit " + std::to_string(k_max_inventory_hosts) + ")");
    return;
  }
  const std::size_t n = names.size();
  // Zipped ranges: one value for every node, or exactly one per node.
  auto check_len = [&](const Zipped& z, const char* what) {
    if (!z.present || z.values.empty()) return true;  // absent, or already reported
    if (z.values.size() == 1 || z.values.size() == n) return true;
    error(z.node, std::string(what) + " has " + std::to_string(z.values.size()) + " values but name '" + *name_text +
                      "' has " + std::to_string(n) +
                      " names; zipped ranges must have the same length (or one value for all)");
    return false;
  };
  // Ranges that cannot be zipped leave nothing to check per host. Other
  // problems of the entry still let each host be checked (ports, U slots,
  // duplicates) so that one run reports every error.
  bool ok = check_len(addr, "address");
  ok = check_len(u, "u") && ok;
  ok = check_len(port, "ssh.port") && ok;
  ok = check_len(url, "bmc.url") && ok;
  if (!ok) return;

  auto pick = [&](const Zipped& z, std::size_t i) -> const std::string* {
    if (!z.present || z.values.empty()) return nullptr;
    return &z.values[z.values.size() == 1 ? 0 : i];
  };

  // Groups of this entry: defaults, site, rack and node levels together.
  std::vector<std::pair<std::string, SourceLocation>> group_refs = m_defaults.groups;
  for (const Level* l : {site_level, rack_level, static_cast<const Level*>(&node)})
    if (l) group_refs.insert(group_refs.end(), l->groups.begin(), l->groups.end());
  std::vector<std::string> groups;
  for (const auto& ref : group_refs) {
    const std::string& g = ref.first;
    const SourceLocation& at = ref.second;
    if (m_have_groups_section &&
        std::none_of(m_groups.begin(), m_groups.end(), [&](const auto& x) { return x.first == g; })) {
      std::vector<std::string> known;
      for (const auto& x : m_groups) known.push_back(x.first);
      std::string msg = "group '" + g + "' is not defined in 'groups:'";
      if (auto guess = did_you_mean(g, known)) msg += " (did you mean '" + *guess + "'?)";
      // Report each bad reference once, even when a range repeats it.
      if (std::none_of(diags().begin(), diags().end(),
                       [&](const Diagnostic& d) { return d.where.line == at.line && d.where.column == at.column; }))
        error(at, msg);
      continue;
    }
    if (std::find(groups.begin(), groups.end(), g) == groups.end()) groups.push_back(g);
  }
  std::sort(groups.begin(), groups.end());

  // Merged settings, lowest precedence first: defaults < site < rack < node
  // (groups only carry vars).
  Level merged{"merged"};
  for (const Level* l : {static_cast<const Level*>(&m_defaults), site_level, rack_level, static_cast<const Level*>(&node)}) {
    if (!l) continue;
    merged.user.over(l->user);
    merged.identity_file.over(l->identity_file);
    merged.jump_host.over(l->jump_host);
    merged.port.over(l->port);
    merged.become.over(l->become);
    merged.gpu_model.over(l->gpu_model);
    merged.gpu_count.over(l->gpu_count);
    merged.nics.over(l->nics);
    merged.bmc_credentials.over(l->bmc_credentials);
  }
  std::map<std::string, Val<std::string>> labels;
  for (const Level* l : {static_cast<const Level*>(&m_defaults), site_level, rack_level, static_cast<const Level*>(&node)})
    if (l)
      for (const auto& [k, v] : l->labels) labels[k] = v;

  // Vars: defaults < groups (in 'groups:' order) < site < rack < node.
  nlohmann::json vars = nlohmann::json::object();
  std::map<std::string, VarOrigin> origins;
  const bool track = m_options.var_origins;
  auto apply = [&](const Level& l, const std::string& level) {
    for (const VarDef& v : l.vars) {
      vars[v.key] = v.value;
      if (track) origins[v.key] = VarOrigin{level, v.at};
    }
  };
  if (m_options.merge_vars) {
    apply(m_defaults, "defaults");
    for (const auto& [gname, glevel] : m_groups)
      if (std::binary_search(groups.begin(), groups.end(), gname)) apply(glevel, "group:" + gname);
    if (site_level) apply(*site_level, "site");
    if (rack_level) apply(*rack_level, "rack");
    apply(node, "node");
  }

  SourceLocation name_at = tree().where(*name_node);
  // What every node of the entry shares, built once and copied per node.
  Host proto;
  proto.site = site;
  proto.rack = rack;
  proto.defined_at = name_at;
  proto.ssh.user = merged.user.v.value_or("");
  proto.ssh.identity_file = expand_home(merged.identity_file.v.value_or(""));
  proto.ssh.jump_host = merged.jump_host.v.value_or("");
  proto.ssh.become = merged.become.v.value_or(false);
  proto.ssh.port = merged.port.v.value_or(0);
  proto.hardware.gpu_model = merged.gpu_model.v.value_or("");
  proto.hardware.gpu_count = merged.gpu_count.v.value_or(0);
  proto.hardware.nics = merged.nics.v.value_or(std::vector<std::string>{});
  for (const auto& [k, v] : labels) proto.labels.emplace_hint(proto.labels.end(), k, *v.v);
  proto.groups = std::move(groups);
  if (m_options.merge_vars) {
    proto.vars = std::move(vars);
    proto.var_origins = std::move(origins);
  }
  if (m_options.merge_vars && merged.user.v) {
    proto.vars["ansible_user"] = *merged.user.v;
    if (track) proto.var_origins["ansible_user"] = VarOrigin{merged.user.level, merged.user.at};
  }
  if (m_options.merge_vars && merged.identity_file.v) {
    proto.vars["ansible_ssh_private_key_file"] = *merged.identity_file.v;
    if (track) proto.var_origins["ansible_ssh_private_key_file"] = VarOrigin{merged.identity_file.level, merged.identity_file.at};
  }
  if (m_options.merge_vars && merged.jump_host.v) {
    proto.vars["ansible_ssh_common_args"] = "-o ProxyJump=" + *merged.jump_host.v;
    if (track) proto.var_origins["ansible_ssh_common_args"] = VarOrigin{merged.jump_host.level, merged.jump_host.at};
  }
  if (m_options.merge_vars && merged.become.v) {
    proto.vars["ansible_become"] = *merged.become.v;
    if (track) proto.var_origins["ansible_become"] = VarOrigin{merged.become.level, merged.become.at};
  }
  auto grow = [n](auto& v) {
    if (v.capacity() < v.size() + n) v.reserve(std::max(v.size() + n, 2 * v.capacity()));
  };
  grow(m_inv.hosts);
  grow(m_addr_at);
  grow(m_u_at);
  grow(m_bmc_at);
  for (std::size_t i = 0; i < n; ++i) {
    Host h = i + 1 == n ? std::move(proto) : proto;
    h.name = names[i];
    // A value that does not check out is reported and left unset; the host
    // is kept so that duplicate names, addresses and U slots are still found.
    NodeId addr_at = *name_node;
    h.address = h.name;
    if (const std::string* a = pick(addr, i)) {
      if (valid_address(*a)) {
        h.address = *a;
        addr_at = addr.at(i);
      } else {
        error(addr.at(i), "invalid address '" + *a + "'");
      }
    }
    SourceLocation port_at = merged.port.at;
    std::string port_level = merged.port.level;
    if (const std::string* p = pick(port, i)) {
      int pv = small_number(*p, 5);
      if (pv >= 1 && pv <= 65535) {
        h.ssh.port = pv;
        port_at = tree().where(port.at(i));
        port_level = "node";
      } else {
        error(port.at(i), "ssh.port '" + *p + "' is not a port number (1-65535)");
      }
    }
    if (const std::string* uv = pick(u, i)) {
      int x = small_number(*uv, 3);
      if (x < 1 || x > k_max_rack_u)
        error(u.at(i), "u '" + *uv + "' is not a rack unit (1-" + std::to_string(k_max_rack_u) + ")");
      else if (rack.empty())
        error(u.at(i), "u (rack unit) is only meaningful for nodes in a rack");
      else
        h.rack_u = x;
    }
    if (const std::string* url_text = pick(url, i)) {
      std::string problem;
      if (auto b = parse_bmc_url(*url_text, problem)) {
        b->credentials = merged.bmc_credentials.v.value_or("");
        h.bmc = std::move(b);
      } else {
        error(url.at(i), "bmc.url '" + *url_text + "' " + problem);
      }
    } else if (merged.bmc_credentials.v && node.bmc_credentials.v) {
      error(node.bmc_credentials.at, "bmc.credentials without bmc.url");
    }

    // The connection settings the Ansible way, so playbooks can use them.
    if (m_options.merge_vars) {
      h.vars["ansible_host"] = h.address;
      if (track) h.var_origins["ansible_host"] = VarOrigin{"node", tree().where(addr_at)};
    }
    if (m_options.merge_vars && h.ssh.port) {
      h.vars["ansible_port"] = h.ssh.port;
      if (track) h.var_origins["ansible_port"] = VarOrigin{port_level, port_at};
    }
    m_inv.hosts.push_back(std::move(h));
    m_addr_at.push_back(addr_at);
    m_u_at.push_back(u.present ? u.at(i) : *name_node);
    m_bmc_at.push_back(url.present ? url.at(i) : *name_node);
  }
}

std::size_t NativeLoader::estimate_hosts(const std::vector<Entry>& top) {
  std::size_t total = 0;
  auto count_nodes = [&](NodeId seq) {
    if (!tree().is_seq(seq)) return;
    for (NodeId item : tree().node(seq).items) {
      if (!tree().is_map(item)) continue;
      const YamlNode& m = tree().node(item);
      for (std::size_t i = 0; i + 1 < m.items.size(); i += 2) {
        const YamlNode& k = tree().node(m.items[i]);
        const YamlNode& v = tree().node(m.items[i + 1]);
        if (k.text != "name" || v.kind != YamlNode::Kind::scalar) continue;
        try {
          total += v.text.find('[') == std::string::npos ? 1 : count_nodeset(v.text);
        } catch (const InputError&) {
        }
      }
    }
  };
  auto children = [&](NodeId map, const char* key, auto&& each) {
    if (!tree().is_map(map)) return;
    const YamlNode& m = tree().node(map);
    for (std::size_t i = 0; i + 1 < m.items.size(); i += 2)
      if (key == nullptr || tree().node(m.items[i]).text == key) each(m.items[i + 1]);
  };
  for (const Entry& e : top) {
    if (e.key == "nodes") count_nodes(e.value);
    if (e.key != "sites") continue;
    children(e.value, nullptr, [&](NodeId site) {
      children(site, "nodes", count_nodes);
      children(site, "racks", [&](NodeId racks) {
        children(racks, nullptr, [&](NodeId rack) { children(rack, "nodes", count_nodes); });
      });
    });
  }
  return std::min(total, k_max_inventory_hosts);
}

void NativeLoader::check_duplicates() {
  std::unordered_map<std::string, std::size_t> names, addrs, bmcs, slots;
  names.reserve(m_inv.hosts.size());
  addrs.reserve(m_inv.hosts.size());
  bmcs.reserve(m_inv.hosts.size());
  slots.reserve(m_inv.hosts.size());
  for (std::size_t i = 0; i < m_inv.hosts.size(); ++i) {
    const Host& h = m_inv.hosts[i];
    auto [it, fresh] = names.emplace(h.name, i);
    if (!fresh) {
      error(h.defined_at, "duplicate node name '" + h.name + "' (first defined at " +
                              describe_loc(m_inv.hosts[it->second].defined_at) + ")");
      continue;
    }
    int port = h.ssh.port ? h.ssh.port : 22;
    std::string akey = h.address + "\n" + std::to_string(port);
    auto [ait, afresh] = addrs.emplace(akey, i);
    if (!afresh) {
      const Host& other = m_inv.hosts[ait->second];
      error(m_addr_at[i], "duplicate address " + h.address + " (SSH port " + std::to_string(port) + ") for '" +
                              h.name + "': already used by '" + other.name + "' (" + describe_loc(tree().where(m_addr_at[ait->second])) +
                              ")");
    }
    if (h.bmc) {
      int bport = h.bmc->port ? h.bmc->port : (h.bmc->scheme == "ipmi" ? 623 : 443);
      std::string bkey = h.bmc->host + "\n" + std::to_string(bport);
      auto [bit, bfresh] = bmcs.emplace(bkey, i);
      if (!bfresh)
        error(m_bmc_at[i], "duplicate BMC address " + h.bmc->host + " for '" + h.name + "': already used by '" +
                               m_inv.hosts[bit->second].name + "' (" + describe_loc(tree().where(m_bmc_at[bit->second])) + ")");
    }
    if (h.rack_u) {
      std::string skey = h.site + "\n" + h.rack + "\n" + std::to_string(*h.rack_u);
      auto [sit, sfresh] = slots.emplace(skey, i);
      if (!sfresh)
        error(m_u_at[i], "rack U" + std::to_string(*h.rack_u) + " in rack " + h.rack + " is taken twice: by '" +
                             m_inv.hosts[sit->second].name + "' (" + describe_loc(tree().where(m_u_at[sit->second])) + ") and by '" +
                             h.name + "'");
    }
  }
}

Inventory NativeLoader::run() {
  m_inv.format = Format::native;
  // Top-level keys starting with "x-" are free for YAML anchors (as in
  // docker-compose files) and otherwise ignored.
  std::vector<Entry> top;
  {
    std::vector<std::string> allowed = k_top_keys;
    const YamlNode& root = tree().node(tree().root());
    for (std::size_t i = 0; i + 1 < root.items.size(); i += 2) {
      const YamlNode& k = tree().node(root.items[i]);
      if (k.kind == YamlNode::Kind::scalar && starts_with(k.text, "x-")) allowed.emplace_back(k.text);
    }
    entries(tree().root(), "the inventory", allowed, top);
  }
  // First pass: version, defaults and groups, which every site needs.
  for (const Entry& e : top) {
    if (e.key == "version") {
      auto v = integer(e.value, "version", 1, 1000);
      if (v && *v != 1) error(e.value, "unsupported inventory version " + std::to_string(*v) + " (this aicloudctl reads version 1)");
    } else if (e.key == "description") {
      (void)string(e.value, "description");
    } else if (e.key == "defaults") {
      parse_level(e.value, "defaults", k_defaults_keys, m_defaults);
    } else if (e.key == "groups") {
      m_have_groups_section = true;
      std::vector<Entry> gs;
      if (!entries(e.value, "groups", {}, gs)) continue;
      for (const Entry& g : gs) {
        if (!valid_name(g.key) || g.key == "all") {
          error(g.key_node, "invalid group name '" + g.key + "' (letters, digits, '-', '_', '.'; not 'all')");
          continue;
        }
        Level l{"group:" + g.key};
        parse_level(g.value, "group " + g.key, k_group_keys, l);
        m_groups.push_back({g.key, std::move(l)});
      }
    }
  }
  // Size the host list once: growing a vector of 10,000 hosts moves them
  // several times, and fresh memory is what costs most here.
  m_inv.hosts.reserve(estimate_hosts(top));
  // Second pass: nodes, in file order.
  for (const Entry& e : top) {
    if (e.key == "nodes") {
      parse_nodes(e.value, "", "", nullptr, nullptr);
    } else if (e.key == "sites") {
      std::vector<Entry> sites;
      if (!entries(e.value, "sites", {}, sites)) continue;
      for (const Entry& s : sites) {
        if (!valid_name(s.key)) {
          error(s.key_node, "invalid site name '" + s.key + "' (letters, digits, '-', '_', '.')");
          continue;
        }
        Level site{"site"};
        std::vector<Entry> rest;
        parse_level(s.value, "site " + s.key, k_site_keys, site, &rest);
        for (const Entry& r : rest) {
          if (r.key == "nodes") {
            parse_nodes(r.value, s.key, "", &site, nullptr);
          } else if (r.key == "racks") {
            std::vector<Entry> racks;
            if (!entries(r.value, "racks of site " + s.key, {}, racks)) continue;
            for (const Entry& rk : racks) {
              if (!valid_name(rk.key)) {
                error(rk.key_node, "invalid rack name '" + rk.key + "' (letters, digits, '-', '_', '.')");
                continue;
              }
              Level rack{"rack"};
              std::vector<Entry> rrest;
              parse_level(rk.value, "rack " + rk.key, k_rack_keys, rack, &rrest);
              for (const Entry& x : rrest)
                if (x.key == "nodes") parse_nodes(x.value, s.key, rk.key, &site, &rack);
            }
          }
        }
      }
    }
  }
  check_duplicates();
  for (const Host& h : m_inv.hosts)
    for (const auto& g : h.groups) m_inv.groups[g].push_back(h.name);
  for (const auto& [g, l] : m_groups) m_inv.groups.try_emplace(g);
  if (!diags().empty()) throw InputError(sorted_unique(std::move(diags())));
  m_inv.warnings = std::move(warnings());
  return std::move(m_inv);
}

}  // namespace

Inventory load_native(const YamlTree& t, const LoadOptions& options) {
  NativeLoader loader(t, options);
  return loader.run();
}

}  // namespace aicloud::inventory::detail
