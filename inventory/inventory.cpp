// Loading an inventory: read the file (refusing missing, binary and huge
// files), parse the YAML into a tree, pick the format from the content, and
// hand over to the native or the Ansible loader. Also the typed readers both
// loaders share (loader.hpp).
#include <algorithm>

#include "common/files.hpp"
#include "common/strings.hpp"
#include "inventory/inventory.hpp"
#include "inventory/loader.hpp"

namespace aicloud::inventory {

const Host* Inventory::find(const std::string& name) const {
  if (name_index.size() != hosts.size()) {
    for (const auto& h : hosts)
      if (h.name == name) return &h;
    return nullptr;
  }
  auto it = name_index.find(name);
  if (it != name_index.end() && it->second < hosts.size() && hosts[it->second].name == name) return &hosts[it->second];
  if (it == name_index.end()) return nullptr;
  for (const auto& h : hosts)
    if (h.name == name) return &h;
  return nullptr;
}

void Inventory::reindex() {
  name_index.clear();
  name_index.reserve(hosts.size());
  for (std::size_t i = 0; i < hosts.size(); ++i) name_index.emplace(hosts[i].name, i);
}

Inventory parse_inventory(const std::string& text, const std::string& path) {
  return parse_inventory(text, path, LoadOptions{});
}

Inventory parse_inventory(const std::string& text, const std::string& path, const LoadOptions& options) {
  using namespace detail;
  if (text.size() > k_max_inventory_bytes)
    throw InputError(SourceLocation{path, 0, 0}, "inventory is too large (" + format_bytes(text.size()) +
                                                     ", limit " + format_bytes(k_max_inventory_bytes) + ")");
  if (!looks_like_text(text)) throw InputError(SourceLocation{path, 0, 0}, "is a binary file, not a YAML inventory");
  YamlTree tree = YamlTree::parse(text, path);
  if (!tree.has_document() || tree.is_null(tree.root()))
    throw InputError(SourceLocation{path, 1, 1}, "inventory is empty (expected a mapping with 'sites:' or Ansible's 'all:')");
  if (!tree.is_map(tree.root()))
    throw InputError(tree.where(tree.root()),
                     "an inventory must be a mapping (native 'version:/sites:' or Ansible 'all:'), found " +
                         kind_name(tree, tree.root()));
  Inventory inv = looks_like_ansible(tree) ? load_ansible(tree, options) : load_native(tree, options);
  inv.path = path;
  inv.reindex();
  return inv;
}

Inventory load_inventory(const std::string& path) { return load_inventory(path, LoadOptions{}); }

Inventory load_inventory(const std::string& path, const LoadOptions& options) {
  std::string text = read_text_file(path, k_max_inventory_bytes);
  return parse_inventory(text, path, options);
}

namespace detail {

std::string expand_home(const std::string& path) {
  if (path == "~") return home_dir();
  if (starts_with(path, "~/")) return home_dir() + path.substr(1);
  return path;
}

bool looks_like_ansible(const YamlTree& t) {
  static const std::vector<std::string> native_keys = {"version", "sites", "defaults", "nodes"};
  static const std::vector<std::string> sections = {"hosts", "children", "vars"};
  const YamlNode& root = t.node(t.root());
  bool any_group = false;
  for (std::size_t i = 0; i + 1 < root.items.size(); i += 2) {
    const YamlNode& k = t.node(root.items[i]);
    if (k.kind != YamlNode::Kind::scalar) continue;
    if (std::find(native_keys.begin(), native_keys.end(), k.text) != native_keys.end()) return false;
    if (k.text == "all") any_group = true;
    NodeId v = root.items[i + 1];
    if (t.is_map(v)) {
      const YamlNode& m = t.node(v);
      for (std::size_t j = 0; j < m.items.size(); j += 2) {
        const YamlNode& kk = t.node(m.items[j]);
        if (kk.kind == YamlNode::Kind::scalar &&
            std::find(sections.begin(), sections.end(), kk.text) != sections.end())
          any_group = true;
      }
    }
  }
  return any_group;
}

std::vector<Diagnostic> sorted_unique(std::vector<Diagnostic> diags) {
  std::stable_sort(diags.begin(), diags.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return a.where.line != b.where.line ? a.where.line < b.where.line : a.where.column < b.where.column;
  });
  std::vector<Diagnostic> out;
  out.reserve(diags.size());
  for (auto& d : diags) {
    bool seen = false;
    for (std::size_t i = out.size(); i-- > 0;) {
      const Diagnostic& o = out[i];
      if (o.where.line != d.where.line || o.where.column != d.where.column) break;
      if (o.message == d.message) seen = true;
    }
    if (!seen) out.push_back(std::move(d));
  }
  return out;
}

bool Loader::entries(NodeId map, std::string_view what, const std::vector<std::string>& allowed,
                     std::vector<Entry>& out, bool dup_is_warning) {
  out.clear();
  if (m_t.is_null(map)) return true;
  if (!m_t.is_map(map)) {
    error(map, std::string(what) + " must be a mapping, found " + kind_name(m_t, map));
    return false;
  }
  std::vector<MapEntry> raw = map_entries(m_t, map, m_diags);
  out.reserve(raw.size());
  for (const MapEntry& e : raw) {
    const YamlNode& k = m_t.node(e.key);
    if (k.kind != YamlNode::Kind::scalar) {
      error(e.key, std::string("a key in ") + std::string(what) + " must be a plain name, found " +
                       kind_name(m_t, e.key));
      continue;
    }
    std::string key(k.text);
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string msg = "unknown key '" + key + "' in " + std::string(what);
      if (auto guess = did_you_mean(key, allowed))
        msg += " (did you mean '" + *guess + "'?)";
      else
        msg += " (expected one of: " + join(allowed, ", ") + ")";
      error(e.key, msg);
      continue;
    }
    // Later explicit keys replace earlier ones; a key repeated explicitly is
    // a mistake worth reporting (merged-in keys may be overridden quietly).
    auto dup = std::find_if(out.begin(), out.end(), [&](const Entry& x) { return x.key == key; });
    if (dup != out.end()) {
      bool dup_merged = false;
      for (const MapEntry& r : raw)
        if (r.key == dup->key_node) dup_merged = r.merged;
      if (!e.merged && !dup_merged) {
        SourceLocation first = m_t.where(dup->key_node);
        std::string msg = "duplicate key '" + key + "' in " + std::string(what) + " (first at line " +
                          std::to_string(first.line) + ")";
        if (dup_is_warning)
          m_warnings.push_back({m_t.where(e.key), msg + "; the last value is used"});
        else
          error(e.key, msg);
      }
      dup->key_node = e.key;
      dup->value = e.value;
      continue;
    }
    out.push_back({std::move(key), e.key, e.value});
  }
  return true;
}

