#include "common/duration.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>

#include "common/strings.hpp"

namespace aicloud {

std::optional<Seconds> parse_duration(std::string_view text) {
  std::string_view s = trim(text);
  if (s.empty()) return std::nullopt;
  double total = 0;
  bool any = false;
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t start = i;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
    if (i == start) return std::nullopt;
    std::string num(s.substr(start, i - start));
    if (num.find('.') != num.rfind('.')) return std::nullopt;
    double v = std::strtod(num.c_str(), nullptr);
    std::size_t ustart = i;
    while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
    std::string unit = to_lower(s.substr(ustart, i - ustart));
    double mult;
    if (unit.empty()) {
      if (any || i != s.size()) return std::nullopt;  // bare number only on its own
      mult = 1;
    } else if (unit == "ms") {
      mult = 0.001;
    } else if (unit == "s" || unit == "sec") {
      mult = 1;
    } else if (unit == "m" || unit == "min") {
      mult = 60;
    } else if (unit == "h") {
      mult = 3600;
    } else if (unit == "d") {
      mult = 86400;
    } else {
      return std::nullopt;
    }
    total += v * mult;
    any = true;
  }
  if (!std::isfinite(total) || total > 365.0 * 86400) return std::nullopt;
  return Seconds(total);
}

std::string format_duration(Seconds d) {
  double s = d.count();
  if (s < 0) s = 0;
  char buf[64];
  if (s < 1.0 && s > 0) {
    std::snprintf(buf, sizeof buf, "%.0fms", s * 1000);
    return buf;
  }
  if (std::fabs(s - std::round(s)) > 1e-9 && s < 60) {
    std::snprintf(buf, sizeof buf, "%.1fs", s);
    return buf;
  }
  long long t = std::llround(s);
  long long h = t / 3600, m = (t % 3600) / 60, sec = t % 60;
  std::string out;
  if (h) out += std::to_string(h) + "h";
  if (m) out += std::to_string(m) + "m";
  if (sec || out.empty()) out += std::to_string(sec) + "s";
  return out;
}

}  // namespace aicloud
