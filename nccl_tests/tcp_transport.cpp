#include "nccl_tests/tcp_transport.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/hostinfo.hpp"
#include "common/interrupt.hpp"
#include "common/pipe_child.hpp"
#include "common/strings.hpp"
#include "nccl_tests/worker.hpp"

namespace aicloud::nccl_tests {

int launcher_rank() {
  for (const char* name : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "SLURM_PROCID", "PMI_RANK"}) {
    const char* v = std::getenv(name);
    if (!v || !*v) continue;
    std::string s(v);
    if (s.size() > 7 || s.find_first_not_of("0123456789") != std::string::npos) return -1;
    return std::stoi(s);
  }
  return -1;
}

TcpTransport::TcpTransport(int nranks, std::string token, int port) : m_token(std::move(token)) {
  m_ranks.resize(static_cast<std::size_t>(nranks));
  m_listen = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (m_listen < 0) throw Error(std::string("socket: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(m_listen, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_ANY);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::bind(m_listen, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0 || ::listen(m_listen, 1024) < 0) {
    std::string e = std::strerror(errno);
    ::close(m_listen);
    throw Error("cannot listen for the rank workers on port " + std::to_string(port) + ": " + e);
  }
  socklen_t len = sizeof a;
  ::getsockname(m_listen, reinterpret_cast<sockaddr*>(&a), &len);
  m_port = ntohs(a.sin_port);
}

TcpTransport::~TcpTransport() {
  for (auto& r : m_ranks)
    if (r.fd >= 0) ::close(r.fd);
  for (auto& c : m_pending)
    if (c.fd >= 0) ::close(c.fd);
  if (m_listen >= 0) ::close(m_listen);
  if (m_launcher.started() && !m_launcher_done) {
    kill_child_group(m_launcher.pid, SIGKILL);
    int code, sig;
    reap_child(m_launcher.pid, true, code, sig);
  }
  for (int fd : {m_launcher.in_fd, m_launcher.out_fd, m_launcher.err_fd})
    if (fd >= 0) ::close(fd);
}

bool TcpTransport::start_launcher(const std::vector<std::string>& argv, std::string& error) {
  m_launcher = spawn_pipe_child(argv);
  if (!m_launcher.started()) {
    error = m_launcher.error;
    return false;
  }
  ::close(m_launcher.in_fd);
  m_launcher.in_fd = -1;
  return true;
}

void TcpTransport::flush(Rank& r) {
  while (!r.out.empty() && r.fd >= 0) {
    ssize_t w = ::send(r.fd, r.out.data(), r.out.size(), MSG_NOSIGNAL);
    if (w > 0) {
      r.out.erase(0, static_cast<std::size_t>(w));
    } else if (w < 0 && errno == EINTR) {
      continue;
    } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return;  // poll() flushes the rest
    } else {
      r.out.clear();  // the worker is gone; its read side reports the end
      return;
    }
  }
}

void TcpTransport::send(int rank, const std::string& line) {
  if (rank < 0 || rank >= static_cast<int>(m_ranks.size())) return;
  Rank& r = m_ranks[static_cast<std::size_t>(rank)];
  if (r.exited) return;
  r.out += line + "\n";
  flush(r);
}

