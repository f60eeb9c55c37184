// Session: connect (own socket, ssh_config order, host-key policy, auth),
// commands on channels driven by our poll() loop (timeouts, Ctrl-C,
// keepalive), and file pushes verified by SHA-256. See session.hpp.
#include "fleet/session.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libssh/callbacks.h>
#include <libssh/server.h>  // ssh_send_keepalive
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <map>
#include <mutex>
#include <set>

#include "common/base64.hpp"
#include "common/error.hpp"
#include "common/files.hpp"
#include "common/interrupt.hpp"
#include "common/sha256.hpp"
#include "common/strings.hpp"
#include "fleet/jump.hpp"
#include "fleet/ssh_init.hpp"

namespace aicloud::fleet {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

std::string_view to_string(ConnectError e) {
  switch (e) {
    case ConnectError::none: return "none";
    case ConnectError::config: return "config";
    case ConnectError::resolve: return "resolve";
    case ConnectError::refused: return "refused";
    case ConnectError::connect_timeout: return "connect_timeout";
    case ConnectError::network: return "network";
    case ConnectError::no_banner: return "no_banner";
    case ConnectError::protocol: return "protocol";
    case ConnectError::host_key_unknown: return "host_key_unknown";
    case ConnectError::host_key_changed: return "host_key_changed";
    case ConnectError::host_key_revoked: return "host_key_revoked";
    case ConnectError::auth_denied: return "auth_denied";
    case ConnectError::auth_partial: return "auth_partial";
    case ConnectError::jump: return "jump";
    case ConnectError::interrupted: return "interrupted";
  }
  return "none";
}

std::string become_command(std::string_view command) {
  return "sudo -n -H -- /bin/sh -c " + shell_quote(command);
}

// ---------------------------------------------------------------------------
// Ctrl-C: sockets of sessions inside blocking libssh calls are shut down so
// that the call returns at once.
// ---------------------------------------------------------------------------
namespace {

std::mutex g_cancel_mutex;
std::set<int> g_blocking_fds;
bool g_cancelled = false;

class BlockingScope {
 public:
  explicit BlockingScope(int fd) : m_fd(fd) {
    if (m_fd < 0) return;
    std::lock_guard lock(g_cancel_mutex);
    g_blocking_fds.insert(m_fd);
    if (g_cancelled) ::shutdown(m_fd, SHUT_RDWR);
  }
  ~BlockingScope() {
    if (m_fd < 0) return;
    std::lock_guard lock(g_cancel_mutex);
    g_blocking_fds.erase(m_fd);
  }
  BlockingScope(const BlockingScope&) = delete;
  BlockingScope& operator=(const BlockingScope&) = delete;

 private:
  int m_fd;
};

// Temporarily non-blocking: libssh then processes what is there and returns.
class NonBlocking {
 public:
  explicit NonBlocking(ssh_session s) : m_s(s), m_was(ssh_is_blocking(s)) { ssh_set_blocking(m_s, 0); }
  ~NonBlocking() { ssh_set_blocking(m_s, m_was); }