std::optional<std::string> Loader::string(NodeId v, std::string_view what) {
  const YamlNode& n = m_t.node(v);
  if (n.kind != YamlNode::Kind::scalar) {
    error(v, std::string(what) + " must be a string, found " + kind_name(m_t, v));
    return std::nullopt;
  }
  return std::string(n.text);
}

std::optional<long long> Loader::integer(NodeId v, std::string_view what, long long min, long long max) {
  const YamlNode& n = m_t.node(v);
  if (n.kind == YamlNode::Kind::scalar) {
    nlohmann::json j = resolve_scalar(n);
    long long x = 0;
    bool ok = false;
    if (j.is_number_integer()) {
      x = j.get<long long>();
      ok = true;
    } else if (j.is_string() && !n.text.empty() && n.text.size() <= 18 &&
               std::all_of(n.text.begin(), n.text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      x = std::stoll(std::string(n.text));
      ok = true;
    }
    if (ok) {
      if (x < min || x > max) {
        error(v, std::string(what) + " must be between " + std::to_string(min) + " and " + std::to_string(max) +
                     ", found " + std::string(n.text));
        return std::nullopt;
      }
      return x;
    }
  }
  error(v, std::string(what) + " must be an integer, found " + kind_name(m_t, v));
  return std::nullopt;
}

std::optional<bool> Loader::boolean(NodeId v, std::string_view what) {
  const YamlNode& n = m_t.node(v);
  if (n.kind == YamlNode::Kind::scalar) {
    nlohmann::json j = resolve_scalar(n);
    if (j.is_boolean()) return j.get<bool>();
  }
  error(v, std::string(what) + " must be true or false, found " + kind_name(m_t, v));
  return std::nullopt;
}

std::optional<std::vector<std::string>> Loader::string_list(NodeId v, std::string_view what) {
  std::vector<std::string> out;
  if (m_t.is_null(v)) return out;
  if (m_t.is_scalar(v)) {
    out.emplace_back(m_t.node(v).text);
    return out;
  }
  if (!m_t.is_seq(v)) {
    error(v, std::string(what) + " must be a list of strings, found " + kind_name(m_t, v));
    return std::nullopt;
  }
  bool ok = true;
  for (NodeId c : m_t.node(v).items) {
    if (auto s = string(c, std::string(what) + " entries"))
      out.push_back(*s);
    else
      ok = false;
  }
  if (!ok) return std::nullopt;
  return out;
}

SourceLocation Loader::inside(NodeId v, std::size_t offset) const {
  SourceLocation at = m_t.where(v);
  const YamlNode& n = m_t.node(v);
  if (at.column > 0) at.column += static_cast<int>(offset) + (n.quoted ? 1 : 0);
  return at;
}

}  // namespace detail

}  // namespace aicloud::inventory