void TcpTransport::accept_new() {
  for (;;) {
    int fd = ::accept4(m_listen, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    m_pending.push_back({fd, ""});
  }
}

void TcpTransport::read_pending(std::size_t i, std::vector<RankEvent>& events) {
  Conn& c = m_pending[i];
  const bool open = read_available(c.fd, c.in);
  auto nl = c.in.find('\n');
  if (nl == std::string::npos) {
    if (!open || c.in.size() > 4096) {
      ::close(c.fd);
      c.fd = -1;
    }
    return;
  }
  int rank = -1;
  std::string host;
  try {
    auto j = nlohmann::json::parse(c.in.substr(0, nl));
    if (j.value("type", "") == "attach" && j.value("token", "") == m_token) rank = j.value("rank", -1);
    host = j.value("host", "");
  } catch (const nlohmann::json::exception&) {
  }
  if (rank < 0 || rank >= static_cast<int>(m_ranks.size()) || m_ranks[static_cast<std::size_t>(rank)].attached ||
      m_ranks[static_cast<std::size_t>(rank)].exited) {
    ::close(c.fd);  // not ours, or a second worker for the same rank
    c.fd = -1;
    return;
  }
  Rank& r = m_ranks[static_cast<std::size_t>(rank)];
  r.fd = c.fd;
  r.attached = true;
  r.in = c.in.substr(nl + 1);
  c.fd = -1;
  events.push_back({RankEvent::stderr_line, rank, "attached from " + (host.empty() ? "?" : host)});
  flush(r);
  read_rank(rank, events);
}

void TcpTransport::end_rank(int rank, std::vector<RankEvent>& events, int code, const std::string& why) {
  Rank& r = m_ranks[static_cast<std::size_t>(rank)];
  if (r.exited) return;
  if (r.fd >= 0) ::close(r.fd);
  r.fd = -1;
  r.exited = true;
  if (!why.empty()) events.push_back({RankEvent::stderr_line, rank, why});
  events.push_back({RankEvent::exited, rank, "", code, 0});
}

void TcpTransport::read_rank(int rank, std::vector<RankEvent>& events) {
  Rank& r = m_ranks[static_cast<std::size_t>(rank)];
  const bool open = read_available(r.fd, r.in);
  std::size_t nl;
  while ((nl = r.in.find('\n')) != std::string::npos) {
    std::string line = r.in.substr(0, nl);
    r.in.erase(0, nl + 1);
    if (line.find("\"type\":\"done\"") != std::string::npos) r.saw_done = true;
    events.push_back({RankEvent::line, rank, line});
  }
  if (!open) end_rank(rank, events, r.saw_done ? 0 : 255, r.saw_done ? "" : "tcp: the worker closed its connection");
}

void TcpTransport::drain_launcher(std::vector<RankEvent>& events) {
  if (!m_launcher.started() || m_launcher_done) return;
  for (int* fd : {&m_launcher.out_fd, &m_launcher.err_fd}) {
    if (*fd < 0) continue;
    std::string buf;
    if (!read_available(*fd, buf)) {
      ::close(*fd);
      *fd = -1;
    }
    m_launcher_err += buf;
    std::size_t nl;
    while ((nl = m_launcher_err.find('\n')) != std::string::npos) {
      std::string line(trim(m_launcher_err.substr(0, nl)));
      if (!line.empty()) m_launcher_last = line;
      m_launcher_err.erase(0, nl + 1);
    }
  }
  if (m_launcher.out_fd >= 0 || m_launcher.err_fd >= 0) return;
  int code = 0, sig = 0;
  if (!reap_child(m_launcher.pid, false, code, sig)) return;
  m_launcher_done = true;
  std::string what = sig ? "the launcher was killed by signal " + std::to_string(sig)
                         : "the launcher exited with code " + std::to_string(code);
  if (!m_launcher_last.empty()) what += ": " + m_launcher_last;
  for (std::size_t i = 0; i < m_ranks.size(); ++i)
    if (!m_ranks[i].attached) end_rank(static_cast<int>(i), events, sig ? 128 + sig : (code ? code : 255), what);
}

std::vector<RankEvent> TcpTransport::poll(std::chrono::milliseconds max_wait) {
  std::vector<RankEvent> events;
  std::vector<pollfd> fds;
  enum What { listen_fd, pending_fd, rank_fd, launcher_fd, interrupt };
  std::vector<std::pair<What, std::size_t>> owner;
  fds.push_back({m_listen, POLLIN, 0});
  owner.emplace_back(listen_fd, 0);
  for (std::size_t i = 0; i < m_pending.size(); ++i) {
    fds.push_back({m_pending[i].fd, POLLIN, 0});
    owner.emplace_back(pending_fd, i);
  }
  for (std::size_t i = 0; i < m_ranks.size(); ++i)
    if (m_ranks[i].fd >= 0) {
      fds.push_back({m_ranks[i].fd, static_cast<short>(POLLIN | (m_ranks[i].out.empty() ? 0 : POLLOUT)), 0});
      owner.emplace_back(rank_fd, i);
    }
  for (int fd : {m_launcher.out_fd, m_launcher.err_fd})
    if (fd >= 0 && !m_launcher_done) {
      fds.push_back({fd, POLLIN, 0});
      owner.emplace_back(launcher_fd, 0);
    }
  const int ifd = interrupted() ? -1 : interrupt_fd();
  if (ifd >= 0) {
    fds.push_back({ifd, POLLIN, 0});
    owner.emplace_back(interrupt, 0);
  }
  // The launcher's exit is noticed by its pipes closing; poll at least 4x a second.
  int wait = static_cast<int>(std::min<long>(max_wait.count(), 250));
  if (::poll(fds.data(), static_cast<nfds_t>(fds.size()), wait) > 0) {
    for (std::size_t k = 0; k < fds.size(); ++k) {
      if (!fds[k].revents) continue;
      auto [what, i] = owner[k];
      if (what == listen_fd) accept_new();
      else if (what == pending_fd) read_pending(i, events);
      else if (what == rank_fd && m_ranks[i].fd >= 0) {
        if (fds[k].revents & POLLOUT) flush(m_ranks[i]);
        if (fds[k].revents & (POLLIN | POLLHUP | POLLERR)) read_rank(static_cast<int>(i), events);
      }
    }
  }
  for (std::size_t i = 0; i < m_ranks.size(); ++i)
    if (m_ranks[i].kill_requested && !m_ranks[i].exited)
      end_rank(static_cast<int>(i), events, 137, "killed before it connected to the controller");
  m_pending.erase(std::remove_if(m_pending.begin(), m_pending.end(), [](const Conn& c) { return c.fd < 0; }),
                  m_pending.end());
  drain_launcher(events);
  return events;
}

void TcpTransport::kill(int rank) {
  if (rank < 0 || rank >= static_cast<int>(m_ranks.size())) return;
  Rank& r = m_ranks[static_cast<std::size_t>(rank)];
  if (r.fd >= 0) ::shutdown(r.fd, SHUT_RDWR);  // read_rank reports the end
  if (!r.attached && !r.exited) r.kill_requested = true;  // never attached: the next poll ends it
  if (m_launcher.started() && !m_launcher_done && !m_launcher_signalled) {
    kill_child_group(m_launcher.pid, SIGTERM);
    m_launcher_signalled = true;
  }
}

int run_worker_connect(const std::string& host_port, const std::string& token) {
  auto colon = host_port.rfind(':');
  const int rank = launcher_rank();
  auto fail = [](const std::string& msg) {
    std::cerr << "aicloudctl: error: " << msg << "\n";
    return 2;
  };
  if (colon == std::string::npos || colon == 0) return fail("--connect: expected HOST:PORT, got '" + host_port + "'");
  if (rank < 0) return fail("no rank in the environment (OMPI_COMM_WORLD_RANK, PMIX_RANK, SLURM_PROCID or PMI_RANK)");
  std::string host = host_port.substr(0, colon), port = host_port.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0)
    return fail("--connect " + host_port + ": " + ::gai_strerror(rc));
  int fd = -1;
  std::string err = "no address";
  for (addrinfo* a = res; a && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
      err = std::strerror(errno);
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(res);
  if (fd < 0) return fail("cannot connect to the controller at " + host_port + ": " + err);
  nlohmann::json attach = {{"type", "attach"}, {"token", token}, {"rank", rank}, {"host", host_name()}};
  std::string line = attach.dump() + "\n";
  if (::send(fd, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size()))
    return fail("cannot write to the controller at " + host_port);
  // stdout is not the protocol here; NCCL's prints may go where they go.
  return run_worker_fds(fd, fd);
}

}  // namespace aicloud::nccl_tests