 private:
  ssh_session m_s;
  int m_was;
};

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string fmt_seconds(Seconds s) { return format_duration(s); }

int ms_until(Clock::time_point t) {
  auto d = duration_cast<milliseconds>(t - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(d, 0, 60'000));
}

// Passphrase callback: never prompt (a run in CI has no terminal).
int no_prompt(const char*, char*, size_t, int, int, void*) { return -1; }

std::string expand_home(const std::string& path) {
  if (path == "~") return home_dir();
  if (starts_with(path, "~/")) return home_dir() + path.substr(1);
  return path;
}

// Private keys loaded once per worker thread: parsing a key file per host
// costs more than signing with it, and keeping one copy per thread avoids
// any question about sharing libssh key objects between threads.
struct KeyCache {
  std::map<std::string, std::pair<ssh_key, std::string>> keys;
  ~KeyCache() {
    for (auto& [path, kv] : keys)
      if (kv.first) ssh_key_free(kv.first);
  }
};
thread_local KeyCache t_keys;

ssh_key load_identity(const std::string& path, std::string* error) {
  auto it = t_keys.keys.find(path);
  if (it == t_keys.keys.end()) {
    ssh_key key = nullptr;
    std::string err;
    std::string file = expand_home(path);
    if (!file_exists(file)) {
      err = "identity " + path + ": no such file";
    } else if (ssh_pki_import_privkey_file(file.c_str(), nullptr, no_prompt, nullptr, &key) != SSH_OK) {
      key = nullptr;
      err = "identity " + path + " cannot be used (unreadable, not a private key, or protected by a passphrase: "
            "load such keys into ssh-agent)";
    }
    it = t_keys.keys.emplace(path, std::make_pair(key, err)).first;
  }
  if (!it->second.first && error) *error = it->second.second;
  return it->second.first;
}

// Host-key algorithm names for a key type on file, so that a host offering
// several keys presents the one we know (as OpenSSH orders them).
std::vector<std::string> algorithms_for_type(const std::string& type) {
  if (type == "ssh-rsa") return {"rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"};
  return {type};
}
const char* k_default_hostkeys =
    "ssh-ed25519,ecdsa-sha2-nistp521,ecdsa-sha2-nistp384,ecdsa-sha2-nistp256,"
    "sk-ssh-ed25519@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com,rsa-sha2-512,rsa-sha2-256";

// Non-blocking TCP connect that honours the deadline and Ctrl-C.
int tcp_connect(const std::string& host, int port, Clock::time_point deadline, ConnectError* kind, std::string* err) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | AI_NUMERICHOST;
  addrinfo* res = nullptr;
  std::string service = std::to_string(port);
  int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res);
  if (rc == EAI_NONAME) {
    hints.ai_flags = AI_NUMERICSERV;
    rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res);
  }
  if (rc != 0) {
    *kind = ConnectError::resolve;
    *err = "cannot resolve " + host + ": " + ::gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  *kind = ConnectError::network;
  *err = "no address to connect to";
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      *err = std::string("socket: ") + std::strerror(errno);
      continue;
    }
    int r = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    int e = r == 0 ? 0 : errno;
    if (e == EINPROGRESS) {
      pollfd p[2] = {{fd, POLLOUT, 0}, {interrupt_fd(), POLLIN, 0}};
      while (true) {
        if (interrupted()) {
          e = EINTR;
          break;
        }
        int ms = ms_until(deadline);
        if (ms <= 0 && Clock::now() >= deadline) {
          e = ETIMEDOUT;
          break;
        }
        int n = ::poll(p, p[1].fd >= 0 ? 2 : 1, std::max(ms, 1));
        if (n < 0 && errno == EINTR) continue;
        if (n > 0 && (p[0].revents & (POLLOUT | POLLERR | POLLHUP))) {
          socklen_t len = sizeof e;
          if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) != 0) e = errno;
          break;
        }
        if (n > 0 && (p[1].revents & POLLIN)) continue;  // loop sees interrupted()
      }
    }
    if (e == 0) {
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      ::freeaddrinfo(res);
      return fd;
    }
    ::close(fd);
    fd = -1;
    if (e == EINTR) {
      *kind = ConnectError::interrupted;
      *err = "interrupted";
      break;
    }
    if (e == ECONNREFUSED) {
      *kind = ConnectError::refused;
      *err = "connection refused";
    } else if (e == ETIMEDOUT) {
      *kind = ConnectError::connect_timeout;
      *err = "TCP connect timed out";
    } else {
      *kind = ConnectError::network;
      *err = std::string("connect: ") + std::strerror(e);
    }
    if (Clock::now() >= deadline) break;
  }
  ::freeaddrinfo(res);
  return -1;
}

// Steps 1-3 of the ssh_config order: (1) the host as "Host" blocks see it:
// the inventory name when it is a plain host name (so "Host gpu-*" works),
// else the address; (2) ssh_config, before our values so that it cannot
// overwrite them; (3) inventory and command-line values.
bool apply_connection_options(ssh_session s, const Target& target, const ConnectionOptions& o, std::string* err) {
  const std::string& address = target.address.empty() ? target.name : target.address;
  std::string config_host = is_plain_hostname(target.name) ? target.name : address;
  if (ssh_options_set(s, SSH_OPTIONS_HOST, config_host.c_str()) != SSH_OK) {
    config_host = address;
    if (ssh_options_set(s, SSH_OPTIONS_HOST, address.c_str()) != SSH_OK) {
      *err = "invalid host address '" + address + "'";
      return false;
    }
  }
  if (o.no_ssh_config) {
    int off = 0;
    ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &off);
  } else if (ssh_options_parse_config(s, o.ssh_config.empty() ? nullptr : o.ssh_config.c_str()) != 0) {
    *err = std::string("ssh_config: ") + ssh_get_error(s);
    return false;
  }
  if (address != config_host && ssh_options_set(s, SSH_OPTIONS_HOST, address.c_str()) != SSH_OK) {
    *err = "invalid host address '" + address + "'";
    return false;
  }
  if (target.port > 0) {
    int port = target.port;
    ssh_options_set(s, SSH_OPTIONS_PORT, &port);
  }
  if (!target.user.empty() && ssh_options_set(s, SSH_OPTIONS_USER, target.user.c_str()) != SSH_OK) {
    *err = "invalid user name '" + target.user + "'";
    return false;
  }
  return true;
}

std::pair<std::string, int> effective_host_port(ssh_session s, const std::string& fallback) {
  char* h = nullptr;
  std::string host = fallback;
  if (ssh_options_get(s, SSH_OPTIONS_HOST, &h) == SSH_OK && h) {
    host = h;
    ssh_string_free_char(h);
  }
  unsigned int port = 22;
  ssh_options_get_port(s, &port);
  return {host, static_cast<int>(port)};
}

}  // namespace

std::string known_hosts_name(const Target& target, const ConnectionOptions& options) {
  ensure_ssh_initialized();
  ssh_session s = ssh_new();
  if (!s) throw Error("libssh: out of memory");
  std::string err;
  const std::string& address = target.address.empty() ? target.name : target.address;
  std::pair<std::string, int> hp{address, target.port > 0 ? target.port : 22};
  if (apply_connection_options(s, target, options, &err)) hp = effective_host_port(s, address);
  ssh_free(s);
  return KnownHosts::host_key_name(hp.first, hp.second);
}

void cancel_blocking_io() {
  std::lock_guard lock(g_cancel_mutex);
  g_cancelled = true;
  for (int fd : g_blocking_fds) ::shutdown(fd, SHUT_RDWR);
}

