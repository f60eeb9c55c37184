// Shell building blocks for module scripts; see shell.hpp. The prelude is
// deliberately small (it is sent with every script) and uses only POSIX sh
// and coreutils (stat -c, sha256sum, base64, mktemp), so that a node needs
// nothing else.
#include "provision/shell.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <random>

#include "common/strings.hpp"

namespace aicloud::provision {

std::string q(std::string_view value) { return shell_quote(value); }

std::string sh_var(std::string_view name, std::string_view value) {
  return std::string(name) + "=" + q(value) + "\n";
}

namespace {

const char* k_prelude = R"SH(aic_changed=0
aic_out() { printf '%s=%s\n' "$1" "$(printf '%s' "$2" | tr '\n\r' '  ')"; }
aic_fail() { aic_out failed 1; aic_out msg "$1"; exit 1; }
aic_sha256() { sha256sum < "$1" | cut -c1-64; }
aic_b64() { base64 < "$1" | tr -d '\n'; }
aic_newmode() { printf '%o' $(( 0666 & ~0$(umask) )); }
aic_symbolic() {
  if [ "$3" = 1 ]; then _t=$(mktemp -d) || return 1; else _t=$(mktemp) || return 1; fi
  if chmod "$1" "$_t" 2>/dev/null && chmod -- "$2" "$_t" 2>/dev/null; then stat -c %a -- "$_t"; _r=$?; else _r=1; fi
  rm -rf -- "$_t"; return $_r
}
aic_exists() {
  _p=$1; _ifs=$IFS; IFS=''; set +f
  for _f in $_p; do if [ -e "$_f" ] || [ -L "$_f" ]; then IFS=$_ifs; return 0; fi; done
  IFS=$_ifs; return 1
}
aic_install() {
  if [ -e "$2" ]; then
    chmod "$(stat -c %a -- "$2")" "$1"; chown "$(stat -c %u:%g -- "$2")" "$1" 2>/dev/null
  else
    chmod "$(aic_newmode)" "$1"
  fi
  if [ "$3" = 1 ] && [ -f "$2" ]; then _b="$2.$(date +%Y-%m-%d@%H:%M:%S)~"; cp -p -- "$2" "$_b" && aic_out backup_file "$_b"; fi
  mv -f -- "$1" "$2" || aic_fail "cannot replace $2"
}
aic_put() {
  _d=$(dirname -- "$1")
  if [ -d "$_d" ] && [ "$CHECK" != 1 ]; then _t=$(mktemp "$_d/.aicloud.XXXXXX"); else _t=$(mktemp); fi || aic_fail "cannot create a temporary file"
  printf '%s\n' "$2" > "$_t"
  if [ -f "$1" ] && cmp -s -- "$1" "$_t"; then rm -f -- "$_t"; return 0; fi
  aic_changed=1; aic_out wrote "$1"
  if [ "$CHECK" = 1 ]; then rm -f -- "$_t"; return 0; fi
  { mkdir -p -- "$_d" && chmod 644 "$_t" && mv -f -- "$_t" "$1"; } || { rm -f -- "$_t"; aic_fail "cannot write $1"; }
}
aic_del() {
  if [ -e "$1" ] || [ -L "$1" ]; then aic_changed=1; aic_out removed "$1"; [ "$CHECK" = 1 ] || rm -f -- "$1" || aic_fail "cannot remove $1"; fi
}
aic_attrs() {
  _p=$1 _m=$2 _o=$3 _g=$4 _d=$5
  [ -e "$_p" ] || [ -L "$_p" ] || return 0
  if [ -n "$_m" ] && [ ! -L "$_p" ]; then
    _cur=$(stat -c %a -- "$_p") || aic_fail "cannot read the mode of $_p"
    case $_m in *[!0-7]*) _want=$(aic_symbolic "$_cur" "$_m" "$_d") || aic_fail "invalid mode: $_m";; *) _want=$_m;; esac
    if [ "$_cur" != "$_want" ]; then
      aic_changed=1; aic_out mode_before "$_cur"; aic_out mode_after "$_want"
      [ "$CHECK" = 1 ] || chmod -- "$_want" "$_p" || aic_fail "chmod $_want $_p failed"
    fi
  fi
  if [ -n "$_o" ]; then
    case $_o in *[!0-9]*) _cur=$(stat -c %U -- "$_p");; *) _cur=$(stat -c %u -- "$_p");; esac
    if [ "$_cur" != "$_o" ]; then
      aic_changed=1; aic_out owner_before "$_cur"
      [ "$CHECK" = 1 ] || chown -h -- "$_o" "$_p" || aic_fail "chown $_o $_p failed"
    fi
  fi
  if [ -n "$_g" ]; then
    case $_g in *[!0-9]*) _cur=$(stat -c %G -- "$_p");; *) _cur=$(stat -c %g -- "$_p");; esac
    if [ "$_cur" != "$_g" ]; then
      aic_changed=1; aic_out group_before "$_cur"
      [ "$CHECK" = 1 ] || chgrp -h -- "$_g" "$_p" || aic_fail "chgrp $_g $_p failed"
    fi
  fi
}
)SH";

