// Ansible YAML inventories, loaded the way ansible-core 2.14 loads them
// (plugins/inventory/yaml.py, inventory/data.py, group.py, host.py), so that
// the host set and each host's merged vars equal `ansible-inventory --list`:
//
//  - top-level keys are groups; each group has optional vars, children and
//    hosts sections (a string stands for a one-key mapping);
//  - host keys are patterns: "web[01:20]:2222" is expanded by Ansible's own
//    range rules (numeric with zero padding, [a:f] letters, :step) and the
//    port becomes ansible_port when the host is first seen;
//  - groups without a parent become children of 'all'; hosts in no group
//    but 'all' land in 'ungrouped';
//  - a host's vars are 'all' vars, then its groups' vars sorted by (depth,
//    ansible_group_priority, name), then its own vars, each replacing
//    whole top-level keys (hash_behaviour=replace).
//
// Where Ansible only warns (unknown keys in a group, non-mapping groups) this
// loader reports an error, so typos are not silently dropped. Vars from
// group_vars/ and host_vars/ folders are not read.
#include <algorithm>
#include <functional>
#include <regex>
#include <unordered_map>

#include "common/strings.hpp"
#include "inventory/loader.hpp"
#include "inventory/rangeset.hpp"

namespace aicloud::inventory::detail {

namespace {

const std::vector<std::string> k_sections = {"vars", "children", "hosts"};

bool is_word(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c >= 0x80;
}
bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// alphanumeric_range: \[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]  (re.I)
bool match_alnum_range(std::string_view s, std::size_t& i) {
  if (i >= s.size() || s[i] != '[') return false;
  std::size_t close = s.find(']', i);
  if (close == std::string_view::npos) return false;
  std::string_view inner = s.substr(i + 1, close - i - 1);
  auto parts = split(inner, ':');
  if (parts.size() != 2 && parts.size() != 3) return false;
  auto letter = [](const std::string& p) {
    return p.size() == 1 && std::isalpha(static_cast<unsigned char>(p[0]));
  };
  bool ok = (letter(parts[0]) && letter(parts[1])) || (all_digits(parts[0]) && all_digits(parts[1]));
  if (parts.size() == 3) ok = ok && all_digits(parts[2]);
  if (!ok) return false;
  i = close + 1;
  return true;
}

// patterns['hostname'] of ansible/parsing/utils/addresses.py.
bool match_hostname(std::string_view s) {
  if (s.empty()) return false;
  for (const std::string& label : split(s, '.')) {
    std::string_view l = label;
    if (l.empty()) return false;
    std::size_t i = 0;
    bool first = true;
    while (i < l.size()) {
      unsigned char c = static_cast<unsigned char>(l[i]);
      if (c == '[') {
        if (!match_alnum_range(l, i)) return false;
      } else if (is_word(c) || (!first && c == '-')) {
        ++i;
      } else {
        return false;
      }
      first = false;
    }
    char last = l.back();
    if (last == '_' || last == '-') return false;
  }
  return true;
}

// patterns['ipv6'], matched at the start as Python's re.match() does (its
// '^' binds to the first alternative and '$' to the last one only).
bool match_ipv6_prefix(const std::string& s) {
  if (s.size() > 512) return false;
  static const std::regex re = [] {
    const std::string hexrange = R"(\[(?:[0-9a-f]+:[0-9a-f]+)(?::[0-9]+)?\])";
    const std::string c = "(?:[0-9a-f]{1,4}|" + hexrange + ")";
    std::string p = "(?:" + c + ":){7}" + c + "|" + "(?:" + c + ":){1,6}:|" + "(?:" + c + ":)(?::" + c + "){1,6}|" +
                    "(?:" + c + ":){2}(?::" + c + "){1,5}|" + "(?:" + c + ":){3}(?::" + c + "){1,4}|" + "(?:" + c +
                    ":){4}(?::" + c + "){1,3}|" + "(?:" + c + ":){5}(?::" + c + "){1,2}|" + "(?:" + c + ":){6}(?::" +
                    c + ")|" + ":(?::" + c + "){1,6}|" + c + "?::|" + "(?:0:){6}(?:" + c + "\\.){3}" + c + "|" +
                    "::(?:ffff:)?(?:" + c + "\\.){3}" + c + "|" + "(?:0:){5}ffff:(?:" + c + "\\.){3}" + c + "$";
    return std::regex(p, std::regex::ECMAScript | std::regex::icase);
  }();
  return std::regex_search(s, re, std::regex_constants::match_continuous);
}

// parse_address(address, allow_ranges=True); false where Ansible raises.
bool parse_address(std::string address, std::string& host, long long& port) {
  port = -1;
  // bracketed_hostport: ^\[(.+)\]:([0-9]+)$
  {
    auto colon = address.rfind(':');
    if (address.size() > 4 && address[0] == '[' && colon != std::string::npos && colon >= 3 &&
        address[colon - 1] == ']' && all_digits(std::string_view(address).substr(colon + 1))) {
      std::string digits = address.substr(colon + 1);
      port = digits.size() > 18 ? 0 : std::stoll(digits);
      address = address.substr(1, colon - 2);
    }
  }
  // hostport: ^((?:[^:\[\]]|\[[^\]]*\])*):([0-9]+)$
  {
    std::size_t i = 0;
    bool ok = true;
    while (i < address.size()) {
      char c = address[i];
      if (c == '[') {
        auto close = address.find(']', i);
        if (close == std::string::npos) {
          ok = false;
          break;
        }
        i = close + 1;
      } else if (c == ':' || c == ']') {
        break;
      } else {
        ++i;
      }
    }
    if (ok && i < address.size() && address[i] == ':' && all_digits(std::string_view(address).substr(i + 1))) {
      std::string digits = address.substr(i + 1);
      port = digits.size() > 18 ? 0 : std::stoll(digits);
      address = address.substr(0, i);
    }
  }
  if (match_hostname(address) || match_ipv6_prefix(address)) {
    host = address;
    return true;
  }
  return false;
}

// Python's int() for the bounds of an Ansible range.
bool py_int(std::string_view s, long long& out) {
  try {
    std::int64_t v = 0;
    if (!detail::py_int(s, v)) return false;
    out = v;
    return true;
  } catch (const RangeError&) {
    return false;
  }
}

struct RangeFailure {
  std::string message;
};

// expand_hostname_range() of ansible/plugins/inventory/__init__.py.
void expand_hostname_range(const std::string& line, std::vector<std::string>& out, std::size_t limit) {
  if (line.empty()) return;
  std::string s = line;
  if (auto p = s.find('['); p != std::string::npos) s[p] = '|';
  if (auto p = s.find(']'); p != std::string::npos) s[p] = '|';
  auto parts = split(s, '|');
  if (parts.size() != 3) throw RangeFailure{"host range must be written [begin:end] or [begin:end:step]"};
  const std::string &head = parts[0], &nrange = parts[1], &tail = parts[2];
  auto bounds = split(nrange, ':');
  if (bounds.size() != 2 && bounds.size() != 3) throw RangeFailure{"host range must be begin:end or begin:end:step"};
  std::string beg = bounds[0], end = bounds[1];
  std::string step_text = bounds.size() == 3 ? bounds[2] : "1";
  if (beg.empty()) beg = "0";
  if (end.empty()) throw RangeFailure{"host range must specify end value"};
  std::size_t rlen = 0;
  if (beg[0] == '0' && beg.size() > 1) {
    rlen = beg.size();
    if (rlen != end.size()) throw RangeFailure{"host range must specify equal-length begin and end formats"};
  }
  auto fill = [&](std::string x) {
    if (rlen == 0 || x.size() >= rlen) return x;
    // str.zfill(): zeros after a leading sign.
    std::size_t sign = (!x.empty() && (x[0] == '-' || x[0] == '+')) ? 1 : 0;
    x.insert(sign, rlen - x.size(), '0');
    return x;
  };
  auto emit = [&](const std::string& piece) {
    std::string hname = head + fill(piece) + tail;
    if (hname.find('[') != std::string::npos)
      expand_hostname_range(hname, out, limit);
    else
      out.push_back(std::move(hname));
    if (out.size() > limit) throw RangeFailure{"host range expands to too many hosts"};
  };
  static const std::string letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  auto ib = letters.find(beg), ie = letters.find(end);
  long long step = 0;
  bool step_ok = py_int(step_text, step);
  if (ib != std::string::npos && ie != std::string::npos && step_ok && step != 0) {
    if (ib > ie) throw RangeFailure{"host range must have begin <= end"};
    // string.ascii_letters[ib:ie + 1:step]
    long long lo = static_cast<long long>(ib), hi = static_cast<long long>(ie) + 1;
    if (step > 0) {
      for (long long i = lo; i < hi; i += step) emit(std::string(1, letters[static_cast<std::size_t>(i)]));
    }
    return;
  }
  long long b = 0, e = 0;
  if (!py_int(beg, b) || !py_int(end, e) || !step_ok)
    throw RangeFailure{"host range bounds must be numbers or letters"};
  if (step == 0) throw RangeFailure{"host range step must not be zero"};
  if (step > 0) {
    if (e >= b && static_cast<unsigned long long>(e - b) / static_cast<unsigned long long>(step) > limit)
      throw RangeFailure{"host range expands to too many hosts"};
    for (long long i = b; i <= e; i += step) emit(std::to_string(i));
  } else {
    if (b >= e && static_cast<unsigned long long>(b - e) / static_cast<unsigned long long>(-step) > limit)
      throw RangeFailure{"host range expands to too many hosts"};
    for (long long i = b; i > e + 1; i += step) emit(std::to_string(i));
  }
}

struct AGroup {
  std::string name;
  nlohmann::json vars = nlohmann::json::object();
  std::map<std::string, SourceLocation> var_at;
  long long priority = 1;
  std::vector<std::size_t> children;
  std::vector<std::size_t> parents;
  std::vector<std::size_t> hosts;  // direct members
  int depth = 0;
};

struct AHost {
  std::string name;
  nlohmann::json vars = nlohmann::json::object();
  std::map<std::string, SourceLocation> var_at;
  std::vector<std::size_t> groups;  // direct groups, in the order they were added
  SourceLocation where;
};

class AnsibleLoader : public Loader {
 public:
  AnsibleLoader(const YamlTree& t, const LoadOptions& options)
      : Loader(t), m_budget(2'000'000 + 8 * t.node_count()), m_options(options) {
    add_group("all");
    add_group("ungrouped");
    add_child(0, 1, t.root());
  }
  Inventory run();

