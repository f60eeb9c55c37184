// The jump-host hub: one thread per jump host owns its session and pumps
// direct-tcpip channels to socketpairs. See jump.hpp.
#include "fleet/jump.hpp"

#include <fcntl.h>
#include <libssh/callbacks.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <list>
#include <thread>
#include <vector>

#include "common/strings.hpp"

namespace aicloud::fleet {

namespace {

struct Request {
  std::string host;
  int port = 0;
  Clock::time_point deadline;
  ssh_channel ch = nullptr;
  int fd = -1;
  std::string error;
  bool done = false;
};

struct Forward {
  ssh_channel ch = nullptr;
  int fd = -1;                // our end of the socketpair
  std::string to_local;       // channel data not yet written to fd
  bool chan_eof = false;      // the far end sent EOF
  bool chan_closed = false;   // the far end closed the channel
  bool local_eof = false;     // the target session closed its side
  bool local_shut = false;    // we passed the far EOF on (SHUT_WR)
  bool broken = false;
  struct ssh_channel_callbacks_struct cb {};

  static int on_data(ssh_session, ssh_channel, void* data, uint32_t len, int, void* user) {
    static_cast<Forward*>(user)->to_local.append(static_cast<const char*>(data), len);
    return static_cast<int>(len);
  }
  static void on_eof(ssh_session, ssh_channel, void* user) { static_cast<Forward*>(user)->chan_eof = true; }
  static void on_close(ssh_session, ssh_channel, void* user) {
    auto* f = static_cast<Forward*>(user);
    f->chan_closed = true;
    f->chan_eof = true;
  }
};

}  // namespace

struct JumpPool::Hub {
  enum class State { connecting, ready, failed };
  std::mutex mu;
  std::condition_variable cv;
  State state = State::connecting;
  std::string error;
  std::unique_ptr<Session> session;
  std::thread thread;
  int wake[2] = {-1, -1};
  bool stop = false;
  std::deque<std::shared_ptr<Request>> queue;

  ~Hub() {
    for (int fd : wake)
      if (fd >= 0) ::close(fd);
  }

  void complete(const std::shared_ptr<Request>& r, int fd, std::string err) {
    std::lock_guard lock(mu);
    r->fd = fd;
    r->error = std::move(err);
    r->done = true;
    cv.notify_all();
  }

  void poke() {
    char c = 1;
    (void)!::write(wake[1], &c, 1);
  }

