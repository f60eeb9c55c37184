// `aicloudctl inventory validate|list|show` and `aicloudctl nodeset
// expand|fold|count` (see commands.hpp).
#include "inventory/commands.hpp"

#include <unistd.h>

#include <iostream>
#include <set>

#include "common/error.hpp"
#include "common/exit_codes.hpp"
#include "common/strings.hpp"
#include "common/term.hpp"
#include "inventory/inventory.hpp"
#include "inventory/nodeset.hpp"
#include "inventory/render.hpp"

namespace aicloud::inventory {

namespace {

nlohmann::json diag_json(const Diagnostic& d) {
  return {{"file", d.where.file},
          {"line", d.where.line ? nlohmann::json(d.where.line) : nlohmann::json()},
          {"column", d.where.column ? nlohmann::json(d.where.column) : nlohmann::json()},
          {"message", d.message}};
}

void print_warnings(const Inventory& inv) {
  for (const auto& w : inv.warnings)
    if (terminal().verbosity >= 0) std::fprintf(stderr, "%s: warning: %s\n", format_location(w.where).c_str(), w.message.c_str());
}

// Writes big outputs in large blocks (printing a million names line by line
// through iostreams would dominate `nodeset expand`).
class BlockWriter {
 public:
  explicit BlockWriter(std::FILE* f) : m_f(f) { m_buf.reserve(k_block + 256); }
  ~BlockWriter() { flush(); }
  void write(std::string_view s) {
    m_buf.append(s);
    if (m_buf.size() >= k_block) flush();
  }
  void put(char c) { m_buf.push_back(c); }
  void flush() {
    if (!m_buf.empty()) std::fwrite(m_buf.data(), 1, m_buf.size(), m_f);
    m_buf.clear();
  }

 private:
  static constexpr std::size_t k_block = 1 << 20;
  std::FILE* m_f;
  std::string m_buf;
};

}  // namespace

int inventory_validate(const std::string& path, bool json) {
  try {
    Inventory inv = load_inventory(path, LoadOptions{.merge_vars = false});
    std::set<std::string> sites, racks;
    for (const Host& h : inv.hosts) {
      if (!h.site.empty()) sites.insert(h.site);
      if (!h.rack.empty()) racks.insert(h.site + "/" + h.rack);
    }
    const char* format = inv.format == Format::native ? "native" : "ansible";
    if (json) {
      nlohmann::json warnings = nlohmann::json::array();
      for (const auto& w : inv.warnings) warnings.push_back(diag_json(w));
      nlohmann::json j = {{"file", path},
                          {"valid", true},
                          {"format", format},
                          {"hosts", inv.hosts.size()},
                          {"sites", sites.size()},
                          {"racks", racks.size()},
                          {"groups", inv.groups.size()},
                          {"errors", nlohmann::json::array()},
                          {"warnings", warnings}};
      std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    } else {
      print_warnings(inv);
      std::cout << path << ": valid " << format << " inventory: " << inv.hosts.size() << " hosts";
      if (inv.format == Format::native) std::cout << " in " << sites.size() << " sites, " << racks.size() << " racks";
      std::cout << ", " << inv.groups.size() << " groups\n";
    }
    return k_exit_ok;
  } catch (const InputError& e) {
    if (!json) throw;
    nlohmann::json errors = nlohmann::json::array();
    for (const auto& d : e.diagnostics()) errors.push_back(diag_json(d));
    nlohmann::json j = {{"file", path}, {"valid", false}, {"errors", errors}, {"warnings", nlohmann::json::array()}};
    std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return k_exit_invalid;
  }
}

int inventory_list(const std::string& path, const std::string& limit, bool json) {
  Inventory inv = load_inventory(path, LoadOptions{.merge_vars = json, .var_origins = false});
  std::vector<const Host*> hosts = select_hosts(inv, limit);
  if (json) {
    BlockWriter w(stdout);
    w.put('[');
    std::string line;
    for (std::size_t i = 0; i < hosts.size(); ++i) {
      line.assign(i ? ",\n  " : "\n  ");
      append_host_json(line, *hosts[i]);
      w.write(line);
    }
    w.write(hosts.empty() ? "]\n" : "\n]\n");
    return k_exit_ok;
  }
  print_warnings(inv);
  std::string table = hosts_table(hosts, stdout_is_tty());
  std::fwrite(table.data(), 1, table.size(), stdout);
  return k_exit_ok;
}

int inventory_show(const std::string& path, const std::string& host, bool json) {
  Inventory inv = load_inventory(path);
  const Host* h = inv.find(host);
  if (!h) {
    std::vector<std::string> names;
    names.reserve(inv.hosts.size());
    for (const Host& x : inv.hosts) names.push_back(x.name);
    std::string msg = "no host '" + host + "' in " + path;
    if (auto guess = did_you_mean(host, names)) msg += " (did you mean '" + *guess + "'?)";
    throw UsageError(msg);
  }
  if (json) {
    std::cout << host_show_json(*h).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    print_warnings(inv);
    std::cout << host_show_text(*h);
  }
  return k_exit_ok;
}

int nodeset_command(NodesetMode mode, std::vector<std::string> patterns, bool json, const std::string& separator,
                    std::FILE* out) {
  // ClusterShell reads standard input when no node set is given or for "-".
  bool want_stdin = patterns.empty();
  for (auto& p : patterns)
    if (p == "-") want_stdin = true;
  if (want_stdin) {
    std::string elems;
    std::string line;
    while (std::getline(std::cin, line)) {
      line = line.substr(0, line.find('#'));
      for (const auto& e : split(line, ' ', false))
        for (const auto& x : split(e, '\t', false)) {
          elems += x;
          elems += '\n';
        }
    }
    std::vector<std::string> merged;
    bool placed = false;
    for (auto& p : patterns) {
      if (p == "-") {
        if (!placed) merged.push_back(elems);
        placed = true;
      } else {
        merged.push_back(p);
      }
    }
    if (!placed) merged.push_back(elems);
    patterns = std::move(merged);
  }
  switch (mode) {
    case NodesetMode::count: {
      std::uint64_t n = count_nodeset_args(patterns);
      if (json)
        std::fprintf(out, "{\"count\": %llu}\n", static_cast<unsigned long long>(n));
      else
        std::fprintf(out, "%llu\n", static_cast<unsigned long long>(n));
      return k_exit_ok;
    }
    case NodesetMode::fold: {
      std::string folded = fold_nodeset_args(patterns);
      if (json) {
        nlohmann::json j = {{"nodeset", folded}, {"count", count_nodeset_args(patterns)}};
        std::fprintf(out, "%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
      } else {
        std::fprintf(out, "%s\n", folded.c_str());
      }
      return k_exit_ok;
    }
    case NodesetMode::expand: {
      BlockWriter w(out);
      bool first = true;
      if (json) {
        w.put('[');
        expand_nodeset_args(patterns, [&](std::string_view name) {
          if (!first) w.put(',');
          first = false;
          w.write(nlohmann::json(std::string(name)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
        });
        w.write("]\n");
      } else if (separator.empty()) {
        expand_nodeset_args(patterns, [&](std::string_view name) {
          w.write(name);
          w.put('\n');
        });
      } else {
        expand_nodeset_args(patterns, [&](std::string_view name) {
          if (!first) w.write(separator);
          first = false;
          w.write(name);
        });
        if (!first) w.put('\n');
      }
      return k_exit_ok;
    }
  }
  return k_exit_ok;
}

}  // namespace aicloud::inventory
