// Host output for `inventory list` and `inventory show` (see render.hpp).
#include "inventory/render.hpp"

#include <algorithm>
#include <cstdio>

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

namespace {

void put_string(std::string& out, std::string_view s) {
  out.push_back('"');
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (u < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", u);
          out += buf;
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

void put_opt_string(std::string& out, const std::string& s) {
  if (s.empty())
    out += "null";
  else
    put_string(out, s);
}

void put_key(std::string& out, std::string_view k, bool first = false) {
  if (!first) out.push_back(',');
  put_string(out, k);
  out.push_back(':');
}

void put_strings(std::string& out, const std::vector<std::string>& v) {
  out.push_back('[');
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) out.push_back(',');
    put_string(out, v[i]);
  }
  out.push_back(']');
}

bool plain_ascii(const Host& h) {
  auto ascii = [](const std::string& s) {
    for (char c : s)
      if (static_cast<unsigned char>(c) >= 0x80) return false;
    return true;
  };
  bool ok = ascii(h.name) && ascii(h.address) && ascii(h.site) && ascii(h.rack) && ascii(h.ssh.user) &&
            ascii(h.ssh.identity_file) && ascii(h.ssh.jump_host) && ascii(h.hardware.gpu_model) &&
            ascii(h.defined_at.file);
  if (h.bmc) ok = ok && ascii(h.bmc->url) && ascii(h.bmc->credentials) && ascii(h.bmc->host) && ascii(h.bmc->scheme);
  for (const auto& g : h.groups) ok = ok && ascii(g);
  for (const auto& n : h.hardware.nics) ok = ok && ascii(n);
  for (const auto& [k, v] : h.labels) ok = ok && ascii(k) && ascii(v);
  return ok;
}

}  // namespace

void append_host_json(std::string& out, const Host& h) {
  // Keys in nlohmann::json's (sorted) order, so the text equals
  // host_to_json(h).dump(); only vars go through nlohmann's serializer.
  // Hosts with non-ASCII text take the slow path for nlohmann's UTF-8 rules.
  if (!plain_ascii(h)) {
    out += host_to_json(h).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return;
  }
  auto opt_int = [&](int v) { out += v ? std::to_string(v) : "null"; };
  out.push_back('{');
  put_key(out, "address", true);
  put_string(out, h.address);
  put_key(out, "become");
  out += h.ssh.become ? "true" : "false";
  put_key(out, "bmc");
  if (h.bmc) {
    out.push_back('{');
    put_key(out, "credentials", true);
    put_opt_string(out, h.bmc->credentials);
    put_key(out, "host");
    put_string(out, h.bmc->host);
    put_key(out, "port");
    opt_int(h.bmc->port);
    put_key(out, "scheme");
    put_string(out, h.bmc->scheme);
    put_key(out, "url");
    put_string(out, h.bmc->url);
    out.push_back('}');
  } else {
    out += "null";
  }
  put_key(out, "defined_at");
  if (h.defined_at.line > 0)
    put_string(out, format_location(h.defined_at));
  else
    out += "null";
  put_key(out, "groups");
  put_strings(out, h.groups);
  put_key(out, "hardware");
  out.push_back('{');
  put_key(out, "gpu_count", true);
  opt_int(h.hardware.gpu_count);
  put_key(out, "gpu_model");
  put_opt_string(out, h.hardware.gpu_model);
  put_key(out, "nics");
  put_strings(out, h.hardware.nics);
  out.push_back('}');
  put_key(out, "identity_file");
  put_opt_string(out, h.ssh.identity_file);
  put_key(out, "jump_host");
  put_opt_string(out, h.ssh.jump_host);
  put_key(out, "labels");
  out.push_back('{');
  bool first = true;
  for (const auto& [k, v] : h.labels) {
    put_key(out, k, first);
    put_string(out, v);
    first = false;
  }
  out.push_back('}');
  put_key(out, "name");
  put_string(out, h.name);
  put_key(out, "port");
  opt_int(h.ssh.port);
  put_key(out, "rack");
  put_opt_string(out, h.rack);
  put_key(out, "site");
  put_opt_string(out, h.site);
  put_key(out, "u");
  out += h.rack_u ? std::to_string(*h.rack_u) : "null";
  put_key(out, "user");
  put_opt_string(out, h.ssh.user);
  put_key(out, "vars");
  out += h.vars.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  out.push_back('}');
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
