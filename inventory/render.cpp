// Host output for `inventory list` and `inventory show` (see render.hpp).
#include "inventory/render.hpp"

#include <algorithm>

#include "common/term.hpp"

namespace aicloud::inventory {

namespace {

nlohmann::json opt_string(const std::string& s) { return s.empty() ? nlohmann::json() : nlohmann::json(s); }

std::string origin_text(const VarOrigin& o, std::size_t level_width) {
  std::string s = o.level;
  if (o.where.line > 0) s += std::string(level_width - std::min(level_width, o.level.size()) + 2, ' ') + format_location(o.where);
  return s;
}

}  // namespace

nlohmann::json host_to_json(const Host& h, bool with_vars) {
  nlohmann::json j = nlohmann::json::object();
  j["name"] = h.name;
  j["address"] = h.address;
  j["port"] = h.ssh.port ? nlohmann::json(h.ssh.port) : nlohmann::json();
  j["user"] = opt_string(h.ssh.user);
  j["identity_file"] = opt_string(h.ssh.identity_file);
  j["jump_host"] = opt_string(h.ssh.jump_host);
  j["become"] = h.ssh.become;
  j["site"] = opt_string(h.site);
  j["rack"] = opt_string(h.rack);
  j["u"] = h.rack_u ? nlohmann::json(*h.rack_u) : nlohmann::json();
  j["groups"] = h.groups;
  j["labels"] = h.labels;
  if (h.bmc) {
    j["bmc"] = {{"url", h.bmc->url},
                {"scheme", h.bmc->scheme},
                {"host", h.bmc->host},
                {"port", h.bmc->port ? nlohmann::json(h.bmc->port) : nlohmann::json()},
                {"credentials", opt_string(h.bmc->credentials)}};
  } else {
    j["bmc"] = nullptr;
  }
  j["hardware"] = {{"gpu_model", opt_string(h.hardware.gpu_model)},
                   {"gpu_count", h.hardware.gpu_count ? nlohmann::json(h.hardware.gpu_count) : nlohmann::json()},
                   {"nics", h.hardware.nics}};
  j["defined_at"] = h.defined_at.line > 0 ? nlohmann::json(format_location(h.defined_at)) : nlohmann::json();
  if (with_vars) j["vars"] = h.vars;
  return j;
}

nlohmann::json host_show_json(const Host& h) {
  nlohmann::json j = host_to_json(h, true);
  nlohmann::json origins = nlohmann::json::object();
  for (const auto& [k, o] : h.var_origins) {
    origins[k] = {{"level", o.level},
                  {"file", opt_string(o.where.file)},
                  {"line", o.where.line ? nlohmann::json(o.where.line) : nlohmann::json()},
                  {"column", o.where.column ? nlohmann::json(o.where.column) : nlohmann::json()}};
  }
  j["origins"] = std::move(origins);
  return j;
}

std::string hosts_table(const std::vector<const Host*>& hosts, bool header) {
  struct Row {
    std::string cols[6];
  };
  std::vector<Row> rows;
  rows.reserve(hosts.size() + 1);
  if (header) rows.push_back({{"NAME", "ADDRESS", "USER", "RACK", "U", "GROUPS"}});
  for (const Host* h : hosts) {
    Row r;
    r.cols[0] = h->name;
    r.cols[1] = h->address + (h->ssh.port ? ":" + std::to_string(h->ssh.port) : "");
    r.cols[2] = h->ssh.user.empty() ? "-" : h->ssh.user;
    r.cols[3] = h->site.empty() && h->rack.empty() ? "-" : h->site + (h->rack.empty() ? "" : "/" + h->rack);
    r.cols[4] = h->rack_u ? std::to_string(*h->rack_u) : "-";
    std::string g;
    for (const auto& x : h->groups) g += (g.empty() ? "" : ",") + x;
    r.cols[5] = g.empty() ? "-" : g;
    rows.push_back(std::move(r));
  }
  std::size_t width[6] = {0, 0, 0, 0, 0, 0};
  for (const Row& r : rows)
    for (int c = 0; c < 6; ++c) width[c] = std::max(width[c], r.cols[c].size());
  std::string out;
  out.reserve(rows.size() * 64);
  for (const Row& r : rows) {
    for (int c = 0; c < 6; ++c) {
      out += r.cols[c];
      if (c < 5) out.append(width[c] - r.cols[c].size() + 2, ' ');
    }
    out.push_back('\n');
  }
  return out;
}

std::string host_show_text(const Host& h) {
  std::string out = paint(Color::bold, h.name) + "\n";
  auto line = [&](const std::string& k, const std::string& v) {
    out += "  " + k + std::string(k.size() < 11 ? 11 - k.size() : 1, ' ') + v + "\n";
  };
  std::string conn = (h.ssh.user.empty() ? "" : h.ssh.user + "@") + h.address;
  if (h.ssh.port) conn += ":" + std::to_string(h.ssh.port);
  if (!h.ssh.jump_host.empty()) conn += "  via " + h.ssh.jump_host;
  if (h.ssh.become) conn += "  (become)";
  line("ssh", conn);
  if (!h.ssh.identity_file.empty()) line("identity", h.ssh.identity_file);
  if (!h.site.empty() || !h.rack.empty())
    line("placement", (h.site.empty() ? "-" : h.site) + " / " + (h.rack.empty() ? "-" : h.rack) +
                          (h.rack_u ? ", U" + std::to_string(*h.rack_u) : ""));
  if (h.bmc)
    line("bmc", h.bmc->url + (h.bmc->credentials.empty() ? "" : "  (credentials " + h.bmc->credentials + ")"));
  if (!h.hardware.gpu_model.empty() || h.hardware.gpu_count || !h.hardware.nics.empty()) {
    std::string hw;
    if (h.hardware.gpu_count) hw += std::to_string(h.hardware.gpu_count) + " x ";
    hw += h.hardware.gpu_model.empty() ? "GPU" : h.hardware.gpu_model;
    if (!h.hardware.nics.empty()) {
      hw += "; nics";
      for (const auto& n : h.hardware.nics) hw += " " + n;
    }
    line("hardware", hw);
  }
  if (!h.labels.empty()) {
    std::string l;
    for (const auto& [k, v] : h.labels) l += (l.empty() ? "" : " ") + k + "=" + v;
    line("labels", l);
  }
  if (!h.groups.empty()) {
    std::string g;
    for (const auto& x : h.groups) g += (g.empty() ? "" : ", ") + x;
    line("groups", g);
  }
  if (h.defined_at.line > 0) line("defined at", format_location(h.defined_at));
  if (!h.vars.empty()) {
    out += "  vars:\n";
    std::size_t kw = 0, vw = 0, lw = 0;
    for (const auto& [k, o] : h.var_origins) lw = std::max(lw, o.level.size());
    std::vector<std::pair<std::string, std::string>> rows;
    for (auto it = h.vars.begin(); it != h.vars.end(); ++it) {
      std::string v = it.value().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      if (v.size() > 60) v = v.substr(0, 57) + "...";
      rows.push_back({it.key(), v});
      kw = std::max(kw, it.key().size());
      vw = std::max(vw, v.size());
    }
    for (const auto& [k, v] : rows) {
      auto o = h.var_origins.find(k);
      std::string from = o == h.var_origins.end() ? "" : origin_text(o->second, lw);
      out += "    " + k + std::string(kw - k.size() + 2, ' ') + v + std::string(vw - v.size() + 2, ' ') +
             paint(Color::dim, from) + "\n";
    }
  }
  return out;
}

}  // namespace aicloud::inventory