bool ere_special(char c) {
  switch (c) {
    case '.': case '[': case ']': case '(': case ')': case '*': case '+': case '?': case '{': case '}':
    case '|': case '^': case '$': case '\\':
      return true;
    default:
      return false;
  }
}

std::string literal_ere(char c) {
  if (c == '\t') return "\t";
  if (ere_special(c)) return std::string("\\") + c;
  return std::string(1, c);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string script_prelude(bool check) {
  std::string s = check ? "CHECK=1\n" : "CHECK=0\n";
  s += k_prelude;
  return s;
}

std::optional<std::string> canonical_mode(std::string_view mode, std::string* why) {
  std::string m(trim(mode));
  if (m.empty()) {
    if (why) *why = "empty mode";
    return std::nullopt;
  }
  bool digits = true;
  for (char c : m)
    if (c < '0' || c > '7') digits = false;
  if (digits) {
    if (m.size() > 5) {
      if (why) *why = "mode '" + m + "' has too many digits";
      return std::nullopt;
    }
    unsigned v = 0;
    for (char c : m) v = v * 8 + static_cast<unsigned>(c - '0');
    if (v > 07777) {
      if (why) *why = "mode '" + m + "' is larger than 07777";
      return std::nullopt;
    }
    char buf[8];
    std::snprintf(buf, sizeof buf, "%o", v);
    return std::string(buf);
  }
  // Symbolic: clause(,clause)* with clause = [ugoa]*([-+=]([rwxXst]*|[ugo]))+
  std::size_t i = 0;
  while (true) {
    while (i < m.size() && std::string_view("ugoa").find(m[i]) != std::string_view::npos) ++i;
    if (i >= m.size() || std::string_view("+-=").find(m[i]) == std::string_view::npos) {
      if (why) *why = "invalid mode '" + m + "' (use octal like 0644 or symbolic like u=rw,g=r,o=r)";
      return std::nullopt;
    }
    while (i < m.size() && std::string_view("+-=").find(m[i]) != std::string_view::npos) {
      ++i;
      if (i < m.size() && std::string_view("ugo").find(m[i]) != std::string_view::npos) {
        ++i;
      } else {
        while (i < m.size() && std::string_view("rwxXst").find(m[i]) != std::string_view::npos) ++i;
      }
    }
    if (i == m.size()) break;
    if (m[i] != ',') {
      if (why) *why = "invalid mode '" + m + "' (use octal like 0644 or symbolic like u=rw,g=r,o=r)";
      return std::nullopt;
    }
    ++i;
  }
  return m;
}

std::optional<TranslatedRegex> python_regex_to_ere(std::string_view p, std::string* why) {
  TranslatedRegex out;
  out.group_map.push_back(0);
  int ere_groups = 0;
  auto refuse = [&](const std::string& msg) -> std::optional<TranslatedRegex> {
    if (why) *why = msg;
    return std::nullopt;
  };
  std::string& o = out.ere;
  std::size_t i = 0;
  while (i < p.size()) {
    char c = p[i];
    if (c == '\\') {
      if (i + 1 >= p.size()) return refuse("the pattern ends with a lone backslash");
      char e = p[i + 1];
      i += 2;
      switch (e) {
        case 'd': o += "[0-9]"; continue;
        case 'D': o += "[^0-9]"; continue;
        case 's': o += "[[:space:]]"; continue;
        case 'S': o += "[^[:space:]]"; continue;
        case 'w': o += "[[:alnum:]_]"; continue;
        case 'W': o += "[^[:alnum:]_]"; continue;
        case 'A': o += "^"; continue;
        case 'Z': case 'z': o += "$"; continue;
        case 'b': o += "\\b"; continue;   // GNU grep/sed extension
        case 'B': o += "\\B"; continue;
        case 't': o += "\t"; continue;
        case 'n': case 'r': return refuse("'\\" + std::string(1, e) + "' cannot match inside one line");
        case 'x': {
          if (i + 1 >= p.size() + 0 || i + 2 > p.size() || hex_value(p[i]) < 0 || hex_value(p[i + 1]) < 0)
            return refuse("invalid \\x escape");
          char ch = static_cast<char>(hex_value(p[i]) * 16 + hex_value(p[i + 1]));
          i += 2;
          o += literal_ere(ch);
          continue;
        }
        default: break;
      }
      if (e >= '1' && e <= '9') return refuse("backreferences inside the pattern (\\" + std::string(1, e) + ") are not supported");
      if (std::isalnum(static_cast<unsigned char>(e))) return refuse("unsupported escape '\\" + std::string(1, e) + "'");
      o += literal_ere(e);
      continue;
    }
    if (c == '[') {
      // Bracket expression: collect members, then emit in POSIX order.
      std::size_t j = i + 1;
      bool negate = false;
      if (j < p.size() && p[j] == '^') {
        negate = true;
        ++j;
      }
      std::vector<std::string> items;
      bool has_close = false, has_dash = false, has_caret = false;
      bool first = true;
      while (j < p.size() && (p[j] != ']' || first)) {
        first = false;
        std::string item;
        char ch = p[j];
        if (ch == '\\') {
          if (j + 1 >= p.size()) return refuse("unterminated character class");
          char e = p[j + 1];
          j += 2;
          if (e == 'd') { items.push_back("0-9"); continue; }
          if (e == 's') { items.push_back("[:space:]"); continue; }
          if (e == 'w') { items.push_back("[:alnum:]_"); continue; }
          if (e == 'D' || e == 'S' || e == 'W') return refuse("negated classes (\\D \\S \\W) inside [...] are not supported");
          if (e == 't') ch = '\t';
          else if (e == 'n' || e == 'r') ch = '\n';
          else if (std::isalnum(static_cast<unsigned char>(e))) return refuse("unsupported escape '\\" + std::string(1, e) + "' in [...]");
          else ch = e;
        } else if (ch == '[' && j + 1 < p.size() && p[j + 1] == ':') {
          auto close = p.find(":]", j + 2);
          if (close == std::string_view::npos) return refuse("unterminated [: :] class");
          items.emplace_back(p.substr(j, close + 2 - j));
          j = close + 2;
          continue;
        } else {
          ++j;
        }
        // A range?
        if (j + 1 < p.size() && p[j] == '-' && p[j + 1] != ']') {
          char hi = p[j + 1];
          j += 2;
          if (hi == '\\') {
            if (j >= p.size()) return refuse("unterminated character class");
            hi = p[j++];
          }
          if (ch == ']' || hi == ']' || ch == '-' || hi == '-' || ch == '^' || hi == '^')
            return refuse("ranges starting or ending in ']' '-' or '^' are not supported");
          items.push_back(std::string(1, ch) + "-" + std::string(1, hi));
          continue;
        }
        if (ch == ']') has_close = true;
        else if (ch == '-') has_dash = true;
        else if (ch == '^') has_caret = true;
        else if (ch == '\n') continue;
        else items.emplace_back(1, ch);
      }
      if (j >= p.size()) return refuse("unterminated character class '['");
      i = j + 1;
      if (!negate && items.empty() && !has_close && !has_dash && has_caret) {
        o += "\\^";
        continue;
      }
      std::string b = "[";
      if (negate) b += "^";
      if (has_close) b += "]";
      for (const auto& it : items) b += it;
      if (has_caret) {
        if (b.size() == (negate ? 2u : 1u) && !has_close && items.empty() && !has_dash) return refuse("invalid class");
        b += "^";
      }
      if (has_dash) b += "-";
      b += "]";
      if (b == "[]" || b == "[^]") return refuse("empty character class");
      o += b;
      continue;
    }
    if (c == '(') {
      if (i + 1 < p.size() && p[i + 1] == '?') {
        if (p.substr(i, 3) == "(?:") {
          ++ere_groups;  // ERE has no non-capturing group: it still counts
          o += "(";
          i += 3;
          continue;
        }
        if (p.substr(i, 4) == "(?P<") {
          auto close = p.find('>', i + 4);
          if (close == std::string_view::npos) return refuse("unterminated group name");
          out.named_groups.emplace_back(std::string(p.substr(i + 4, close - i - 4)),
                                        static_cast<int>(out.group_map.size()));
          out.group_map.push_back(++ere_groups);
          o += "(";
          i = close + 1;
          continue;
        }
        if (p.substr(i, 3) == "(?#") {
          auto close = p.find(')', i);
          if (close == std::string_view::npos) return refuse("unterminated comment group");
          i = close + 1;
          continue;
        }
        return refuse("lookaround and inline-flag groups '(?...)' have no grep -E equivalent");
      }
      out.group_map.push_back(++ere_groups);
      o += "(";
      ++i;
      continue;
    }
    if (c == '{') {
      // A quantifier only when it looks like one ({n}, {n,}, {n,m}); else literal.
      std::size_t j = i + 1;
      while (j < p.size() && (std::isdigit(static_cast<unsigned char>(p[j])) || p[j] == ',')) ++j;
      if (j < p.size() && p[j] == '}' && j > i + 1 && std::isdigit(static_cast<unsigned char>(p[i + 1]))) {
        o += std::string(p.substr(i, j - i + 1));
        i = j + 1;
        if (i < p.size() && p[i] == '?') ++i;  // lazy: same lines match
        continue;
      }
      o += "\\{";
      ++i;
      continue;
    }
    if (c == '}') {
      o += "\\}";
      ++i;
      continue;
    }
    if (c == '*' || c == '+' || c == '?') {
      o += c;
      ++i;
      if (i < p.size() && p[i] == '?') ++i;  // lazy quantifier
      else if (i < p.size() && p[i] == '+') return refuse("possessive quantifiers are not supported");
      continue;
    }
    if (c == '\n') return refuse("a pattern cannot contain a newline");
    o += c;
    ++i;
  }
  return out;
}

std::optional<std::string> python_template_to_sed(std::string_view t, const TranslatedRegex& re, std::string* why) {
  std::string out;
  auto group = [&](int py) -> std::optional<std::string> {
    if (py < 0 || py >= static_cast<int>(re.group_map.size())) {
      if (why) *why = "invalid group reference \\" + std::to_string(py) + " in line";
      return std::nullopt;
    }
    int g = re.group_map[static_cast<std::size_t>(py)];
    if (g > 9) {
      if (why) *why = "group \\" + std::to_string(py) + " is beyond the 9 groups sed can refer to";
      return std::nullopt;
    }
    return g == 0 ? std::string("&") : "\\" + std::to_string(g);
  };
  for (std::size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    if (c == '\x01' || c == '\x02' || c == '\n') {
      if (why) *why = "the line contains a control character that backrefs cannot carry";
      return std::nullopt;
    }
    if (c == '&') {
      out += "\\&";
      continue;
    }
    if (c != '\\') {
      out += c;
      continue;
    }
    if (i + 1 >= t.size()) {
      out += "\\\\";
      continue;
    }
    char e = t[++i];
    if (std::isdigit(static_cast<unsigned char>(e))) {
      int n = e - '0';
      if (i + 1 < t.size() && std::isdigit(static_cast<unsigned char>(t[i + 1]))) n = n * 10 + (t[++i] - '0');
      auto g = group(n);
      if (!g) return std::nullopt;
      out += *g;
    } else if (e == 'g' && i + 1 < t.size() && t[i + 1] == '<') {
      auto close = t.find('>', i + 2);
      if (close == std::string_view::npos) {
        if (why) *why = "unterminated \\g<...> in line";
        return std::nullopt;
      }
      std::string name(t.substr(i + 2, close - i - 2));
      i = close;
      int py = -1;
      if (!name.empty() && std::all_of(name.begin(), name.end(), [](char x) { return std::isdigit(static_cast<unsigned char>(x)); })) {
        py = name.size() > 3 ? 1000 : std::stoi(name);
      } else {
        for (const auto& [n, num] : re.named_groups)
          if (n == name) py = num;
        if (py < 0) {
          if (why) *why = "unknown group name '" + name + "' in line";
          return std::nullopt;
        }
      }
      auto g = group(py);
      if (!g) return std::nullopt;
      out += *g;
    } else if (e == 't') {
      out += '\t';
    } else if (e == 'n') {
      if (why) *why = "a line cannot contain a newline";
      return std::nullopt;
    } else if (e == '\\') {
      out += "\\\\";
    } else {
      out += "\\\\";
      if (e == '&') out += "\\&";
      else out += e;
    }
  }
  return out;
}

std::optional<std::vector<std::string>> shlex_split(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  bool in_word = false;
  std::size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      if (in_word) {
        out.push_back(cur);
        cur.clear();
        in_word = false;
      }
      ++i;
      continue;
    }
    in_word = true;
    if (c == '\'') {
      auto close = s.find('\'', i + 1);
      if (close == std::string_view::npos) return std::nullopt;
      cur += s.substr(i + 1, close - i - 1);
      i = close + 1;
      continue;
    }
    if (c == '"') {
      ++i;
      bool closed = false;
      while (i < s.size()) {
        char d = s[i];
        if (d == '"') {
          closed = true;
          ++i;
          break;
        }
        if (d == '\\' && i + 1 < s.size() && (s[i + 1] == '"' || s[i + 1] == '\\' || s[i + 1] == '$' || s[i + 1] == '`' || s[i + 1] == '\n')) {
          if (s[i + 1] != '\n') cur += s[i + 1];
          i += 2;
          continue;
        }
        cur += d;
        ++i;
      }
      if (!closed) return std::nullopt;
      continue;
    }
    if (c == '\\') {
      if (i + 1 >= s.size()) return std::nullopt;
      if (s[i + 1] != '\n') cur += s[i + 1];
      i += 2;
      continue;
    }
    cur += c;
    ++i;
  }
  if (in_word) out.push_back(cur);
  return out;
}