  void run();
};

void JumpPool::Hub::run() {
  ssh_session s = session->raw();
  ssh_event ev = ssh_event_new();
  ssh_event_add_session(ev, s);
  ssh_set_blocking(s, 0);
  std::vector<std::shared_ptr<Request>> opening;
  std::list<Forward> fwds;  // stable addresses: callbacks point into it
  std::vector<char> buf(32 << 10);
  std::string lost;

  auto close_forward = [&](Forward& f) {
    if (f.ch) {
      ssh_remove_channel_callbacks(f.ch, &f.cb);
      if (ssh_is_connected(s)) ssh_channel_close(f.ch);
      ssh_channel_free(f.ch);
      f.ch = nullptr;
    }
    if (f.fd >= 0) ::close(f.fd);
    f.fd = -1;
  };

  while (true) {
    {
      std::lock_guard lock(mu);
      if (stop) break;
      while (!queue.empty()) {
        opening.push_back(queue.front());
        queue.pop_front();
      }
    }
    ssh_event_dopoll(ev, 0);  // incoming packets: channel data, EOF, window adjusts, open confirmations

    // Forward requests in progress (non-blocking opens are retried until done).
    for (auto it = opening.begin(); it != opening.end();) {
      auto& r = *it;
      if (!r->ch) r->ch = ssh_channel_new(s);
      int rc = r->ch ? ssh_channel_open_forward(r->ch, r->host.c_str(), r->port, "127.0.0.1", 0) : SSH_ERROR;
      if (rc == SSH_AGAIN && Clock::now() < r->deadline) {
        ++it;
        continue;
      }
      if (rc == SSH_OK) {
        int sp[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0) {
          ssh_channel_close(r->ch);
          ssh_channel_free(r->ch);
          complete(r, -1, std::string("socketpair: ") + std::strerror(errno));
        } else {
          ::fcntl(sp[0], F_SETFL, ::fcntl(sp[0], F_GETFL) | O_NONBLOCK);
          Forward& f = fwds.emplace_back();
          f.ch = r->ch;
          f.fd = sp[0];
          ssh_callbacks_init(&f.cb);
          f.cb.userdata = &f;
          f.cb.channel_data_function = Forward::on_data;
          f.cb.channel_eof_function = Forward::on_eof;
          f.cb.channel_close_function = Forward::on_close;
          ssh_set_channel_callbacks(f.ch, &f.cb);
          complete(r, sp[1], {});
        }
      } else {
        std::string why = rc == SSH_AGAIN ? "timed out waiting for the jump host to open the forward"
                                          : std::string("the jump host refused to forward to ") + r->host + ":" +
                                                std::to_string(r->port) + ": " + ssh_get_error(s);
        if (r->ch) ssh_channel_free(r->ch);
        complete(r, -1, why);
      }
      r->ch = nullptr;
      it = opening.erase(it);
    }

    // Pump every forward both ways.
    for (auto it = fwds.begin(); it != fwds.end();) {
      Forward& f = *it;
      while (!f.to_local.empty() && !f.broken) {
        ssize_t n = ::send(f.fd, f.to_local.data(), f.to_local.size(), MSG_NOSIGNAL);
        if (n > 0) {
          f.to_local.erase(0, static_cast<std::size_t>(n));
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
          break;
        } else {
          f.broken = true;
        }
      }
      if (f.chan_eof && f.to_local.empty() && !f.local_shut && !f.broken) {
        ::shutdown(f.fd, SHUT_WR);
        f.local_shut = true;
      }
      while (!f.local_eof && !f.broken && !f.chan_closed) {
        std::uint32_t win = ssh_channel_window_size(f.ch);
        if (win == 0) break;
        ssize_t n = ::recv(f.fd, buf.data(), std::min<std::size_t>(buf.size(), win), 0);
        if (n > 0) {
          if (ssh_channel_write(f.ch, buf.data(), static_cast<std::uint32_t>(n)) < 0) f.broken = true;
        } else if (n == 0) {
          f.local_eof = true;
          ssh_channel_send_eof(f.ch);
        } else if (errno == EAGAIN || errno == EINTR) {
          break;
        } else {
          f.broken = true;
        }
      }
      if (f.broken || f.chan_closed || (f.local_eof && f.chan_eof && f.to_local.empty())) {
        close_forward(f);
        it = fwds.erase(it);
      } else {
        ++it;
      }
    }

    if (!ssh_is_connected(s)) {
      lost = std::string("connection to the jump host lost: ") + ssh_get_error(s);
      break;
    }

    std::vector<pollfd> p;
    p.push_back({wake[0], POLLIN, 0});
    short sev = POLLIN;
    if (ssh_get_poll_flags(s) & SSH_WRITE_PENDING) sev |= POLLOUT;
    p.push_back({ssh_get_fd(s), sev, 0});
    for (auto& f : fwds) {
      short e = 0;
      if (!f.local_eof && ssh_channel_window_size(f.ch) > 0) e |= POLLIN;
      if (!f.to_local.empty()) e |= POLLOUT;
      p.push_back({f.fd, e, 0});
    }
    ::poll(p.data(), p.size(), opening.empty() ? 1000 : 5);
    if (p[0].revents & POLLIN) {
      char drain[64];
      while (::read(wake[0], drain, sizeof drain) > 0) {
      }
    }
  }

  // Shut down: every target behind this jump sees its connection end.
  for (auto& f : fwds) close_forward(f);
  fwds.clear();
  for (auto& r : opening) {
    if (r->ch) ssh_channel_free(r->ch);
    complete(r, -1, lost.empty() ? "the jump host hub stopped" : lost);
  }
  ssh_event_remove_session(ev, s);
  ssh_event_free(ev);
  ssh_set_blocking(s, 1);
  std::lock_guard lock(mu);
  state = State::failed;
  error = lost.empty() ? "the jump host hub stopped" : lost;
  for (auto& r : queue) {
    r->error = error;
    r->done = true;
  }
  queue.clear();
  cv.notify_all();
}

JumpPool::JumpPool(const ConnectionOptions& options, KnownHosts& known) : m_options(options), m_known(known) {}

JumpPool::JumpPool(const ConnectionOptions& options, KnownHosts& known, HostKeyPolicy policy)
    : m_options(options), m_known(known) {
  m_options.host_key_policy = policy;
}

JumpPool::~JumpPool() { shutdown(); }

void JumpPool::shutdown() {
  std::map<std::string, std::shared_ptr<Hub>> hubs;
  {
    std::lock_guard lock(m_mutex);
    hubs.swap(m_hubs);
  }
  for (auto& [key, hub] : hubs) {
    {
      std::lock_guard lock(hub->mu);
      hub->stop = true;
    }
    if (hub->wake[1] >= 0) hub->poke();
    if (hub->thread.joinable()) hub->thread.join();
    if (hub->session) hub->session->close();
  }
}

int JumpPool::open(const Target& jump, const std::string& host, int port, Clock::time_point deadline, std::string* error) {
  std::string key = describe(jump) + "|" + jump.identity_file;
  std::shared_ptr<Hub> hub;
  bool creator = false;
  {
    std::lock_guard lock(m_mutex);
    auto& slot = m_hubs[key];
    if (!slot) {
      slot = std::make_shared<Hub>();
      creator = true;
    }
    hub = slot;
  }
  if (creator) {
    // Connect the jump host in this worker (it may itself need a jump).
    auto session = std::make_unique<Session>();
    bool ok = session->connect(jump, m_options, m_known, this);
    std::unique_lock lock(hub->mu);
    if (ok && ::pipe2(hub->wake, O_CLOEXEC | O_NONBLOCK) == 0) {
      hub->session = std::move(session);
      hub->state = Hub::State::ready;
      // The hub thread must not take Ctrl-C: the main thread handles it.
      sigset_t block, old;
      sigemptyset(&block);
      sigaddset(&block, SIGINT);
      sigaddset(&block, SIGTERM);
      pthread_sigmask(SIG_BLOCK, &block, &old);
      hub->thread = std::thread([h = hub.get()] { h->run(); });
      pthread_sigmask(SIG_SETMASK, &old, nullptr);
    } else {
      hub->state = Hub::State::failed;
      hub->error = ok ? std::string("pipe: ") + std::strerror(errno) : session->error();
    }
    hub->cv.notify_all();
  }
  auto req = std::make_shared<Request>();
  req->host = host;
  req->port = port;
  req->deadline = deadline;
  std::unique_lock lock(hub->mu);
  hub->cv.wait_until(lock, deadline + std::chrono::seconds(1), [&] { return hub->state != Hub::State::connecting; });
  if (hub->state == Hub::State::connecting) {
    *error = "timed out waiting for the connection to the jump host";
    return -1;
  }
  if (hub->state == Hub::State::failed) {
    *error = hub->error;
    return -1;
  }
  hub->queue.push_back(req);
  hub->poke();
  // The hub enforces the deadline on the open; wait for its answer.
  hub->cv.wait(lock, [&] { return req->done; });
  if (req->fd < 0) *error = req->error;
  return req->fd;
}

}  // namespace aicloud::fleet
