// A known_hosts file in OpenSSH's format, read once per run and consulted
// from every worker thread; the host-key policy is ours to enforce (libssh
// enforces none). Lookups follow OpenSSH: a host on port 22 is "addr", on
// another port "[addr]:port"; patterns may be hashed (|1|salt|hash), use
// wildcards (* ?) and negation (!); "@revoked" lines refuse a key;
// "@cert-authority" lines are not supported and are ignored (such hosts
// count as unknown). Lines we do not understand are kept verbatim when the
// file is rewritten, so `ssh-keygen -F` and OpenSSH keep reading it.
#pragma once

#include <cstddef>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace aicloud::fleet {

// The outcome of comparing a host's key with the file.
enum class KeyMatch {
  known,     // a matching line has exactly this key
  unknown,   // no line matches the host
  changed,   // lines match the host, none with this key (same or other type)
  revoked,   // the key is listed under @revoked
};

std::string_view to_string(KeyMatch m);

// One entry of the file, for `hostkeys list`.
struct KnownHostEntry {
  std::string hosts;         // the host pattern field as written ("|1|..." when hashed)
  std::string key_type;      // "ssh-ed25519"
  std::string fingerprint;   // "SHA256:..."
  std::string marker;        // "", "@revoked" or "@cert-authority"
  int line = 0;              // 1-based
  bool hashed = false;
};

class KnownHosts {
 public:
  KnownHosts() = default;
  // Reads `path`; a missing file is an empty store (accept-new creates it).
  // Throws Error when it exists but cannot be read.
  static KnownHosts load(const std::string& path);

  const std::string& path() const { return m_path; }

  // The lookup name OpenSSH uses: "addr" for port 22 (or 0), "[addr]:port" otherwise.
  static std::string host_key_name(const std::string& address, int port);
  // "SHA256:<base64 without padding>" of a public-key blob (as ssh-keygen -l prints).
  static std::string fingerprint_sha256(std::string_view blob);

  // Compares a host's key (type and raw blob) with every line matching one
  // of `names`. When the answer is `changed`, *expected receives the
  // fingerprint(s) on file. Thread-safe.
  KeyMatch check(const std::vector<std::string>& names, std::string_view key_type, std::string_view blob,
                 std::string* expected = nullptr) const;
  // Key types on file for these names, in file order (to prefer them in the
  // host-key algorithm negotiation, as OpenSSH does).
  std::vector<std::string> known_types(const std::vector<std::string>& names) const;

  // Appends "names type base64" to the file (created 0644 if missing) under
  // an flock, and to memory. Does nothing if the exact key is already
  // there. Thread-safe; throws Error when the file cannot be written.
  void add(const std::vector<std::string>& names, std::string_view key_type, std::string_view blob);

  // Removes every line (plain or hashed) that matches one of `names`,
  // rewriting the file atomically; returns how many lines were removed.
  std::size_t forget(const std::vector<std::string>& names);

  std::vector<KnownHostEntry> entries() const;
  // True when a line's host field matches `name` (used by `hostkeys list`).
  bool line_matches(const KnownHostEntry& entry, const std::string& name) const;

  // Parses text that is already in memory (tests).
  static KnownHosts parse(const std::string& text, const std::string& path);

 private:
  struct Line {
    std::string raw;                 // verbatim text, without the newline
    std::string marker;              // "", "@revoked", "@cert-authority"
    std::vector<std::string> patterns;
    std::string type;
    std::string blob;                // decoded key
    bool valid = false;
  };
  static Line parse_line(const std::string& raw);
  static bool host_matches(const Line& line, const std::string& name);
  void append_locked(const std::vector<std::string>& names, std::string_view type, std::string_view blob);

  std::string m_path;
  std::vector<Line> m_lines;
  mutable std::shared_mutex m_mutex;

 public:
  KnownHosts(KnownHosts&& other) noexcept;
  KnownHosts& operator=(KnownHosts&& other) noexcept;
};

// The key type a public-key blob names in its first field ("ssh-ed25519");
// empty when the blob is malformed.
std::string key_type_of_blob(std::string_view blob);

// Matches a host name against one OpenSSH pattern ("*", "?" wildcards).
bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace aicloud::fleet