namespace {
const char* k_b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
}

std::string base64_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  auto byte = [&](std::size_t k) { return static_cast<unsigned>(static_cast<unsigned char>(in[k])); };
  while (i + 2 < in.size()) {
    unsigned n = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out += k_b64chars[(n >> 18) & 63];
    out += k_b64chars[(n >> 12) & 63];
    out += k_b64chars[(n >> 6) & 63];
    out += k_b64chars[n & 63];
    i += 3;
  }
  if (i + 1 == in.size()) {
    unsigned n = byte(i) << 16;
    out += k_b64chars[(n >> 18) & 63];
    out += k_b64chars[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    unsigned n = (byte(i) << 16) | (byte(i + 1) << 8);
    out += k_b64chars[(n >> 18) & 63];
    out += k_b64chars[(n >> 12) & 63];
    out += k_b64chars[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view in) {
  std::string out;
  unsigned buf = 0;
  int bits = 0;
  std::string_view chars(k_b64chars);
  for (char c : in) {
    if (c == '=' || std::isspace(static_cast<unsigned char>(c))) continue;
    auto p = chars.find(c);
    if (p == std::string_view::npos) return std::nullopt;
    buf = ((buf << 6) | static_cast<unsigned>(p)) & 0xFFFFFF;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buf >> bits) & 0xFF);
    }
  }
  return out;
}

std::string replace_all_literal(std::string s, std::string_view from, std::string_view to) {
  if (from.empty()) return s;
  std::string out;
  std::size_t start = 0;
  while (true) {
    auto p = s.find(from, start);
    if (p == std::string::npos) break;
    out.append(s, start, p - start);
    out += to;
    start = p + from.size();
  }
  out.append(s, start, std::string::npos);
  return out;
}

std::string random_nonce() {
  std::random_device rd;
  std::uniform_int_distribution<unsigned> dist(0, 0xFFFFFFFFu);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%08x%08x", dist(rd), dist(rd));
  return buf;
}

}  // namespace aicloud::provision