 private:
  struct Item {
    NodeId key;
    std::optional<NodeId> value;  // none: a section written as a plain string
  };
  std::size_t add_group(const std::string& name) {
    auto it = m_group_index.find(name);
    if (it != m_group_index.end()) return it->second;
    m_groups.push_back(AGroup{name});
    m_group_index.emplace(name, m_groups.size() - 1);
    return m_groups.size() - 1;
  }
  bool is_ancestor(std::size_t maybe_ancestor, std::size_t g) const {
    std::vector<std::size_t> stack{g};
    std::vector<bool> seen(m_groups.size(), false);
    while (!stack.empty()) {
      std::size_t x = stack.back();
      stack.pop_back();
      for (std::size_t p : m_groups[x].parents) {
        if (p == maybe_ancestor) return true;
        if (!seen[p]) {
          seen[p] = true;
          stack.push_back(p);
        }
      }
    }
    return false;
  }
  void add_child(std::size_t parent, std::size_t child, NodeId at) {
    if (parent == child) {
      error(at, "group '" + m_groups[child].name + "' cannot be its own child");
      return;
    }
    auto& kids = m_groups[parent].children;
    if (std::find(kids.begin(), kids.end(), child) != kids.end()) return;
    if (is_ancestor(child, parent)) {
      error(at, "adding group '" + m_groups[child].name + "' as a child of '" + m_groups[parent].name +
                    "' creates a loop");
      return;
    }
    kids.push_back(child);
    m_groups[child].parents.push_back(parent);
  }
  std::vector<Item> section(NodeId v, const std::string& sect, const std::string& group, bool& ok);
  std::optional<std::string> group_name(NodeId key);
  std::optional<std::size_t> parse_group(NodeId key, NodeId data, int depth);
  void parse_hosts(NodeId key, std::optional<NodeId> value, std::size_t group);
  void set_group_var(std::size_t g, const std::string& key, NodeId key_node, NodeId value);

