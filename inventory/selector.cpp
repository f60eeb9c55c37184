// Selectors (--limit), shared by every fleet command:
//
//   selector := ["!"] term { op term }      op: "," union, "&" intersection,
//                                               "!" or "&!" exclusion, "^" symmetric difference
//   term     := "@" group                    (Ansible: children included; "@all")
//             | key "=" value                rack=a12, site=phx1, rack=phx1/a12, group=x,
//                                            name=..., any other key is a label
//             | node set or glob             gpu-a12-[01-04], gpu-*, node[01:50]
//
// Operators apply left to right, as in ClusterShell node sets; operators
// inside brackets belong to the node set. Values may be globs (* and ?) or
// node sets ("rack=a[12-14]"). A term that names something the inventory
// does not have (an unknown group, rack, site or label key, or a node set
// none of whose names exist) is an error with a did-you-mean hint, because
// a typo in --limit must not silently select nothing.
#include <algorithm>

#include "common/strings.hpp"
#include "inventory/inventory.hpp"
#include "inventory/nodeset.hpp"

namespace aicloud::inventory {

namespace {

class SelectorError : public InputError {
 public:
  SelectorError(const std::string& selector, std::size_t column, const std::string& msg)
      : InputError(SourceLocation{"selector '" + selector + "'", 1, static_cast<int>(column)}, msg) {}
};

// fnmatch with '*' and '?' only.
bool glob_match(std::string_view pat, std::string_view s) {
  std::size_t p = 0, i = 0, star = std::string_view::npos, mark = 0;
  while (i < s.size()) {
    if (p < pat.size() && (pat[p] == '?' || pat[p] == s[i])) {
      ++p, ++i;
    } else if (p < pat.size() && pat[p] == '*') {
      star = p++;
      mark = i;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      i = ++mark;
    } else {
      return false;
    }
  }
  while (p < pat.size() && pat[p] == '*') ++p;
  return p == pat.size();
}

bool has_glob(std::string_view s) { return s.find_first_of("*?") != std::string_view::npos; }

struct Term {
  char op;             // ',', '&', '!', '^' (op joining it to what came before)
  std::string text;    // trimmed
  std::size_t column;  // 1-based
};

std::vector<Term> tokenize(const std::string& sel) {
  std::vector<Term> terms;
  char op = ',';
  std::size_t start = 0;
  while (start < sel.size() && (sel[start] == ' ' || sel[start] == '\t')) ++start;
  if (start < sel.size() && sel[start] == '!') {  // "!rack=a12": everything but
    terms.push_back({',', "@all", start + 1});
    op = '!';
    ++start;
  }
  auto push = [&](std::size_t end) {
    std::string_view raw(sel.data() + start, end - start);
    std::size_t lead = 0;
    while (lead < raw.size() && (raw[lead] == ' ' || raw[lead] == '\t')) ++lead;
    std::string text(trim(raw));
    if (text.empty()) throw SelectorError(sel, start + 1, "empty term in selector");
    terms.push_back({op, std::move(text), start + lead + 1});
  };
  int depth = 0;
  for (std::size_t i = start; i < sel.size(); ++i) {
    char c = sel[i];
    if (c == '[') ++depth;
    if (c == ']' && depth > 0) --depth;
    if (depth == 0 && (c == ',' || c == '&' || c == '!' || c == '^')) {
      // "a&!b" reads as "a!b" (and not).
      if (c == '!' && op == '&' && trim(std::string_view(sel).substr(start, i - start)).empty() && !terms.empty()) {
        op = '!';
        start = i + 1;
        continue;
      }
      push(i);
      op = c;
      start = i + 1;
    }
  }
  push(sel.size());
  return terms;
}

class Selector {
 public:
  Selector(const Inventory& inv, const std::string& sel) : m_inv(inv), m_sel(sel) {}

  std::vector<bool> eval() {
    std::vector<Term> terms = tokenize(m_sel);
    std::vector<bool> result(m_inv.hosts.size(), false);
    for (const Term& t : terms) {
      std::vector<bool> x = term(t);
      for (std::size_t i = 0; i < result.size(); ++i) {
        switch (t.op) {
          case ',': result[i] = result[i] || x[i]; break;
          case '&': result[i] = result[i] && x[i]; break;
          case '!': result[i] = result[i] && !x[i]; break;
          case '^': result[i] = result[i] != x[i]; break;
        }
      }
    }
    return result;
  }

 private:
  [[noreturn]] void fail(const Term& t, const std::string& msg) { throw SelectorError(m_sel, t.column, msg); }

  std::string hint(const std::string& word, const std::vector<std::string>& candidates, const std::string& prefix = "") {
    if (auto g = did_you_mean(word, candidates)) return " (did you mean '" + prefix + *g + "'?)";
    return "";
  }

  // Values to compare against: a glob, a node set, or one literal.
  bool value_matches(const Term& t, const std::string& pattern, const std::string& value,
                     std::optional<NodeSetMatcher>& ns) {
    if (has_glob(pattern)) return glob_match(pattern, value);
    if (pattern.find('[') != std::string::npos) {
      if (!ns) {
        try {
          ns.emplace(pattern);
        } catch (const NodeSetError& e) {
          fail(t, "bad node set '" + pattern + "': " + e.reason());
        }
      }
      return ns->contains(value);
    }
    return pattern == value;
  }

