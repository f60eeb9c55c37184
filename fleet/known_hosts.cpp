// known_hosts reading, matching (plain, hashed, wildcard, negated),
// appending under flock, and atomic rewriting for `hostkeys forget`.
#include "fleet/known_hosts.hpp"

#include <fcntl.h>
#include <openssl/hmac.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/base64.hpp"
#include "common/error.hpp"
#include "common/files.hpp"
#include "common/sha256.hpp"
#include "common/strings.hpp"

namespace aicloud::fleet {

std::string_view to_string(KeyMatch m) {
  switch (m) {
    case KeyMatch::known: return "known";
    case KeyMatch::unknown: return "unknown";
    case KeyMatch::changed: return "changed";
    case KeyMatch::revoked: return "revoked";
  }
  return "unknown";
}

bool glob_match(std::string_view p, std::string_view s) {
  // Iterative wildcard match with backtracking on the last '*'.
  std::size_t pi = 0, si = 0, star = std::string_view::npos, mark = 0;
  while (si < s.size()) {
    if (pi < p.size() && (p[pi] == '?' || std::tolower(static_cast<unsigned char>(p[pi])) ==
                                                 std::tolower(static_cast<unsigned char>(s[si])))) {
      ++pi;
      ++si;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = si;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

namespace {

// "|1|salt|hash": HMAC-SHA1(salt, name) == hash.
bool hashed_matches(const std::string& pattern, const std::string& name) {
  auto parts = split(pattern, '|');
  if (parts.size() != 4 || !parts[0].empty() || parts[1] != "1") return false;
  auto salt = base64_decode(parts[2]);
  auto hash = base64_decode(parts[3]);
  if (!salt || !hash) return false;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  HMAC(EVP_sha1(), salt->data(), static_cast<int>(salt->size()), reinterpret_cast<const unsigned char*>(name.data()),
       name.size(), md, &md_len);
  return md_len == hash->size() && std::memcmp(md, hash->data(), md_len) == 0;
}

}  // namespace

std::string key_type_of_blob(std::string_view blob) {
  if (blob.size() < 4) return {};
  auto byte = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(blob[i])); };
  std::uint32_t n = byte(0) << 24 | byte(1) << 16 | byte(2) << 8 | byte(3);
  if (n > blob.size() - 4) return {};
  return std::string(blob.substr(4, n));
}

std::string KnownHosts::host_key_name(const std::string& address, int port) {
  if (port == 0 || port == 22) return to_lower(address);
  return "[" + to_lower(address) + "]:" + std::to_string(port);
}

std::string KnownHosts::fingerprint_sha256(std::string_view blob) {
  std::string b64 = base64_encode(sha256_raw(blob));
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  return "SHA256:" + b64;
}

KnownHosts::Line KnownHosts::parse_line(const std::string& raw) {
  Line l;
  l.raw = raw;
  std::string_view t = trim(raw);
  if (t.empty() || t.front() == '#') return l;
  std::vector<std::string> f;
  for (auto& w : split(t, ' ', false)) {
    for (auto& x : split(w, '\t', false)) f.push_back(x);
  }
  std::size_t i = 0;
  if (!f.empty() && f[0].front() == '@') l.marker = f[i++];
  if (f.size() < i + 3) return l;
  l.patterns = split(f[i], ',', false);
  l.type = f[i + 1];
  auto blob = base64_decode(f[i + 2]);
  if (!blob || blob->empty()) return l;
  l.blob = std::move(*blob);
  // The blob names its own type; a line whose field disagrees is corrupt.
  if (key_type_of_blob(l.blob) != l.type && l.marker != "@cert-authority") return l;
  l.valid = !l.patterns.empty();
  return l;
}

bool KnownHosts::host_matches(const Line& line, const std::string& name) {
  bool positive = false;
  for (const auto& p : line.patterns) {
    bool negate = !p.empty() && p.front() == '!';
    std::string pat = negate ? p.substr(1) : p;
    bool m = starts_with(pat, "|1|") ? hashed_matches(pat, name) : glob_match(pat, name);
    if (m && negate) return false;
    if (m) positive = true;
  }
  return positive;
}

KnownHosts KnownHosts::parse(const std::string& text, const std::string& path) {
  KnownHosts k;
  k.m_path = path;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t nl = text.find('\n', start);
    std::string raw = text.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    if (!raw.empty() && raw.back() == '\r') raw.pop_back();
    k.m_lines.push_back(parse_line(raw));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return k;
}

KnownHosts KnownHosts::load(const std::string& path) {
  if (!file_exists(path)) {
    KnownHosts k;
    k.m_path = path;
    return k;
  }
  std::string text;
  try {
    text = read_text_file(path, 256ull << 20);
  } catch (const InputError& e) {
    if (e.diagnostics().empty()) throw Error("cannot read known_hosts " + path);
    throw Error("known_hosts " + path + ": " + e.diagnostics().front().message);
  }
  return parse(text, path);
}

KnownHosts::KnownHosts(KnownHosts&& o) noexcept : m_path(std::move(o.m_path)), m_lines(std::move(o.m_lines)) {}
KnownHosts& KnownHosts::operator=(KnownHosts&& o) noexcept {
  m_path = std::move(o.m_path);
  m_lines = std::move(o.m_lines);
  return *this;
}

KeyMatch KnownHosts::check(const std::vector<std::string>& names, std::string_view key_type, std::string_view blob,
                           std::string* expected) const {
  std::shared_lock lock(m_mutex);
  bool any = false, same = false;
  std::vector<std::string> fps;
  for (const auto& l : m_lines) {
    if (!l.valid || l.marker == "@cert-authority") continue;
    bool match = false;
    for (const auto& n : names)
      if (host_matches(l, to_lower(n))) {
        match = true;
        break;
      }
    if (l.marker == "@revoked") {
      // @revoked applies to the key, whatever host patterns say ("*" usually).
      if (l.blob == blob && (match || std::any_of(l.patterns.begin(), l.patterns.end(), [](auto& p) { return p == "*"; })))
        return KeyMatch::revoked;
      continue;
    }
    if (!match) continue;
    any = true;
    if (l.type == key_type && l.blob == blob) same = true;
    else fps.push_back(l.type + " " + fingerprint_sha256(l.blob));
  }
  if (same) return KeyMatch::known;
  if (!any) return KeyMatch::unknown;
  if (expected) *expected = join(fps, ", ");
  return KeyMatch::changed;
}

std::vector<std::string> KnownHosts::known_types(const std::vector<std::string>& names) const {
  std::shared_lock lock(m_mutex);
  std::vector<std::string> out;
  for (const auto& l : m_lines) {
    if (!l.valid || !l.marker.empty()) continue;
    for (const auto& n : names)
      if (host_matches(l, to_lower(n))) {
        if (std::find(out.begin(), out.end(), l.type) == out.end()) out.push_back(l.type);
        break;
      }
  }
  return out;
}

void KnownHosts::add(const std::vector<std::string>& names, std::string_view key_type, std::string_view blob) {
  std::unique_lock lock(m_mutex);
  for (const auto& l : m_lines) {
    if (!l.valid || !l.marker.empty() || l.blob != blob) continue;
    bool all = std::all_of(names.begin(), names.end(), [&](const std::string& n) { return host_matches(l, to_lower(n)); });
    if (all) return;
  }
  append_locked(names, key_type, blob);
}

void KnownHosts::append_locked(const std::vector<std::string>& names, std::string_view type, std::string_view blob) {
  if (m_path.empty()) throw Error("no known_hosts file to record host keys in");
  std::vector<std::string> lowered;
  for (const auto& n : names) lowered.push_back(to_lower(n));
  std::string line = join(lowered, ",") + " " + std::string(type) + " " + base64_encode(blob);
  int fd = ::open(m_path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw Error("cannot write known_hosts " + m_path + ": " + std::strerror(errno));
  ::flock(fd, LOCK_EX);
  std::string out;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && st.st_size > 0) {
    char last = '\n';
    if (::pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n') out += '\n';
  }
  out += line + "\n";
  bool ok = ::write(fd, out.data(), out.size()) == static_cast<ssize_t>(out.size());
  int err = errno;
  ok = ok && ::fsync(fd) == 0;
  ::flock(fd, LOCK_UN);
  ::close(fd);
  if (!ok) throw Error("cannot write known_hosts " + m_path + ": " + std::strerror(err));
  m_lines.push_back(parse_line(line));
}

std::size_t KnownHosts::forget(const std::vector<std::string>& names) {
  std::unique_lock lock(m_mutex);
  if (m_path.empty() || !file_exists(m_path)) return 0;
  // Lock the file against concurrent appends and reread it, so that keys
  // recorded by another run since we loaded it are kept.
  int fd = ::open(m_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error("cannot open known_hosts " + m_path + ": " + std::strerror(errno));
  ::flock(fd, LOCK_EX);
  KnownHosts fresh;
  try {
    fresh = load(m_path);
  } catch (...) {
    ::close(fd);
    throw;
  }
  std::vector<std::string> lowered;
  for (const auto& n : names) lowered.push_back(to_lower(n));
  std::string out;
  std::vector<Line> kept;
  std::size_t removed = 0;
  for (auto& l : fresh.m_lines) {
    bool match = l.valid && l.marker.empty() &&
                 std::any_of(lowered.begin(), lowered.end(), [&](const std::string& n) { return host_matches(l, n); });
    if (match) {
      ++removed;
      continue;
    }
    out += l.raw + "\n";
    kept.push_back(std::move(l));
  }
  if (removed > 0) {
    struct stat st {};
    unsigned mode = ::fstat(fd, &st) == 0 ? (st.st_mode & 07777) : 0644;
    try {
      write_file_atomic(m_path, out, mode);
    } catch (...) {
      ::close(fd);
      throw;
    }
  }
  ::close(fd);
  m_lines = std::move(kept);
  return removed;
}

std::vector<KnownHostEntry> KnownHosts::entries() const {
  std::shared_lock lock(m_mutex);
  std::vector<KnownHostEntry> out;
  int n = 0;
  for (const auto& l : m_lines) {
    ++n;
    if (!l.valid) continue;
    KnownHostEntry e;
    e.hosts = join(l.patterns, ",");
    e.key_type = l.type;
    e.fingerprint = fingerprint_sha256(l.blob);
    e.marker = l.marker;
    e.line = n;
    e.hashed = std::any_of(l.patterns.begin(), l.patterns.end(), [](auto& p) { return starts_with(p, "|1|"); });
    out.push_back(std::move(e));
  }
  return out;
}

bool KnownHosts::line_matches(const KnownHostEntry& entry, const std::string& name) const {
  Line l;
  l.patterns = split(entry.hosts, ',', false);
  return host_matches(l, to_lower(name));
}

}  // namespace aicloud::fleet