  std::uint64_t m_budget;
  LoadOptions m_options;
  std::vector<AGroup> m_groups;
  std::unordered_map<std::string, std::size_t> m_group_index;
  std::vector<AHost> m_hosts;
  std::unordered_map<std::string, std::size_t> m_host_index;
};

std::vector<AnsibleLoader::Item> AnsibleLoader::section(NodeId v, const std::string& sect, const std::string& group,
                                                        bool& ok) {
  std::vector<Item> items;
  ok = true;
  if (tree().is_scalar(v)) {
    items.push_back({v, std::nullopt});
    return items;
  }
  if (tree().is_null(v)) return items;
  if (!tree().is_map(v)) {
    error(v, "invalid \"" + sect + "\" entry for group \"" + group + "\": requires a mapping, found " +
                 kind_name(tree(), v));
    ok = false;
    return items;
  }
  std::vector<Entry> es;
  entries(v, sect + " of group " + group, {}, es, true);
  for (const Entry& e : es) items.push_back({e.key_node, e.value});
  return items;
}

std::optional<std::string> AnsibleLoader::group_name(NodeId key) {
  nlohmann::json k = resolve_scalar(tree().node(key));
  if (!tree().is_scalar(key) || !k.is_string()) {
    error(key, "group name must be a string, found " + kind_name(tree(), key));
    return std::nullopt;
  }
  if (k.get<std::string>().empty()) {
    error(key, "group name is empty");
    return std::nullopt;
  }
  return k.get<std::string>();
}

void AnsibleLoader::set_group_var(std::size_t g, const std::string& key, NodeId key_node, NodeId value) {
  nlohmann::json v = to_json(tree(), value, m_budget);
  if (key == "ansible_group_priority") {
    long long p = 0;
    bool ok = false;
    if (v.is_number_integer()) {
      p = v.get<long long>(), ok = true;
    } else if (v.is_number_float()) {
      p = static_cast<long long>(v.get<double>()), ok = true;
    } else if (v.is_boolean()) {
      p = v.get<bool>() ? 1 : 0, ok = true;
    } else if (v.is_string()) {
      ok = py_int(v.get<std::string>(), p);
    }
    if (!ok)
      error(value, "ansible_group_priority must be an integer, found " + kind_name(tree(), value));
    else
      m_groups[g].priority = p;
    return;
  }
  m_groups[g].vars[key] = std::move(v);
  m_groups[g].var_at[key] = tree().where(key_node);
}

std::optional<std::size_t> AnsibleLoader::parse_group(NodeId key, NodeId data, int depth) {
  auto name = group_name(key);
  if (!name) return std::nullopt;
  if (m_budget < 1) throw InputError(tree().where(key), "inventory expands to too much data");
  --m_budget;
  if (depth > 200) {
    error(key, "groups nested too deeply");
    return std::nullopt;
  }
  if (!tree().is_map(data) && !tree().is_null(data)) {
    error(data, "group '" + *name + "' must be a mapping with hosts, children or vars, found " + kind_name(tree(), data));
    return std::nullopt;
  }
  std::size_t g = add_group(*name);
  if (tree().is_null(data)) return g;
  std::vector<Entry> es;
  entries(data, "group " + *name, {}, es, true);
  for (const Entry& e : es) {
    if (std::find(k_sections.begin(), k_sections.end(), e.key) == k_sections.end()) {
      std::string msg = "unknown key '" + e.key + "' in group " + *name;
      if (auto guess = did_you_mean(e.key, k_sections))
        msg += " (did you mean '" + *guess + "'?)";
      else
        msg += " (a group has only 'hosts', 'children' and 'vars'; Ansible would skip it)";
      error(e.key_node, msg);
      continue;
    }
    bool ok = true;
    std::vector<Item> items = section(e.value, e.key, *name, ok);
    if (!ok) continue;
    if (e.key == "vars") {
      for (const Item& it : items) {
        nlohmann::json k = resolve_scalar(tree().node(it.key));
        std::string var = tree().is_scalar(it.key) || tree().is_null(it.key) ? json_key_text(k) : std::string(tree().node(it.key).text);
        try {
          if (it.value) {
            set_group_var(g, var, it.key, *it.value);
          } else {
            m_groups[g].vars[var] = nullptr;
            m_groups[g].var_at[var] = tree().where(it.key);
          }
        } catch (const InputError& err) {
          for (const auto& d : err.diagnostics()) error(d.where, d.message);
        }
      }
    } else if (e.key == "children") {
      for (const Item& it : items) {
        std::optional<std::size_t> child;
        if (it.value) {
          child = parse_group(it.key, *it.value, depth + 1);
        } else if (auto cname = group_name(it.key)) {
          child = add_group(*cname);
        }
        if (!child) continue;
        if (m_groups[*child].name == "all") {
          error(it.key, "'all' cannot be a child group");
          continue;
        }
        add_child(g, *child, it.key);
      }
    } else {
      for (const Item& it : items) parse_hosts(it.key, it.value, g);
    }
  }
  return g;
}

void AnsibleLoader::parse_hosts(NodeId key, std::optional<NodeId> value, std::size_t group) {
  nlohmann::json k = resolve_scalar(tree().node(key));
  if (!tree().is_scalar(key) || !k.is_string()) {
    error(key, "host pattern must be a string (enclose numbers in quotes), found " + kind_name(tree(), key));
    return;
  }
  std::string pattern = k.get<std::string>();
  std::string host;
  long long port = -1;  // -1: none
  if (!parse_address(pattern, host, port)) {
    host = pattern;  // Ansible falls back to the text as written
    port = -1;
  }
  std::vector<std::string> names;
  if (host.find('[') != std::string::npos) {
    try {
      expand_hostname_range(host, names, k_max_inventory_hosts);
    } catch (const RangeFailure& f) {
      error(key, "host pattern '" + pattern + "': " + f.message);
      return;
    }
  } else {
    names.push_back(host);
  }
  // `variables or {}`: any false-y value means no vars.
  std::vector<Entry> vars;
  if (value && !tree().is_null(*value)) {
    if (tree().is_map(*value)) {
      entries(*value, "host " + pattern, {}, vars, true);
    } else {
      nlohmann::json v = tree().is_scalar(*value) ? resolve_scalar(tree().node(*value)) : nlohmann::json();
      bool falsy = (tree().is_seq(*value) && tree().node(*value).items.empty()) ||
                   (tree().is_scalar(*value) && (v.is_null() || (v.is_boolean() && !v.get<bool>()) ||
                                                 (v.is_number() && v.get<double>() == 0) ||
                                                 (v.is_string() && v.get<std::string>().empty())));
      if (!falsy) {
        error(*value, "vars of host '" + pattern + "' must be a mapping, found " + kind_name(tree(), *value));
        return;
      }
    }
  }
  std::vector<std::pair<std::string, nlohmann::json>> values;
  for (const Entry& e : vars) {
    nlohmann::json kk = resolve_scalar(tree().node(e.key_node));
    try {
      values.push_back({json_key_text(kk), to_json(tree(), e.value, m_budget)});
    } catch (const InputError& err) {
      for (const auto& d : err.diagnostics()) error(d.where, d.message);
      return;
    }
  }
  if (m_hosts.size() + names.size() > k_max_inventory_hosts) {
    error(key, "too many hosts (limit " + std::to_string(k_max_inventory_hosts) + ")");
    return;
  }
  for (const std::string& name : names) {
    if (name.empty()) continue;  // Ansible's add_host() ignores an empty name
    auto [it, fresh] = m_host_index.emplace(name, m_hosts.size());
    if (fresh) {
      AHost h;
      h.name = name;
      h.where = tree().where(key);
      if (port > 0) {  // Host(name, port): "if port:"
        h.vars["ansible_port"] = port;
        h.var_at["ansible_port"] = tree().where(key);
      }
      m_hosts.push_back(std::move(h));
    }
    AHost& h = m_hosts[it->second];
    auto& members = m_groups[group].hosts;
    if (std::find(members.begin(), members.end(), it->second) == members.end()) members.push_back(it->second);
    if (std::find(h.groups.begin(), h.groups.end(), group) == h.groups.end()) h.groups.push_back(group);
    // InventoryData.set_variable() looks the name up among groups first: vars
    // of a host that shares its name with a group land on the group.
    auto same_name_group = m_group_index.find(name);
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (same_name_group != m_group_index.end()) {
        set_group_var(same_name_group->second, values[i].first, vars[i].key_node, vars[i].value);
        continue;
      }
      h.vars[values[i].first] = values[i].second;
      h.var_at[values[i].first] = tree().where(vars[i].key_node);
    }
  }
}

// Jump host from ssh arguments: "-J host", "-o ProxyJump=host".
std::string jump_from_args(const std::string& args) {
  std::vector<std::string> words;
  std::string cur;
  char quote = 0;
  for (char c : args) {
    if (quote) {
      if (c == quote)
        quote = 0;
      else
        cur.push_back(c);
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == ' ' || c == '\t') {
      if (!cur.empty()) words.push_back(cur), cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) words.push_back(cur);
  auto proxy = [](std::string opt) -> std::string {
    std::string lower = to_lower(opt);
    if (starts_with(lower, "proxyjump=")) return opt.substr(10);
    if (starts_with(lower, "proxyjump ")) return std::string(trim(opt.substr(10)));
    return "";
  };
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (w == "-J" && i + 1 < words.size()) return words[i + 1];
    if (starts_with(w, "-J") && w.size() > 2) return w.substr(2);
    if (w == "-o" && i + 1 < words.size()) {
      std::string p = proxy(words[i + 1]);
      if (p.empty() && to_lower(words[i + 1]) == "proxyjump" && i + 2 < words.size()) p = words[i + 2];
      if (!p.empty()) return p;
    }
    if (starts_with(w, "-o") && w.size() > 2) {
      std::string p = proxy(w.substr(2));
      if (!p.empty()) return p;
    }
  }
  return "";
}

Inventory AnsibleLoader::run() {
  const YamlNode& root = tree().node(tree().root());
  for (std::size_t i = 0; i + 1 < root.items.size(); i += 2) {
    const YamlNode& k = tree().node(root.items[i]);
    if (k.kind == YamlNode::Kind::scalar && k.text == "plugin")
      throw InputError(tree().where(root.items[i]),
                       "this is an Ansible inventory plugin configuration, not a YAML inventory; run "
                       "'ansible-inventory -i FILE --list --yaml' and load its output");
  }
  std::vector<Entry> top;
  entries(tree().root(), "the inventory", {}, top, true);
  for (const Entry& e : top) parse_group(e.key_node, e.value, 0);

  // reconcile_inventory(): every group reaches 'all'; hosts of no group go to 'ungrouped'.
  for (std::size_t g = 1; g < m_groups.size(); ++g)
    if (m_groups[g].parents.empty()) add_child(0, g, tree().root());
  // Depth: the longest path from 'all' (what Group.depth ends up as).
  std::vector<int> depth(m_groups.size(), -1);
  std::function<int(std::size_t, int)> depth_of = [&](std::size_t g, int guard) -> int {
    if (depth[g] >= 0) return depth[g];
    int d = 0;
    if (guard < 10000)
      for (std::size_t p : m_groups[g].parents) d = std::max(d, depth_of(p, guard + 1) + 1);
    return depth[g] = d;
  };
  for (std::size_t g = 0; g < m_groups.size(); ++g) m_groups[g].depth = depth_of(g, 0);

  auto ancestors_of = [&](const AHost& h) {
    std::vector<bool> in(m_groups.size(), false);
    std::vector<std::size_t> stack(h.groups.begin(), h.groups.end());
    for (std::size_t g : h.groups) in[g] = true;
    while (!stack.empty()) {
      std::size_t g = stack.back();
      stack.pop_back();
      for (std::size_t p : m_groups[g].parents)
        if (!in[p]) in[p] = true, stack.push_back(p);
    }
    return in;
  };
  const std::size_t k_all = 0, k_ungrouped = 1;
  for (std::size_t hi = 0; hi < m_hosts.size(); ++hi) {
    AHost& h = m_hosts[hi];
    std::vector<bool> in = ancestors_of(h);
    std::size_t count = std::count(in.begin(), in.end(), true);
    if (in[k_ungrouped]) {
      if (count > 2 || (count == 2 && !in[k_all])) {
        auto& members = m_groups[k_ungrouped].hosts;
        members.erase(std::remove(members.begin(), members.end(), hi), members.end());
        h.groups.erase(std::remove(h.groups.begin(), h.groups.end(), k_ungrouped), h.groups.end());
      }
    } else if (count == 0 || (count == 1 && in[k_all])) {
      m_groups[k_ungrouped].hosts.push_back(hi);
      h.groups.push_back(k_ungrouped);
    }
  }

  Inventory inv;
  inv.format = Format::ansible;
  inv.hosts.reserve(m_hosts.size());
  for (const AHost& ah : m_hosts) {
    std::vector<bool> in = ancestors_of(ah);
    std::vector<std::size_t> order;
    for (std::size_t g = 1; g < m_groups.size(); ++g)
      if (in[g]) order.push_back(g);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      const AGroup& x = m_groups[a];
      const AGroup& y = m_groups[b];
      if (x.depth != y.depth) return x.depth < y.depth;
      if (x.priority != y.priority) return x.priority < y.priority;
      return x.name < y.name;
    });
    Host h;
    h.name = ah.name;
    h.defined_at = ah.where;
    auto apply = [&](const nlohmann::json& vars, const std::map<std::string, SourceLocation>& at,
                     const std::string& level) {
      for (auto it = vars.begin(); it != vars.end(); ++it) {
        h.vars[it.key()] = it.value();
        auto loc = at.find(it.key());
        h.var_origins[it.key()] = VarOrigin{level, loc == at.end() ? SourceLocation{} : loc->second};
      }
    };
    apply(m_groups[k_all].vars, m_groups[k_all].var_at, "all");
    for (std::size_t g : order) apply(m_groups[g].vars, m_groups[g].var_at, "group:" + m_groups[g].name);
    apply(ah.vars, ah.var_at, "host");
    for (std::size_t g : order) h.groups.push_back(m_groups[g].name);
    std::sort(h.groups.begin(), h.groups.end());