  std::vector<bool> term(const Term& t) {
    const auto& hosts = m_inv.hosts;
    std::vector<bool> x(hosts.size(), false);
    const std::string& s = t.text;
    if (s[0] == '@') return group_term(t, s.substr(1));
    if (auto eq = s.find('='); eq != std::string::npos && s.find('[') > eq) {
      std::string key(trim(std::string_view(s).substr(0, eq)));
      std::string value(trim(std::string_view(s).substr(eq + 1)));
      if (key.empty()) fail(t, "selector term '" + s + "' has no key before '='");
      if (value.empty()) fail(t, "selector term '" + s + "' has no value after '='");
      if (key == "group") return group_term(t, value);
      std::optional<NodeSetMatcher> ns;
      bool any = false;
      std::vector<std::string> known;
      if (key == "rack" || key == "site") {
        for (std::size_t i = 0; i < hosts.size(); ++i) {
          const Host& h = hosts[i];
          std::string v = key == "site" ? h.site : h.rack;
          if (v.empty()) continue;
          bool m = value_matches(t, value, v, ns);
          if (!m && key == "rack" && value.find('/') != std::string::npos)
            m = value_matches(t, value, h.site + "/" + h.rack, ns);
          x[i] = m;
          any = any || m;
          if (std::find(known.begin(), known.end(), v) == known.end()) known.push_back(v);
        }
        if (!any && !has_glob(value)) {
          if (known.empty()) fail(t, "this inventory has no " + key + "s (an Ansible inventory has groups: use @group)");
          fail(t, "no " + key + " '" + value + "' in the inventory" + hint(value, known));
        }
        return x;
      }
      if (key == "name" || key == "host") {
        for (std::size_t i = 0; i < hosts.size(); ++i) x[i] = value_matches(t, value, hosts[i].name, ns);
        return x;
      }
      // A label.
      bool key_known = false;
      std::vector<std::string> keys = {"rack", "site", "group", "name"};
      for (std::size_t i = 0; i < hosts.size(); ++i) {
        auto it = hosts[i].labels.find(key);
        if (it == hosts[i].labels.end()) continue;
        key_known = true;
        x[i] = value_matches(t, value, it->second, ns);
      }
      if (!key_known) {
        for (const Host& h : hosts)
          for (const auto& [k, v] : h.labels)
            if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
        fail(t, "no host has a label '" + key + "'" + hint(key, keys));
      }
      return x;
    }
    // A node set or a glob over host names.
    if (has_glob(s)) {
      if (s.find('[') != std::string::npos) fail(t, "a term cannot mix wildcards and [ranges]: '" + s + "'");
      for (std::size_t i = 0; i < hosts.size(); ++i) x[i] = glob_match(s, hosts[i].name);
      return x;
    }
    std::optional<NodeSetMatcher> ns;
    try {
      ns.emplace(s);
    } catch (const NodeSetError& e) {
      fail(t, "bad node set '" + s + "': " + e.reason());
    }
    bool any = false;
    for (std::size_t i = 0; i < hosts.size(); ++i) {
      x[i] = ns->contains(hosts[i].name);
      any = any || x[i];
    }
    if (!any) {
      std::vector<std::string> names;
      names.reserve(hosts.size());
      for (const Host& h : hosts) names.push_back(h.name);
      std::string msg = "no host in the inventory matches '" + s + "'";
      if (ns->size() == 1) msg += hint(s, names);
      auto known_group = m_inv.groups.find(s);
      if (known_group != m_inv.groups.end()) msg += " (for the group, write '@" + s + "')";
      fail(t, msg);
    }
    return x;
  }

  std::vector<bool> group_term(const Term& t, const std::string& name) {
    const auto& hosts = m_inv.hosts;
    std::vector<bool> x(hosts.size(), false);
    if (name.empty()) fail(t, "'@' needs a group name");
    if (name == "all") {
      x.assign(hosts.size(), true);
      return x;
    }
    std::vector<std::string> matched;
    std::vector<std::string> known;
    for (const auto& [g, members] : m_inv.groups) {
      known.push_back(g);
      if (has_glob(name) ? glob_match(name, g) : g == name) matched.push_back(g);
    }
    if (matched.empty() && !has_glob(name)) fail(t, "unknown group '@" + name + "'" + hint(name, known, "@"));
    for (const auto& g : matched)
      for (const auto& member : m_inv.groups.at(g)) {
        if (const Host* h = m_inv.find(member)) x[static_cast<std::size_t>(h - hosts.data())] = true;
      }
    return x;
  }

  const Inventory& m_inv;
  const std::string& m_sel;
};

}  // namespace

std::vector<const Host*> select_hosts(const Inventory& inv, const std::string& selector) {
  std::vector<const Host*> out;
  if (trim(selector).empty()) {
    out.reserve(inv.hosts.size());
    for (const Host& h : inv.hosts) out.push_back(&h);
    return out;
  }
  Selector s(inv, selector);
  std::vector<bool> mask = s.eval();
  for (std::size_t i = 0; i < inv.hosts.size(); ++i)
    if (mask[i]) out.push_back(&inv.hosts[i]);
  return out;
}

}  // namespace aicloud::inventory