void reset_cancel_for_tests() {
  std::lock_guard lock(g_cancel_mutex);
  g_cancelled = false;
}

// ---------------------------------------------------------------------------
// Session
// ---------------------------------------------------------------------------

Session::Session() { ensure_ssh_initialized(); }

Session::~Session() { close(); }

bool Session::connected() const { return m_connected && !m_dead; }

void Session::close() {
  if (m_s) {
    if (m_connected && !m_dead) {
      // A bounded, clean goodbye (SSH_MSG_DISCONNECT).
      set_timeout(Clock::now() + std::chrono::seconds(2));
      ssh_disconnect(m_s);
    }
    ssh_free(m_s);  // closes the socket we handed over
    m_s = nullptr;
    m_fd = -1;
  } else if (m_fd >= 0) {
    ::close(m_fd);
    m_fd = -1;
  }
  m_connected = false;
}

bool Session::fail(ConnectError kind, std::string message) {
  if (interrupted() && kind != ConnectError::host_key_changed && kind != ConnectError::host_key_unknown) {
    kind = ConnectError::interrupted;
    message = "interrupted (Ctrl-C) while connecting";
  }
  m_error_kind = kind;
  m_error = std::move(message);
  m_connected = false;
  return false;
}

void Session::set_timeout(Clock::time_point deadline) {
  auto us = duration_cast<std::chrono::microseconds>(deadline - Clock::now()).count();
  if (us < 1000) us = 1000;  // 0/0 would mean "no timeout" to libssh
  long sec = static_cast<long>(us / 1'000'000), usec = static_cast<long>(us % 1'000'000);
  ssh_options_set(m_s, SSH_OPTIONS_TIMEOUT, &sec);
  ssh_options_set(m_s, SSH_OPTIONS_TIMEOUT_USEC, &usec);
}

void Session::mark_dead(const std::string& why) {
  m_dead = true;
  if (m_error.empty()) m_error = why;
}