    // Connection settings from the Ansible variables.
    auto str = [&](std::initializer_list<const char*> keys) -> std::string {
      for (const char* k : keys)
        if (auto it = h.vars.find(k); it != h.vars.end()) {
          if (it->is_string()) return it->get<std::string>();
          if (it->is_number_integer()) return it->dump();
        }
      return "";
    };
    std::string address = str({"ansible_host", "ansible_ssh_host"});
    h.address = address.empty() ? h.name : address;
    h.ssh.user = str({"ansible_user", "ansible_ssh_user"});
    h.ssh.identity_file = expand_home(str({"ansible_ssh_private_key_file", "ansible_private_key_file"}));
    std::string port = str({"ansible_port", "ansible_ssh_port"});
    if (!port.empty()) {
      long long p = 0;
      if (py_int(port, p) && p >= 1 && p <= 65535)
        h.ssh.port = static_cast<int>(p);
      else
        warnings().push_back({ah.where, "host '" + h.name + "': ansible_port '" + port + "' is not a port number; using the default"});
    }
    if (auto it = h.vars.find("ansible_become"); it != h.vars.end())
      h.ssh.become = it->is_boolean() ? it->get<bool>()
                                      : (it->is_string() && (to_lower(it->get<std::string>()) == "yes" ||
                                                             to_lower(it->get<std::string>()) == "true"));
    for (const char* k : {"ansible_ssh_common_args", "ansible_ssh_extra_args"})
      if (auto it = h.vars.find(k); it != h.vars.end() && it->is_string() && h.ssh.jump_host.empty())
        h.ssh.jump_host = jump_from_args(it->get<std::string>());
    if (!m_options.merge_vars) h.vars = nlohmann::json::object();  // needed for the settings above only
    if (!m_options.merge_vars || !m_options.var_origins) h.var_origins.clear();
    inv.hosts.push_back(std::move(h));
  }
  // Group membership including children (Group.get_hosts()), in host order.
  for (std::size_t g = 1; g < m_groups.size(); ++g) inv.groups[m_groups[g].name];
  for (const Host& h : inv.hosts)
    for (const auto& g : h.groups) inv.groups[g].push_back(h.name);

  if (!diags().empty()) throw InputError(sorted_unique(std::move(diags())));
  inv.warnings = std::move(warnings());
  return inv;
}

}  // namespace

Inventory load_ansible(const YamlTree& t, const LoadOptions& options) {
  AnsibleLoader loader(t, options);
  return loader.run();
}

}  // namespace aicloud::inventory::detail
