// The worker pool and the Fleet of persistent sessions. See executor.hpp.
#include "fleet/executor.hpp"

#include <poll.h>
#include <signal.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "common/interrupt.hpp"
#include "fleet/ssh_init.hpp"

namespace aicloud::fleet {

namespace {
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }
}  // namespace

PoolRun run_pool(std::size_t n, const PoolOptions& options, const std::function<Status(std::size_t)>& work) {
  ensure_ssh_initialized();  // static libssh: before any thread uses it
  auto t0 = Clock::now();
  PoolRun run;
  run.started.assign(n, false);
  std::mutex mu;
  std::condition_variable cv;
  std::size_t next = 0, active = 0, finished_workers = 0;
  bool stop = false;
  Progress progress;
  progress.total = n;
  std::size_t failures = 0;

  auto worker = [&] {
    while (true) {
      std::size_t i;
      {
        std::lock_guard lock(mu);
        if (stop || next >= n || interrupted()) break;
        i = next++;
        run.started[i] = true;
        ++active;
        ++progress.running;
      }
      Status st = work(i);
      std::lock_guard lock(mu);
      --active;
      --progress.running;
      ++progress.done;
      if (st == Status::ok) ++progress.ok;
      else if (counts_as_unreachable(st)) ++progress.unreachable;
      else if (st != Status::skipped) ++progress.failed;
      if (st != Status::ok && st != Status::skipped && st != Status::interrupted) ++failures;
      if (!options.max_fail.unlimited() && options.max_fail.exceeded(failures, n) && !stop) {
        stop = true;
        run.max_fail_hit = true;
      }
      cv.notify_all();
    }
    std::lock_guard lock(mu);
    ++finished_workers;
    cv.notify_all();
  };

  std::size_t nworkers = std::min<std::size_t>(n, static_cast<std::size_t>(std::max(1, options.forks)));
  std::vector<std::thread> threads;
  threads.reserve(nworkers);
  {
    // Workers inherit a mask without SIGINT/SIGTERM: the main thread gets them.
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    for (std::size_t t = 0; t < nworkers; ++t) threads.emplace_back(worker);
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
  }

  bool cancelled = false;
  auto last_report = Clock::now() - std::chrono::seconds(1);
  std::unique_lock lock(mu);
  while (finished_workers < nworkers) {
    cv.wait_for(lock, std::chrono::milliseconds(100));
    if (interrupted() && !cancelled) {
      cancelled = true;
      stop = true;
      run.interrupted = true;
      lock.unlock();
      cancel_blocking_io();
      lock.lock();
    }
    if (options.on_progress && Clock::now() - last_report >= std::chrono::milliseconds(100)) {
      last_report = Clock::now();
      Progress p = progress;
      p.elapsed_s = seconds_since(t0);
      lock.unlock();
      options.on_progress(p);
      lock.lock();
    }
  }
  lock.unlock();
  for (auto& t : threads) t.join();
  if (interrupted()) run.interrupted = true;
  run.duration_s = seconds_since(t0);
  if (options.on_progress) {
    Progress p = progress;
    p.elapsed_s = run.duration_s;
    options.on_progress(p);
  }
  return run;
}

std::string short_reason(ConnectError kind, const std::string& error) {
  switch (kind) {
    case ConnectError::refused: return "connection refused";
    case ConnectError::connect_timeout: return "TCP connect timed out";
    case ConnectError::host_key_unknown:
      return "host key not in known_hosts (record it with 'aicloudctl hostkeys scan' or --host-key-policy accept-new)";
    case ConnectError::host_key_changed:
      return "HOST KEY CHANGED: nothing was run (after a re-image: 'aicloudctl hostkeys forget')";
    case ConnectError::host_key_revoked: return "host key is @revoked in known_hosts";
    case ConnectError::interrupted: return "interrupted (Ctrl-C) while connecting";
    default: return error;
  }
}

