#include "nccl_tests/controller.hpp"

#include <algorithm>
#include <set>

#include "common/duration.hpp"
#include "common/error.hpp"
#include "gpu/nccl_api.hpp"

namespace aicloud::nccl_tests {

namespace {

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

std::string seconds_text(double s) { return format_duration(Seconds(std::max(0.0, std::round(s)))); }

}  // namespace

std::vector<RankSpec> plan_ranks(const std::vector<std::string>& nodes, int ranks_per_node,
                                 const std::vector<int>& devices) {
  if (ranks_per_node < 1) throw UsageError("--ranks-per-node must be at least 1");
  if (!devices.empty() && static_cast<int>(devices.size()) != ranks_per_node)
    throw UsageError("the GPU list has " + std::to_string(devices.size()) + " entries but " +
                     std::to_string(ranks_per_node) + " ranks per node were asked for");
  std::vector<RankSpec> out;
  int rank = 0;
  for (const auto& node : nodes)
    for (int l = 0; l < ranks_per_node; ++l)
      out.push_back({rank++, node, l, devices.empty() ? l : devices[static_cast<std::size_t>(l)]});
  return out;
}

LagReport find_laggards(const std::vector<std::optional<HeartbeatMessage>>& progress) {
  LagReport r;
  bool any = false;
  for (const auto& p : progress)
    if (p) {
      r.front_launched = any ? std::max(r.front_launched, p->launched) : p->launched;
      any = true;
    }
  for (std::size_t i = 0; i < progress.size(); ++i) {
    const long launched = progress[i] ? progress[i]->launched : -1;
    if (launched < r.front_launched || !progress[i]) r.lagging.push_back(static_cast<int>(i));
  }
  r.all_equal = any && r.lagging.empty();
  return r;
}

Controller::Controller(LaunchSpec spec, Clock::time_point now) : m_spec(std::move(spec)), m_begin(now) {
  for (const auto& r : m_spec.ranks) {
    RankRecord rec;
    rec.spec = r;
    rec.last_seen = now;
    m_ranks.push_back(std::move(rec));
  }
}

std::string Controller::where(int rank) const {
  const auto& s = m_ranks[static_cast<std::size_t>(rank)].spec;
  return "rank " + std::to_string(rank) + " (" + s.node + " GPU " + std::to_string(s.device) + ")";
}

void Controller::add_problem(int rank, std::string phase, std::string kind, std::string message) {
  m_problems.push_back({rank, std::move(phase), std::move(kind), std::move(message)});
}

std::vector<Outbound> Controller::begin() {
  std::vector<Outbound> out;
  for (const auto& r : m_ranks) {
    JobMessage j;
    j.rank = r.spec.rank;
    j.nranks = static_cast<int>(m_ranks.size());
    j.local_rank = r.spec.local_rank;
    j.node = r.spec.node;
    j.device = r.spec.device;
    j.dry_run = m_spec.dry_run;
    j.nccl_library = m_spec.nccl_library;
    j.env = m_spec.env;
    j.init_timeout_s = m_spec.init_timeout_s;
    j.phase_timeout_s = m_spec.phase_timeout_s;
    j.heartbeat_s = m_spec.heartbeat_s;
    j.plan = m_spec.plan;
    out.push_back({r.spec.rank, encode_job(j)});
  }
  return out;
}

std::vector<Outbound> Controller::on_line(int rank, const std::string& line, Clock::time_point now) {
  if (rank < 0 || rank >= static_cast<int>(m_ranks.size())) return {};
  m_ranks[static_cast<std::size_t>(rank)].last_seen = now;
  Message m;
  try {
    m = decode_line(line);
    return handle(rank, m, now);
  } catch (const ProtocolError& e) {
    std::string shown = line.size() > 200 ? line.substr(0, 200) + "..." : line;
    add_problem(rank, "protocol", "protocol", where(rank) + " sent an invalid line (" + e.what() + "): " + shown);
    return abort_all(where(rank) + " broke the protocol", "protocol", now);
  }
}

void Controller::on_stderr(int rank, const std::string& line) {
  if (rank < 0 || rank >= static_cast<int>(m_ranks.size())) return;
  auto& tail = m_ranks[static_cast<std::size_t>(rank)].stderr_tail;
  tail.push_back(line);
  if (tail.size() > 20) tail.erase(tail.begin());
}

std::vector<Outbound> Controller::handle(int rank, const Message& m, Clock::time_point now) {
  auto& rec = m_ranks[static_cast<std::size_t>(rank)];
  const auto& j = m.body;
  if (j.contains("rank") && j["rank"].is_number_integer() && j["rank"].get<int>() != rank)
    throw ProtocolError("message for rank " + std::to_string(j["rank"].get<int>()) + " on the channel of rank " +
                        std::to_string(rank));
  if (m.type == "hello") {
    HelloMessage h = hello_from_json(j);
    if (h.protocol != k_protocol_version)
      throw ProtocolError("worker speaks protocol " + std::to_string(h.protocol) + ", controller " +
                          std::to_string(k_protocol_version) + " (mixed aicloudctl versions?)");
    rec.hello = h;
    if (!h.nccl_error.empty()) add_problem(rank, "start", "nccl", where(rank) + ": " + h.nccl_error);
    if (!h.gpu) add_problem(rank, "start", "gpu", where(rank) + ": " + (h.gpu_error.empty() ? "no GPU" : h.gpu_error));
    // Same GPU twice on one host: NCCL refuses it, say so plainly first.
    if (h.gpu && !h.gpu->pci_bus_id.empty()) {
      for (const auto& other : m_ranks) {
        if (&other == &rec || !other.hello || !other.hello->gpu) continue;
        if (other.hello->host == h.host && other.hello->gpu->pci_bus_id == h.gpu->pci_bus_id)
          add_problem(rank, "start", "mismatch",
                      where(rank) + " and " + where(other.spec.rank) + " use the same GPU " + h.gpu->pci_bus_id +
                          " on " + h.host);
      }
    }
    if (h.nccl_version > 0) {
      for (const auto& other : m_ranks) {
        if (&other == &rec || !other.hello || other.hello->nccl_version <= 0) continue;
        if (other.hello->nccl_version != h.nccl_version) {
          m_warnings.push_back("NCCL versions differ: " + where(rank) + " has " +
                               gpu::nccl_version_string(h.nccl_version) + ", " + where(other.spec.rank) + " has " +
                               gpu::nccl_version_string(other.hello->nccl_version));
          break;
        }
      }
    }
    if (!m_spec.dry_run && (!h.nccl_error.empty() || !h.gpu))
      return abort_all(where(rank) + " cannot run (" + (h.nccl_error.empty() ? h.gpu_error : h.nccl_error) + ")",
                       "start", now);
    return maybe_start();
  }
  if (m.type == "unique_id") {
    if (rank != 0) throw ProtocolError("only rank 0 creates the unique id");
    std::string id = j.value("id", std::string());
    if (id.size() != 2 * gpu::k_nccl_unique_id_bytes || id.find_first_not_of("0123456789abcdef") != std::string::npos)
      throw ProtocolError("the unique id is not " + std::to_string(gpu::k_nccl_unique_id_bytes) + " bytes of hex");
    m_unique_id = id;
    return maybe_start();
  }
  if (m.type == "ready") {
    rec.ready = true;
    rec.id_digest = j.value("id_digest", std::string());
    if (j.contains("init_s") && j["init_s"].is_number()) rec.init_s = j["init_s"].get<double>();
    for (const auto& other : m_ranks)
      if (other.ready && !other.id_digest.empty() && other.id_digest != rec.id_digest) {
        add_problem(rank, "start", "mismatch",
                    where(rank) + " received a different unique id than " + where(other.spec.rank));
        return abort_all("unique ids differ between ranks", "start", now);
      }
    return {};
  }
  if (m.type == "heartbeat") {
    rec.progress = heartbeat_from_json(j);
    return {};
  }
  if (m.type == "result") {
    ResultMessage r = result_from_json(j);
    if (r.test < 0 || r.test >= static_cast<int>(m_spec.plan.tests.size()) || r.size_index < 0 ||
        r.size_index >= static_cast<int>(m_spec.plan.sizes.size()))
      throw ProtocolError("result for an unknown test or size");
    m_results[{r.test, r.size_index, r.placement}][rank] = std::move(r);
    return {};
  }
  if (m.type == "error") {
    ErrorMessage e = error_from_json(j);
    add_problem(rank, e.phase, e.kind, where(rank) + ": " + e.message);
    if (e.kind == "timeout") describe_stall(now);
    return abort_all(where(rank) + " failed in " + e.phase + ": " + e.message, e.phase, now);
  }
  if (m.type == "done") {
    rec.done_status = j.value("status", std::string("failed"));
    if (rec.done_status != "ok" && !m_aborting)
      return abort_all(where(rank) + " finished with status " + rec.done_status, "done", now);
    return {};
  }
  throw ProtocolError("unknown message type '" + m.type + "'");
}

std::vector<Outbound> Controller::maybe_start() {
  if (m_started || m_aborting) return {};
  for (const auto& r : m_ranks)
    if (!r.hello) return {};
  if (m_unique_id.empty()) return {};
  m_started = true;
  std::vector<Outbound> out;
  for (const auto& r : m_ranks)
    if (!r.exited && r.done_status.empty()) out.push_back({r.spec.rank, encode_start(m_unique_id)});
  return out;
}

std::vector<Outbound> Controller::on_exit(int rank, int exit_code, int signal, Clock::time_point now) {
  if (rank < 0 || rank >= static_cast<int>(m_ranks.size())) return {};
  auto& rec = m_ranks[static_cast<std::size_t>(rank)];
  if (rec.exited) return {};
  rec.exited = true;
  rec.exit_code = exit_code;
  rec.signal = signal;
  if (rec.done_status.empty() && !rec.killed) {
    std::string how = signal ? "was killed by signal " + std::to_string(signal)
                             : "exited with code " + std::to_string(exit_code);
    std::string last = rec.stderr_tail.empty() ? "" : " (last output: " + rec.stderr_tail.back() + ")";
    if (!m_aborting || !rec.hello) {
      add_problem(rank, rec.hello ? "run" : "start", "exited", where(rank) + " " + how + " before finishing" + last);
      return abort_all(where(rank) + " " + how, "exited", now);
    }
  }
  return {};
}

std::vector<Outbound> Controller::on_tick(Clock::time_point now) {
  if (m_aborting) return {};
  for (const auto& r : m_ranks) {
    if (r.exited || !r.done_status.empty()) continue;
    const double silent = seconds_between(r.last_seen, now);
    if (silent < m_spec.silence_timeout_s) continue;
    std::string what = r.hello ? "sent nothing for " + seconds_text(silent)
                               : "did not start within " + seconds_text(silent) + " (no hello)";
    add_problem(r.spec.rank, r.progress ? r.progress->phase : "start", "unresponsive", where(r.spec.rank) + " " + what);
    describe_stall(now);
    return abort_all(where(r.spec.rank) + " is unresponsive", "unresponsive", now);
  }
  return {};
}

void Controller::describe_stall(Clock::time_point now) {
  if (!m_stalled.empty()) return;
  std::vector<std::optional<HeartbeatMessage>> progress;
  for (const auto& r : m_ranks) progress.push_back(r.progress);
  LagReport lag = find_laggards(progress);
  auto line_for = [&](const RankRecord& r) {
    std::string s = where(r.spec.rank) + ": ";
    if (!r.progress) {
      s += r.hello ? "no progress reported" : "never started";
    } else {
      const auto& p = *r.progress;
      s += "phase " + p.phase;
      if (p.test >= 0 && p.test < static_cast<int>(m_spec.plan.tests.size()))
        s += ", " + std::string(name(m_spec.plan.tests[static_cast<std::size_t>(p.test)].collective));
      if (p.bytes) s += " " + std::to_string(p.bytes) + " B";
      if (!p.placement.empty()) s += " " + p.placement;
      s += ", NCCL ops launched " + std::to_string(p.launched) + ", completed " + std::to_string(p.completed);
    }
    s += ", last heard " + seconds_text(seconds_between(r.last_seen, now)) + " ago";
    return s;
  };
  if (lag.all_equal) {
    m_stalled.push_back("every rank launched the same " + std::to_string(lag.front_launched) +
                        " NCCL operations; the last one did not complete (suspect the fabric or a peer GPU)");
    for (const auto& r : m_ranks) m_stalled.push_back(line_for(r));
    return;
  }
  for (int i : lag.lagging) m_stalled.push_back(line_for(m_ranks[static_cast<std::size_t>(i)]) + " (behind)");
}

std::vector<Outbound> Controller::abort_all(const std::string& reason, const std::string& kind,
                                            Clock::time_point now) {
  if (kind == "interrupted") {
    m_interrupted = true;
    add_problem(-1, "run", "interrupted", reason);
  }
  if (m_aborting) return {};
  m_aborting = true;
  m_abort_time = now;
  std::vector<Outbound> out;
  for (const auto& r : m_ranks)
    if (!r.exited && r.done_status.empty()) out.push_back({r.spec.rank, encode_abort(reason)});
  return out;
}

std::vector<int> Controller::ranks_to_kill(Clock::time_point now) const {
  std::vector<int> out;
  if (!m_aborting || seconds_between(m_abort_time, now) < m_spec.abort_grace_s) return out;
  for (const auto& r : m_ranks)
    if (!r.exited && !r.killed) out.push_back(r.spec.rank);
  return out;
}

void Controller::mark_killed(int rank) {
  if (rank < 0 || rank >= static_cast<int>(m_ranks.size())) return;
  auto& rec = m_ranks[static_cast<std::size_t>(rank)];
  if (rec.killed) return;
  rec.killed = true;
  add_problem(rank, rec.progress ? rec.progress->phase : "start", "killed",
              where(rank) + " did not stop within " + seconds_text(m_spec.abort_grace_s) +
                  " of the abort and was killed");
}

bool Controller::finished() const {
  return std::all_of(m_ranks.begin(), m_ranks.end(), [](const RankRecord& r) { return r.exited; });
}

bool Controller::all_ok() const {
  if (!m_problems.empty() || m_aborting) return false;
  return std::all_of(m_ranks.begin(), m_ranks.end(), [](const RankRecord& r) { return r.done_status == "ok"; });
}

}  // namespace aicloud::nccl_tests