bool Session::connect(const Target& target, const ConnectionOptions& o, KnownHosts& known, JumpPool* jumps, Mode mode) {
  close();
  auto t0 = Clock::now();
  auto deadline = t0 + duration_cast<Clock::duration>(o.connect_timeout);
  m_target = target;
  m_connect_timeout = o.connect_timeout;
  m_keepalive_interval = o.keepalive_interval;
  m_keepalive_count = o.keepalive_count;
  m_identities = o.identities;
  if (!target.identity_file.empty() &&
      std::find(m_identities.begin(), m_identities.end(), target.identity_file) == m_identities.end())
    m_identities.push_back(target.identity_file);
  m_error_kind = ConnectError::none;
  m_error.clear();
  m_dead = false;
  m_key_fp.clear();
  m_key_type.clear();
  m_key_blob.clear();
  m_key_match = KeyMatch::unknown;
  struct Timer {
    Clock::time_point t0;
    double* out;
    ~Timer() { *out = seconds_since(t0); }
  } timer{t0, &m_connect_s};

  if (interrupted()) return fail(ConnectError::interrupted, "interrupted (Ctrl-C) before connecting");
  m_s = ssh_new();
  if (!m_s) return fail(ConnectError::config, "libssh: out of memory");
  ssh_callbacks_init(&m_callbacks);
  m_callbacks.auth_function = no_prompt;
  ssh_set_callbacks(m_s, &m_callbacks);

  std::string err;
  if (!apply_connection_options(m_s, target, o, &err)) return fail(ConnectError::config, err);
  // Host keys are checked by us against our file: keep libssh from reading
  // ~/.ssh/known_hosts (per host, just to order algorithms).
  ssh_options_set(m_s, SSH_OPTIONS_KNOWNHOSTS, "/dev/null");
  ssh_options_set(m_s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null");
  int nodelay = 1;
  ssh_options_set(m_s, SSH_OPTIONS_NODELAY, &nodelay);
  ssh_set_counters(m_s, nullptr, &m_rx);

  auto [host, port] = effective_host_port(m_s, target.address.empty() ? target.name : target.address);
  m_key_name = KnownHosts::host_key_name(host, static_cast<int>(port));
  const std::vector<std::string> names{m_key_name};

  if (o.host_key_policy != HostKeyPolicy::off || mode == Mode::host_key_only) {
    auto types = known.known_types(names);
    if (!types.empty()) {
      std::vector<std::string> algos;
      for (const auto& t : types)
        for (auto& a : algorithms_for_type(t))
          if (std::find(algos.begin(), algos.end(), a) == algos.end()) algos.push_back(a);
      for (auto& a : split(k_default_hostkeys, ','))
        if (std::find(algos.begin(), algos.end(), a) == algos.end()) algos.push_back(a);
      ssh_options_set(m_s, SSH_OPTIONS_HOSTKEYS, join(algos, ",").c_str());
    }
  }

  // The socket: through the jump host, by ssh_config's ProxyCommand, or ours.
  char* proxy = nullptr;
  bool has_proxy = ssh_options_get(m_s, SSH_OPTIONS_PROXYCOMMAND, &proxy) == SSH_OK && proxy && *proxy;
  if (proxy) ssh_string_free_char(proxy);
  if (target.jump) {
    if (!jumps) return fail(ConnectError::jump, "jump host " + target.jump->name + " given but no jump pool");
    std::string jerr;
    m_fd = jumps->open(*target.jump, host, static_cast<int>(port), deadline, &jerr);
    if (m_fd < 0) return fail(ConnectError::jump, "jump host " + target.jump->name + ": " + jerr);
    // The jump host may have taken most of the deadline; the target's own
    // handshake gets a full one.
    deadline = std::max(deadline, Clock::now() + duration_cast<Clock::duration>(o.connect_timeout));
  } else if (!has_proxy) {
    ConnectError kind = ConnectError::none;
    std::string err;
    m_fd = tcp_connect(host, static_cast<int>(port), deadline, &kind, &err);
    if (m_fd < 0) {
      if (kind == ConnectError::connect_timeout)
        err = "TCP connect to " + host + ":" + std::to_string(port) + " timed out after " + fmt_seconds(o.connect_timeout);
      else if (kind == ConnectError::refused)
        err = "connection refused by " + host + ":" + std::to_string(port);
      return fail(kind, err);
    }
  }
  if (m_fd >= 0) {
    socket_t fd = m_fd;
    ssh_options_set(m_s, SSH_OPTIONS_FD, &fd);
  }

  // Banner and key exchange, bounded by what is left of the deadline.
  {
    BlockingScope scope(m_fd);
    set_timeout(deadline);
    if (ssh_connect(m_s) != SSH_OK) {
      bool banner = ssh_get_serverbanner(m_s) != nullptr;
      if (Clock::now() >= deadline - milliseconds(20)) {
        if (!banner)
          return fail(ConnectError::no_banner, "no SSH banner within " + fmt_seconds(o.connect_timeout) +
                                                   " (the host accepts TCP connections but does not answer)");
        return fail(ConnectError::no_banner, "SSH key exchange did not finish within " + fmt_seconds(o.connect_timeout));
      }
      return fail(ConnectError::protocol, std::string("SSH handshake failed: ") + ssh_get_error(m_s));
    }
  }

  // The host key, before anything else goes to the host.
  ssh_key key = nullptr;
  if (ssh_get_server_publickey(m_s, &key) != SSH_OK || !key)
    return fail(ConnectError::protocol, std::string("no host key: ") + ssh_get_error(m_s));
  char* b64 = nullptr;
  int brc = ssh_pki_export_pubkey_base64(key, &b64);
  ssh_key_free(key);
  std::optional<std::string> decoded;
  if (brc == SSH_OK && b64) decoded = base64_decode(b64);
  if (decoded) m_key_blob = std::move(*decoded);
  if (b64) ssh_string_free_char(b64);
  if (!decoded) return fail(ConnectError::protocol, "cannot read the host key");
  m_key_type = key_type_of_blob(m_key_blob);
  m_key_fp = KnownHosts::fingerprint_sha256(m_key_blob);
  std::string expected;
  m_key_match = known.check(names, m_key_type, m_key_blob, &expected);
  if (mode == Mode::host_key_only) {
    m_connected = true;
    return true;
  }
  switch (m_key_match) {
    case KeyMatch::known: break;
    case KeyMatch::unknown:
      if (o.host_key_policy == HostKeyPolicy::strict)
        return fail(ConnectError::host_key_unknown,
                    "host key " + m_key_type + " " + m_key_fp + " for " + m_key_name + " is not in " + known.path() +
                        " (record it with 'aicloudctl hostkeys scan', or use --host-key-policy accept-new)");
      if (o.host_key_policy == HostKeyPolicy::accept_new) {
        try {
          known.add(names, m_key_type, m_key_blob);
        } catch (const Error& e) {
          return fail(ConnectError::config, e.what());
        }
      }
      break;
    case KeyMatch::changed:
      if (o.host_key_policy != HostKeyPolicy::off)
        return fail(ConnectError::host_key_changed,
                    "HOST KEY CHANGED for " + m_key_name + ": the host presented " + m_key_type + " " + m_key_fp +
                        ", " + known.path() + " has " + expected +
                        "; nothing was run. If the node was re-imaged, run 'aicloudctl hostkeys forget'");
      break;
    case KeyMatch::revoked:
      return fail(ConnectError::host_key_revoked, "host key " + m_key_fp + " of " + m_key_name + " is @revoked in " + known.path());
  }

  if (!authenticate(deadline)) return false;
  m_connected = true;
  m_last_rx = Clock::now();
  m_last_packets = m_rx.in_packets;
  m_keepalives_unanswered = 0;
  return true;
}

bool Session::authenticate(Clock::time_point deadline) {
  BlockingScope scope(m_fd);
  set_timeout(deadline);
  std::vector<std::string> notes;
  auto result = [&](int rc, const std::string& what) -> int {
    if (rc == SSH_AUTH_PARTIAL) {
      fail(ConnectError::auth_partial, "the server accepted " + what +
                                           " but wants more authentication methods (aicloudctl only does public keys)");
      return 1;
    }
    if (rc == SSH_AUTH_ERROR) {
      if (Clock::now() >= deadline - milliseconds(20))
        fail(ConnectError::no_banner, "authentication did not finish within " + fmt_seconds(m_connect_timeout));
      else
        fail(ConnectError::protocol, std::string("authentication failed: ") + ssh_get_error(m_s));
      return 1;
    }
    return rc == SSH_AUTH_SUCCESS ? 2 : 0;
  };
  for (const auto& id : m_identities) {
    std::string err;
    ssh_key k = load_identity(id, &err);
    if (!k) {
      notes.push_back(err);
      continue;
    }
    int r = result(ssh_userauth_publickey(m_s, nullptr, k), "identity " + id);
    if (r == 2) return true;
    if (r == 1) return false;
    notes.push_back("identity " + id + " not accepted");
  }
  // The agent, then ssh_config's IdentityFile and the default key files.
  int r = result(ssh_userauth_publickey_auto(m_s, nullptr, nullptr), "a key");
  if (r == 2) return true;
  if (r == 1) return false;
  char* user = nullptr;
  std::string u = "?";
  if (ssh_options_get(m_s, SSH_OPTIONS_USER, &user) == SSH_OK && user) {
    u = user;
    ssh_string_free_char(user);
  }
  notes.push_back(std::getenv("SSH_AUTH_SOCK") ? "ssh-agent keys and default key files not accepted"
                                                : "no ssh-agent; default key files not accepted");
  return fail(ConnectError::auth_denied, "authentication denied for user " + u + " (" + join(notes, "; ") + ")");
}

bool Session::keepalive_tick(Clock::time_point now, std::string* error) {
  if (m_rx.in_packets != m_last_packets) {
    m_last_packets = m_rx.in_packets;
    m_last_rx = now;
    m_keepalives_unanswered = 0;
  }
  auto interval = duration_cast<Clock::duration>(m_keepalive_interval);
  if (now - m_last_rx < interval * (m_keepalives_unanswered + 1)) return true;
  if (m_keepalives_unanswered >= m_keepalive_count) {
    *error = "no answer to " + std::to_string(m_keepalive_count) + " keepalives in " +
             fmt_seconds(std::chrono::duration<double>(now - m_last_rx)) +
             ": the host or the network stopped responding";
    return false;
  }
  // libssh sends a new keepalive@openssh.com only once the previous reply
  // was consumed: the first call consumes a reply that arrived, the second
  // sends. Non-blocking, so a dead peer cannot stall us here.
  NonBlocking nb(m_s);
  ssh_send_keepalive(m_s);
  ssh_send_keepalive(m_s);
  ++m_keepalives_unanswered;
  return true;
}

Clock::time_point Session::next_keepalive() const {
  return m_last_rx + duration_cast<Clock::duration>(m_keepalive_interval) * (m_keepalives_unanswered + 1);
}

std::string Session::wrap_command(std::string_view command, std::optional<bool> become) const {
  bool b = become.value_or(m_target.become);
  return b ? become_command(command) : std::string(command);
}

// ---------------------------------------------------------------------------
// RemoteCommand
// ---------------------------------------------------------------------------

struct RemoteCommand::Impl {
  Session* s = nullptr;
  ssh_channel ch = nullptr;
  struct ssh_channel_callbacks_struct cb {};
  ExecResult r;
  std::function<void(std::string_view, bool)> on_output;
  std::size_t max_out = 0;
  std::string_view stdin_view;
  std::string stdin_buf;
  bool want_eof = false;
  bool eof_sent = false;
  bool running = false;
  bool got_status = false, got_signal = false, closed = false;
  bool new_output = false;
  bool status_final = false;
  Clock::time_point t0;
  Clock::time_point deadline = Clock::time_point::max();
  Seconds timeout{0};

  static int on_data(ssh_session, ssh_channel, void* data, uint32_t len, int is_stderr, void* user) {
    auto* self = static_cast<Impl*>(user);
    std::string_view chunk(static_cast<const char*>(data), len);
    std::string& out = is_stderr ? self->r.stderr_text : self->r.stdout_text;
    std::size_t room = self->max_out > out.size() ? self->max_out - out.size() : 0;
    out.append(chunk.substr(0, std::min<std::size_t>(room, chunk.size())));
    if (chunk.size() > room) self->r.output_truncated = true;
    if (self->on_output) self->on_output(chunk, is_stderr != 0);
    self->new_output = true;
    return static_cast<int>(len);
  }
  static void on_exit_status(ssh_session, ssh_channel, int status, void* user) {
    auto* self = static_cast<Impl*>(user);
    self->got_status = true;
    self->r.exit_code = status;
  }
  static void on_exit_signal(ssh_session, ssh_channel, const char* sig, int core, const char*, const char*, void* user) {
    auto* self = static_cast<Impl*>(user);
    self->got_signal = true;
    self->r.signal = sig && *sig ? sig : "unknown";
    self->r.core_dumped = core != 0;
  }
  static void on_close(ssh_session, ssh_channel, void* user) { static_cast<Impl*>(user)->closed = true; }

  std::string_view pending_stdin() const { return stdin_buf.empty() ? stdin_view : std::string_view(stdin_buf); }
  void consume_stdin(std::size_t n) {
    if (!stdin_buf.empty())
      stdin_buf.erase(0, n);
    else
      stdin_view.remove_prefix(n);
  }

  // Frees the channel and settles the status.
  void finish() {
    if (!running) return;
    running = false;
    if (!status_final) {
      status_final = true;
      if (got_signal) {
        r.status = Status::signal;
        r.error = "killed by signal " + r.signal + (r.core_dumped ? " (core dumped)" : "");
      } else if (got_status) {
        r.status = *r.exit_code == 0 ? Status::ok : Status::failed;
        if (*r.exit_code != 0) r.error = "exit code " + std::to_string(*r.exit_code);
      } else {
        r.status = Status::signal;
        r.signal = "unknown";
        r.error = "the command ended without an exit status (killed, or the server closed the channel)";
      }
    }
    if (ch) {
      ssh_remove_channel_callbacks(ch, &cb);
      if (!s->m_dead) {
        s->set_timeout(Clock::now() + std::chrono::seconds(2));
        ssh_channel_close(ch);
      }
      ssh_channel_free(ch);
      ch = nullptr;
    }
    r.duration_s = seconds_since(t0);
  }

  void lost(const std::string& why) {
    std::string err = why.empty() ? std::string(ssh_get_error(s->m_s)) : why;
    s->mark_dead(err);
    r.status = Status::unreachable;
    r.error = "connection lost while the command was running: " + err;
    status_final = true;
    finish();
  }

  bool done() const { return (ssh_channel_is_eof(ch) || closed) && (got_status || got_signal || closed); }

  // Processes what arrived and writes pending stdin; false once over.
  bool pump() {
    NonBlocking nb(s->m_s);
    if (!ssh_channel_is_eof(ch) && !closed) {
      if (ssh_channel_poll(ch, 0) == SSH_ERROR) {
        if (done()) {
          finish();
          return false;
        }
        lost("");
        return false;
      }
    }
    if ((ssh_channel_is_eof(ch) || closed) && !got_status && !got_signal && !closed) {
      if (ssh_channel_get_exit_status(ch) == SSH_ERROR && !ssh_is_connected(s->m_s)) {
        lost("");
        return false;
      }
    }
    if (done()) {
      finish();
      return false;
    }
    // stdin, as far as the window allows
    std::string_view in = pending_stdin();
    while (!in.empty() && !closed) {
      std::uint32_t win = ssh_channel_window_size(ch);
      if (win == 0) break;
      std::size_t n = std::min<std::size_t>({in.size(), win, 64u << 10});
      int w = ssh_channel_write(ch, in.data(), static_cast<std::uint32_t>(n));
      if (w == SSH_ERROR) {
        lost("");
        return false;
      }
      if (w <= 0) break;
      consume_stdin(static_cast<std::size_t>(w));
      in = pending_stdin();
    }
    if (in.empty() && want_eof && !eof_sent && !closed) {
      ssh_channel_send_eof(ch);
      eof_sent = true;
    }
    if (!ssh_is_connected(s->m_s)) {
      lost("");
      return false;
    }
    return true;
  }
};

RemoteCommand::RemoteCommand(std::unique_ptr<Impl> impl) : m(std::move(impl)) {}

RemoteCommand::~RemoteCommand() {
  if (m && m->running) stop(Status::interrupted, "stopped: the command object was destroyed while it ran");
}

bool RemoteCommand::running() const { return m->running; }
int RemoteCommand::fd() const { return m->s && m->s->m_s ? ssh_get_fd(m->s->m_s) : -1; }
const ExecResult& RemoteCommand::result() const { return m->r; }
ExecResult RemoteCommand::take_result() { return std::move(m->r); }

void RemoteCommand::write_stdin(std::string_view data) {
  if (!m->running) return;
  if (m->stdin_buf.empty()) {
    m->stdin_buf.assign(m->stdin_view);
    m->stdin_view = {};
  }
  m->stdin_buf.append(data);
}

void RemoteCommand::close_stdin() { m->want_eof = true; }

bool RemoteCommand::send_signal(const std::string& name) {
  if (!m->running || m->s->m_dead) return false;
  NonBlocking nb(m->s->m_s);
  return ssh_channel_request_send_signal(m->ch, name.c_str()) == SSH_OK;
}

void RemoteCommand::stop(Status why, const std::string& error) {
  if (!m->running) return;
  if (!m->s->m_dead && m->ch) {
    NonBlocking nb(m->s->m_s);
    ssh_channel_request_send_signal(m->ch, "TERM");
    if (!m->eof_sent) ssh_channel_send_eof(m->ch);
    m->eof_sent = true;
  }
  m->r.status = why;
  m->r.error = error;
  m->status_final = true;
  m->finish();
}

bool RemoteCommand::poll(Seconds wait) {
  if (!m->running) return false;
  auto until = Clock::now() + duration_cast<Clock::duration>(wait);
  Session& s = *m->s;
  while (true) {
    m->new_output = false;
    if (!m->pump()) return false;
    auto now = Clock::now();
    if (interrupted()) {
      stop(Status::interrupted, "interrupted (Ctrl-C) while the command ran; sent TERM and closed the channel");
      return false;
    }
    if (now >= m->deadline) {
      stop(Status::timeout, "still running after --timeout " + fmt_seconds(m->timeout) + "; sent TERM and closed the channel");
      return false;
    }
    std::string kerr;
    if (!s.keepalive_tick(now, &kerr)) {
      m->lost(kerr);
      return false;
    }
    if (m->new_output || now >= until) return true;
    auto wake = std::min({until, m->deadline, s.next_keepalive()});
    int ms = ms_until(wake);
    if (!m->pending_stdin().empty() && ssh_channel_window_size(m->ch) > 0) ms = 0;
    short ev = POLLIN;
    if (ssh_get_poll_flags(s.m_s) & SSH_WRITE_PENDING) ev |= POLLOUT;
    pollfd p[2] = {{ssh_get_fd(s.m_s), ev, 0}, {interrupt_fd(), POLLIN, 0}};
    if (::poll(p, p[1].fd >= 0 ? 2 : 1, ms) < 0 && errno != EINTR) {
      m->lost(std::string("poll: ") + std::strerror(errno));
      return false;
    }
  }
}

std::size_t poll_commands(const std::vector<RemoteCommand*>& commands, Seconds wait) {
  std::vector<pollfd> fds;
  for (RemoteCommand* c : commands)
    if (c && c->running()) fds.push_back({c->fd(), POLLIN, 0});
  if (fds.empty()) return 0;
  fds.push_back({interrupt_fd(), POLLIN, 0});
  auto ms = duration_cast<milliseconds>(std::min(wait, Seconds(1))).count();
  ::poll(fds.data(), fds.size(), static_cast<int>(std::max<long long>(0, ms)));
  std::size_t running = 0;
  for (RemoteCommand* c : commands)
    if (c && c->running() && c->poll(Seconds(0))) ++running;
  return running;
}

std::unique_ptr<RemoteCommand> Session::start(std::string_view command, const ExecOptions& options) {
  auto impl = std::make_unique<RemoteCommand::Impl>();
  RemoteCommand::Impl& c = *impl;
  c.s = this;
  c.t0 = Clock::now();
  c.on_output = options.on_output;
  c.max_out = options.max_output_bytes;
  c.stdin_view = options.stdin_data;
  c.want_eof = options.close_stdin;
  c.timeout = options.timeout;
  if (options.timeout.count() > 0) c.deadline = c.t0 + duration_cast<Clock::duration>(options.timeout);
  std::unique_ptr<RemoteCommand> cmd(new RemoteCommand(std::move(impl)));
  auto fail_now = [&](Status st, const std::string& err) {
    c.r.status = st;
    c.r.error = err;
    c.r.duration_s = seconds_since(c.t0);
    if (c.ch) {
      ssh_channel_free(c.ch);
      c.ch = nullptr;
    }
    return std::move(cmd);
  };
  if (!m_s || !m_connected) return fail_now(Status::unreachable, "not connected" + (m_error.empty() ? "" : ": " + m_error));
  if (m_dead) return fail_now(Status::unreachable, "connection lost earlier: " + m_error);
  if (interrupted()) return fail_now(Status::interrupted, "interrupted (Ctrl-C) before the command started");

  std::string line = wrap_command(command, options.become);
  {
    BlockingScope scope(ssh_get_fd(m_s));
    auto deadline = Clock::now() + duration_cast<Clock::duration>(m_connect_timeout);
    if (c.deadline < deadline) deadline = c.deadline;
    set_timeout(deadline);
    c.ch = ssh_channel_new(m_s);
    if (!c.ch) return fail_now(Status::failed, std::string("cannot create a channel: ") + ssh_get_error(m_s));
    if (ssh_channel_open_session(c.ch) != SSH_OK) {
      std::string err = ssh_get_error(m_s);
      if (!ssh_is_connected(m_s)) {
        mark_dead(err);
        return fail_now(Status::unreachable, "connection lost: " + err);
      }
      if (interrupted()) return fail_now(Status::interrupted, "interrupted (Ctrl-C) before the command started");
      return fail_now(Status::failed, "cannot open a session channel: " + err);
    }
    ssh_callbacks_init(&c.cb);
    c.cb.userdata = &c;
    c.cb.channel_data_function = RemoteCommand::Impl::on_data;
    c.cb.channel_exit_status_function = RemoteCommand::Impl::on_exit_status;
    c.cb.channel_exit_signal_function = RemoteCommand::Impl::on_exit_signal;
    c.cb.channel_close_function = RemoteCommand::Impl::on_close;
    ssh_set_channel_callbacks(c.ch, &c.cb);
    if (ssh_channel_request_exec(c.ch, line.c_str()) != SSH_OK) {
      std::string err = ssh_get_error(m_s);
      ssh_remove_channel_callbacks(c.ch, &c.cb);
      if (!ssh_is_connected(m_s)) {
        mark_dead(err);
        return fail_now(Status::unreachable, "connection lost: " + err);
      }
      if (interrupted()) return fail_now(Status::interrupted, "interrupted (Ctrl-C) before the command started");
      return fail_now(Status::failed, "the server refused to run the command: " + err);
    }
  }
  c.running = true;
  // Silence is counted from here: a session idle between steps is not dead.
  m_last_rx = Clock::now();
  m_last_packets = m_rx.in_packets;
  m_keepalives_unanswered = 0;
  return cmd;
}

ExecResult Session::exec(std::string_view command, const ExecOptions& options) {
  auto cmd = start(command, options);
  while (cmd->poll(Seconds(60))) {
  }
  return cmd->take_result();
}

// ---------------------------------------------------------------------------
// LocalFile and push
// ---------------------------------------------------------------------------

LocalFile LocalFile::open(const std::string& path) {
  LocalFile f;
  f.m_path = path;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error("cannot open " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error(path + " is not a regular file");
  }
  f.m_mode = st.st_mode & 07777;
  f.m_size = static_cast<std::size_t>(st.st_size);
  if (f.m_size > 0) {
    f.m_map = ::mmap(nullptr, f.m_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (f.m_map == MAP_FAILED) {
      int e = errno;
      f.m_map = nullptr;
      ::close(fd);
      throw Error("cannot map " + path + ": " + std::strerror(e));
    }
  }
  ::close(fd);
  f.m_sha256 = sha256_hex(f.data());
  return f;
}

LocalFile LocalFile::from_string(std::string content, unsigned mode) {
  LocalFile f;
  f.m_owned = std::move(content);
  f.m_mode = mode;
  f.m_sha256 = sha256_hex(f.m_owned);
  return f;
}

LocalFile::LocalFile(LocalFile&& o) noexcept
    : m_path(std::move(o.m_path)), m_owned(std::move(o.m_owned)), m_map(o.m_map), m_size(o.m_size),
      m_sha256(std::move(o.m_sha256)), m_mode(o.m_mode) {
  o.m_map = nullptr;
  o.m_size = 0;
}

LocalFile& LocalFile::operator=(LocalFile&& o) noexcept {
  if (this != &o) {
    if (m_map) ::munmap(m_map, m_size);
    m_path = std::move(o.m_path);
    m_owned = std::move(o.m_owned);
    m_map = o.m_map;
    m_size = o.m_size;
    m_sha256 = std::move(o.m_sha256);
    m_mode = o.m_mode;
    o.m_map = nullptr;
    o.m_size = 0;
  }
  return *this;
}

LocalFile::~LocalFile() {
  if (m_map) ::munmap(m_map, m_size);
}

std::string_view LocalFile::data() const {
  if (m_map) return {static_cast<const char*>(m_map), m_size};
  return m_owned;
}

PushResult Session::push(const LocalFile& file, const std::string& remote_path, const PushOptions& options) {
  PushResult pr;
  auto t0 = Clock::now();
  unsigned mode = options.mode.value_or(file.mode()) & 07777;
  char mode_text[8];
  std::snprintf(mode_text, sizeof mode_text, "%o", mode);
  std::string q = shell_quote(remote_path);
  auto finish = [&](Status st, std::string err) {
    pr.status = st;
    pr.error = std::move(err);
    pr.duration_s = seconds_since(t0);
    return pr;
  };
  if (remote_path.empty() || remote_path.back() == '/') return finish(Status::failed, "remote path must name a file");
  ExecOptions eo;
  eo.become = options.become;
  eo.timeout = options.timeout;
  // 1. What is there now: "<sha256> <mode>" or nothing.
  std::string probe = "f=" + q +
                      "; if [ -f \"$f\" ]; then h=$( (sha256sum < \"$f\" || shasum -a 256 < \"$f\") 2>/dev/null | cut -c1-64);"
                      " m=$(stat -c %a \"$f\" 2>/dev/null || echo ?); echo \"$h $m\"; fi";
  ExecResult r = exec(probe, eo);
  if (r.status != Status::ok) return finish(r.status, "checking " + remote_path + ": " + (r.error.empty() ? r.stderr_text : r.error));
  auto fields = split(std::string(trim(r.stdout_text)), ' ', false);
  if (fields.size() == 2 && fields[0] == file.sha256()) {
    pr.remote_sha256 = fields[0];
    if (fields[1] == mode_text) return finish(Status::ok, "");
    ExecResult c = exec("chmod " + std::string(mode_text) + " -- " + q, eo);
    if (c.status != Status::ok) return finish(c.status, "chmod " + remote_path + ": " + (c.stderr_text.empty() ? c.error : c.stderr_text));
    pr.changed = true;
    return finish(Status::ok, "");
  }
  // 2. Stream into a temporary file beside the destination, verify, rename.
  std::string upload = std::string("set -e; f=") + q + "; d=$(dirname -- \"$f\"); " +
                       (options.create_dirs ? "mkdir -p -- \"$d\"; " : "") +
                       "t=\"$d/.aicloud-push.$$.tmp\"; trap 'rm -f -- \"$t\"' EXIT; umask 077; cat > \"$t\"; "
                       "h=$( (sha256sum < \"$t\" || shasum -a 256 < \"$t\") 2>/dev/null | cut -c1-64); "
                       "if [ \"$h\" != " + file.sha256() + " ]; then echo \"checksum mismatch after upload: got $h\" >&2; exit 3; fi; "
                       "chmod " + mode_text + " -- \"$t\"; mv -f -- \"$t\" \"$f\"; trap - EXIT; echo \"$h\"";
  eo.stdin_data = file.data();
  ExecResult u = exec(upload, eo);
  if (u.status != Status::ok) {
    std::string why = trim(u.stderr_text).empty() ? u.error : std::string(trim(u.stderr_text));
    return finish(u.status, "pushing " + remote_path + ": " + why);
  }
  pr.remote_sha256 = std::string(trim(u.stdout_text));
  if (pr.remote_sha256 != file.sha256()) return finish(Status::failed, "pushing " + remote_path + ": the remote checksum does not match");
  pr.changed = true;
  return finish(Status::ok, "");
}

}  // namespace aicloud::fleet