Fleet::Fleet(std::vector<Target> targets, ConnectionOptions options)
    : Fleet(std::move(targets), options, std::make_shared<KnownHosts>(KnownHosts::load(known_hosts_path(options)))) {}

Fleet::Fleet(std::vector<Target> targets, ConnectionOptions options, std::shared_ptr<KnownHosts> known)
    : m_options(std::move(options)), m_known(std::move(known)) {
  ensure_ssh_initialized();
  m_jumps = std::make_unique<JumpPool>(m_options, *m_known);
  m_slots.resize(targets.size());
  for (std::size_t i = 0; i < targets.size(); ++i) m_slots[i].target = std::move(targets[i]);
}

Fleet::~Fleet() { close(); }

void Fleet::close() {
  for (auto& s : m_slots) s.session.reset();
  if (m_jumps) m_jumps->shutdown();
}

std::vector<HostResult> Fleet::run(const Step& step, const RunOptions& ro) {
  std::vector<HostResult> results(m_slots.size());
  PoolOptions po;
  po.forks = m_options.forks;
  po.max_fail = m_options.max_fail;
  po.on_progress = ro.on_progress;
  PoolRun pr = run_pool(m_slots.size(), po, [&](std::size_t i) -> Status {
    Slot& slot = m_slots[i];
    HostResult& r = results[i];
    r.host = slot.target.name;
    r.address = slot.target.address.empty() ? slot.target.name : slot.target.address;
    auto t0 = Clock::now();
    try {
      if (ro.filter && !ro.filter(i)) {
        r.status = Status::skipped;
        r.error = "not selected for this step";
        return r.status;
      }
      if (slot.unreachable) {
        r = slot.connect_result;
        r.duration_s = 0;
        return r.status;
      }
      if (!slot.session || !slot.session->connected()) {
        auto s = std::make_unique<Session>();
        if (!s->connect(slot.target, m_options, *m_known, m_jumps.get())) {
          r.status = s->error_kind() == ConnectError::interrupted ? Status::interrupted : Status::unreachable;
          r.error = s->error();
          r.reason = short_reason(s->error_kind(), s->error());
          r.host_key_sha256 = s->host_key_sha256();
          r.duration_s = seconds_since(t0);
          if (r.status == Status::unreachable) {
            slot.unreachable = true;
            slot.connect_result = r;
          }
          return r.status;
        }
        slot.session = std::move(s);
      }
      HostResult out = step(*slot.session, i);
      if (out.host.empty()) out.host = r.host;
      if (out.address.empty()) out.address = r.address;
      if (out.host_key_sha256.empty()) out.host_key_sha256 = slot.session->host_key_sha256();
      out.duration_s = seconds_since(t0);
      r = std::move(out);
    } catch (const std::exception& e) {
      r.status = Status::failed;
      r.error = std::string("internal error: ") + e.what();
      r.duration_s = seconds_since(t0);
    }
    if (!ro.keep_sessions || (slot.session && !slot.session->connected())) slot.session.reset();
    return r.status;
  });
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (pr.started[i]) continue;
    HostResult& r = results[i];
    r.host = m_slots[i].target.name;
    r.address = m_slots[i].target.address.empty() ? r.host : m_slots[i].target.address;
    r.status = Status::skipped;
    r.error = pr.interrupted ? "not started: interrupted (Ctrl-C)" : "not started: --max-fail was exceeded";
  }
  m_summary = summarize(results);
  m_summary.duration_s = pr.duration_s;
  m_summary.interrupted_run = pr.interrupted;
  m_summary.max_fail_hit = pr.max_fail_hit;
  return results;
}

std::vector<HostResult> Fleet::connect_all(const RunOptions& run_options) {
  RunOptions ro = run_options;
  ro.keep_sessions = true;
  return run([](Session&, std::size_t) {
    HostResult r;
    r.status = Status::ok;
    return r;
  }, ro);
}

}  // namespace aicloud::fleet
