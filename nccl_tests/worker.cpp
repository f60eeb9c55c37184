#include "nccl_tests/worker.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>

#include "common/hostinfo.hpp"
#include "common/interrupt.hpp"
#include "common/sha256.hpp"
#include "common/strings.hpp"
#include "common/version.hpp"
#include "gpu/nccl_api.hpp"
#include "nccl_tests/controller.hpp"
#include "nccl_tests/device.hpp"
#include "nccl_tests/layout.hpp"
#include "nccl_tests/nccl_env.hpp"
#include "nccl_tests/protocol.hpp"
#include "nccl_tests/sweep.hpp"

namespace aicloud::nccl_tests {

namespace {

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

Clock::time_point after(double seconds) {
  return Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

// Writes whole lines to the protocol stream.
class Writer {
 public:
  explicit Writer(int fd) : m_fd(fd) {}
  void send(const std::string& line) {
    std::lock_guard<std::mutex> lock(m_mutex);
    std::string data = line + "\n";
    const char* p = data.data();
    std::size_t left = data.size();
    while (left > 0) {
      ssize_t w = ::write(m_fd, p, left);
      if (w < 0) {
        if (errno == EINTR) continue;
        return;  // the controller is gone; the inbox sees the same and aborts
      }
      p += w;
      left -= static_cast<std::size_t>(w);
    }
  }

 private:
  int m_fd;
  std::mutex m_mutex;
};

// Reads the controller's lines on a thread of its own so that an abort (or
// the end of the input) is seen while the main thread polls the GPU.
class Inbox {
 public:
  explicit Inbox(int fd) : m_fd(fd) {}
  void start() {
    std::thread([this] { loop(); }).detach();
  }
  // Also true after SIGINT/SIGTERM (common/interrupt.hpp).
  bool aborted() const { return m_abort.load() || interrupted(); }
  std::string abort_reason() {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_reason.empty() && interrupted()) return "interrupted by a signal";
    return m_reason;
  }
  // The next message of `type`; nullopt on abort or when `deadline` passes.
  // `idle` runs about every `tick` seconds while waiting (heartbeats).
  template <typename Idle>
  std::optional<Message> wait(const std::string& type, Clock::time_point deadline, double tick, Idle idle) {
    std::unique_lock<std::mutex> lock(m_mutex);
    for (;;) {
      for (auto it = m_queue.begin(); it != m_queue.end(); ++it)
        if (it->type == type) {
          Message m = std::move(*it);
          m_queue.erase(it);
          return m;
        }
      if (aborted() || Clock::now() >= deadline) return std::nullopt;
      auto until = std::min(deadline, after(tick));
      m_cv.wait_until(lock, until);
      lock.unlock();
      idle();
      lock.lock();
    }
  }

 private:
  void set_abort(const std::string& reason) {
    {
      std::lock_guard<std::mutex> lock(m_mutex);
      if (m_reason.empty()) m_reason = reason;
      m_abort.store(true);
    }
    m_cv.notify_all();
  }
  void loop() {
    std::string buf;
    char chunk[65536];
    for (;;) {
      ssize_t n = ::read(m_fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        set_abort("the controller closed the channel");
        return;
      }
      buf.append(chunk, static_cast<std::size_t>(n));
      std::size_t nl;
      while ((nl = buf.find('\n')) != std::string::npos) {
        std::string text = buf.substr(0, nl);
        buf.erase(0, nl + 1);
        if (trim(text).empty()) continue;
        try {
          Message m = decode_line(text);
          if (m.type == "abort") {
            set_abort(m.body.value("reason", std::string("aborted by the controller")));
            continue;
          }
          {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_queue.push_back(std::move(m));
          }
          m_cv.notify_all();
        } catch (const ProtocolError& e) {
          set_abort(std::string("invalid line from the controller: ") + e.what());
        }
      }
    }
  }

  int m_fd;
  std::mutex m_mutex;
  std::condition_variable m_cv;
  std::deque<Message> m_queue;
  std::atomic<bool> m_abort{false};
  std::string m_reason;
};

bool hex_to_id(const std::string& hex, gpu::NcclUniqueId& id) {
  if (hex.size() != 2 * sizeof id.internal) return false;
  for (std::size_t i = 0; i < sizeof id.internal; ++i) {
    unsigned v = 0;
    for (int k = 0; k < 2; ++k) {
      char c = hex[2 * i + static_cast<std::size_t>(k)];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f') v |= static_cast<unsigned>(c - 'a' + 10);
      else return false;
    }
    id.internal[i] = static_cast<char>(v);
  }
  return true;
}

// Turns NCCL's TUNING log on for the warm-up of one row on rank 0, and off
// again before the timed iterations (NCCL re-reads NCCL_DEBUG* after
// ncclResetDebugInit, 2.24+).
class TuningCapture {
 public:
  TuningCapture() = default;
  TuningCapture(const TuningCapture&) = delete;
  TuningCapture& operator=(const TuningCapture&) = delete;
  // A row that fails during its warm-up still restores NCCL_DEBUG* and
  // removes the log.
  ~TuningCapture() {
    if (m_active && m_api) end(*m_api);
  }
  bool begin(const gpu::NcclApi& api, const std::string& path) {
    if (!api.reset_debug_init || std::getenv("NCCL_DEBUG_FILE")) return false;
    save("NCCL_DEBUG");
    save("NCCL_DEBUG_SUBSYS");
    ::setenv("NCCL_DEBUG", "INFO", 1);
    ::setenv("NCCL_DEBUG_SUBSYS", "TUNING", 1);
    ::setenv("NCCL_DEBUG_FILE", path.c_str(), 1);
    m_path = path;
    m_api = &api;
    api.reset_debug_init();
    m_active = true;
    return true;
  }
  std::vector<std::string> end(const gpu::NcclApi& api) {
    std::vector<std::string> lines;
    if (!m_active) return lines;
    m_active = false;
    for (const auto& [k, v] : m_saved) {
      if (v) ::setenv(k.c_str(), v->c_str(), 1);
      else ::unsetenv(k.c_str());
    }
    m_saved.clear();
    ::unsetenv("NCCL_DEBUG_FILE");
    api.reset_debug_init();
    std::ifstream in(m_path);
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    ::unlink(m_path.c_str());
    return lines;
  }

 private:
  void save(const char* name) {
    const char* v = std::getenv(name);
    m_saved.emplace_back(name, v ? std::optional<std::string>(v) : std::nullopt);
  }
  bool m_active = false;
  const gpu::NcclApi* m_api = nullptr;
  std::string m_path;
  std::vector<std::pair<std::string, std::optional<std::string>>> m_saved;
};

class Worker {
 public:
  Worker(JobMessage job, Writer& out, Inbox& in) : m_job(std::move(job)), m_out(out), m_in(in) {
    m_hb.rank = m_job.rank;
  }

  int run() {
    send_hello();
    if (!rendezvous()) return finish();
    if (m_job.dry_run) {
      m_out.send(encode_ready(m_job.rank, m_digest, 0));
      return finish();
    }
    if (!m_nccl_ok || !m_gpu) {
      fail("start", "setup", !m_nccl_ok ? m_nccl_error : m_gpu_error);
      return finish();
    }
    if (!setup_device() || !init_comm() || !allocate()) return finish();
    for (std::size_t t = 0; t < m_job.plan.tests.size(); ++t)
      for (std::size_t s = 0; s < m_job.plan.sizes.size(); ++s)
        for (Placement pl : planned_placements(m_job.plan.tests[t].collective))
          if (!run_row(static_cast<int>(t), static_cast<int>(s), pl)) return finish();
    finalize();
    return finish();
  }

 private:
  // Out of place, then in place (as nccl-tests prints them), as planned.
  std::vector<Placement> planned_placements(Collective c) const {
    std::vector<Placement> out;
    if (m_job.plan.out_of_place) out.push_back(Placement::out_of_place);
    if (m_job.plan.in_place && supports_in_place(c)) out.push_back(Placement::in_place);
    return out;
  }

  // ---- start-up --------------------------------------------------------
  void send_hello() {
    HelloMessage h;
    h.rank = m_job.rank;
    h.host = host_name();
    h.pid = static_cast<long>(::getpid());
    h.tool_version = tool_version();
    gpu::NcclLoadResult lr = gpu::load_nccl(m_api, m_job.nccl_library);
    m_nccl_ok = lr.ok;
    if (lr.ok) {
      h.nccl_version = m_api.version;
      h.nccl_library = m_api.library_path;
    } else {
      m_nccl_error = lr.error;
      h.nccl_error = lr.error;
    }
    h.cuda_runtime = device::runtime_version();
    h.cuda_driver = device::driver_version();
    m_gpu = device::gpu_info(m_job.device, m_gpu_error);
    h.gpu = m_gpu;
    h.gpu_error = m_gpu_error;
    m_out.send(encode_hello(h));
  }

  bool rendezvous() {
    set_phase("rendezvous");
    if (m_job.rank == 0) {
      if (!m_nccl_ok) {
        fail("start", "nccl", "cannot create the NCCL unique id: " + m_nccl_error);
        return false;
      }
      gpu::NcclUniqueId id{};
      gpu::NcclResult r = m_api.get_unique_id(&id);
      if (r != gpu::k_nccl_success) {
        fail("start", "nccl", "ncclGetUniqueId: " + m_api.describe(r));
        return false;
      }
      m_out.send(encode_unique_id(0, to_hex(reinterpret_cast<const unsigned char*>(id.internal), sizeof id.internal)));
    }
    auto start = m_in.wait("start", after(m_job.init_timeout_s), m_job.heartbeat_s, [this] { heartbeat(false); });
    if (!start) {
      if (m_in.aborted()) fail("rendezvous", "aborted", m_in.abort_reason());
      else fail("rendezvous", "timeout", "no unique id from the controller within " + std::to_string(static_cast<int>(m_job.init_timeout_s)) + " s");
      return false;
    }
    std::string hex = start->body.value("unique_id", std::string());
    if (!hex_to_id(hex, m_id)) {
      fail("rendezvous", "protocol", "the start message carries no valid unique id");
      return false;
    }
    m_digest = sha256_hex(std::string_view(m_id.internal, sizeof m_id.internal));
    return true;
  }

  bool setup_device() {
    std::string err;
    if (!device::set_device(m_job.device, err) || !device::stream_create(m_stream, err)) {
      fail("init", "cuda", err);
      return false;
    }
    return true;
  }

  bool init_comm() {
    set_phase("init");
    const auto t0 = Clock::now();
    gpu::NcclConfig config = gpu::nonblocking_config(m_api.version);
    gpu::NcclResult r = m_api.comm_init_rank_config(&m_comm, m_job.nranks, m_id, m_job.rank, &config);
    if (r != gpu::k_nccl_success && r != gpu::k_nccl_in_progress) {
      fail("init", "nccl", "ncclCommInitRankConfig: " + m_api.describe(r, m_comm));
      return false;
    }
    if (!m_comm) {
      fail("init", "nccl", "ncclCommInitRankConfig returned no communicator");
      return false;
    }
    if (!wait_async(after(m_job.init_timeout_s), "ncclCommInitRankConfig")) return false;
    m_out.send(encode_ready(m_job.rank, m_digest, since(t0)));
    return true;
  }

  // One device pool, carved per row: [send buffer][slice 0][slice 1]...
  bool allocate() {
    set_phase("setup");
    std::string err;
    std::uint64_t free_bytes = 0, total = 0;
    if (!device::mem_info(free_bytes, total, err)) {
      fail("setup", "cuda", err);
      return false;
    }
    const auto& plan = m_job.plan;
    const std::uint64_t budget = static_cast<std::uint64_t>(static_cast<double>(free_bytes) * plan.memory_fraction);
    std::uint64_t want = 0;
    for (const auto& t : plan.tests) {
      const std::size_t elt = element_size(t.dtype);
      for (std::uint64_t bytes : plan.sizes) {
        CollSizes cs = coll_sizes(t.collective, bytes, elt, m_job.nranks);
        for (Placement pl : planned_placements(t.collective)) {
          MemoryPlan one = plan_memory(t.collective, pl, cs, elt, 1, UINT64_MAX);
          MemoryPlan all = plan_memory(t.collective, pl, cs, elt, plan.iterations, UINT64_MAX);
          if (one.total_bytes > budget) {
            fail("setup", "memory",
                 std::string(name(t.collective)) + " of " + format_bytes(bytes) + " " + std::string(name(pl)) +
                     " needs " + format_bytes(one.total_bytes) + " of GPU memory; the budget is " +
                     format_bytes(budget) + " (" + std::to_string(static_cast<int>(plan.memory_fraction * 100)) +
                     "% of " + format_bytes(free_bytes) + " free); lower --max-bytes");
            return false;
          }
          want = std::max(want, all.total_bytes);
        }
      }
    }
    m_pool_bytes = std::min(want, budget);
    void* p = nullptr;
    if (!device::alloc(&p, m_pool_bytes, err)) {
      fail("setup", "memory", "cannot allocate " + format_bytes(m_pool_bytes) + ": " + err);
      return false;
    }
    m_pool = static_cast<char*>(p);
    const int iters = plan.iterations;
    m_start.assign(static_cast<std::size_t>(iters), nullptr);
    m_stop.assign(static_cast<std::size_t>(iters), nullptr);
    m_warm.assign(static_cast<std::size_t>(std::max(plan.warmup, 0)), nullptr);
    for (auto* v : {&m_start, &m_stop})
      for (auto& e : *v)
        if (!device::event_create(e, true, err)) {
          fail("setup", "cuda", err);
          return false;
        }
    for (auto& e : m_warm)
      if (!device::event_create(e, false, err)) {
        fail("setup", "cuda", err);
        return false;
      }
    if (plan.check && !device::verify_counters_alloc(m_counters, std::min(iters, k_max_slices), err)) {
      fail("setup", "cuda", err);
      return false;
    }
    return true;
  }

  // ---- one row -----------------------------------------------------------
  bool run_row(int t, int s, Placement pl) {
    const auto& plan = m_job.plan;
    const TestSpec& spec = plan.tests[static_cast<std::size_t>(t)];
    const std::size_t elt = element_size(spec.dtype);
    const int n = m_job.nranks, r = m_job.rank;
    const CollSizes cs = coll_sizes(spec.collective, plan.sizes[static_cast<std::size_t>(s)], elt, n);
    const MemoryPlan mp = plan_memory(spec.collective, pl, cs, elt, plan.iterations, m_pool_bytes);
    if (!mp.fits()) {
      fail("setup", "memory", "row does not fit in the allocated pool");
      return false;
    }
    const bool blocks = spec.collective == Collective::all_gather || spec.collective == Collective::reduce_scatter ||
                        spec.collective == Collective::alltoall;
    const std::uint32_t seed = pattern::mix32(plan.seed ^ pattern::mix32(static_cast<std::uint32_t>(t * 1000003 + s * 7 + static_cast<int>(pl))));
    const pattern::Params params =
        pattern::make_params(static_cast<int>(spec.collective), static_cast<int>(spec.dtype), static_cast<int>(spec.op),
                             n, spec.root, seed, blocks ? cs.param_count : 0);
    char* send = m_pool;
    char* region = m_pool + mp.send_bytes;
    const std::uint64_t stride = mp.slice_stride;
    const RankLayout lay = rank_layout(spec.collective, pl, cs, elt, r, spec.root);
    auto pointers = [&](int k, const void*& sp, void*& rp) {
      char* slice = region + static_cast<std::uint64_t>(k) * stride;
      sp = (lay.separate_send ? send : slice) + lay.send_offset;
      rp = slice + lay.recv_offset;
    };
    m_hb.test = t;
    m_hb.size_index = s;
    m_hb.placement = std::string(name(pl));
    m_hb.bytes = cs.row_bytes;
    std::string err;

    // Input of the out-of-place form (the send buffer is never written).
    if (pl == Placement::out_of_place && !device::fill_input(send, cs.send_count, params, r, 0, m_stream, err)) {
      fail("setup", "cuda", err);
      return false;
    }

    // Warm-up (rank 0 records NCCL's algorithm choice meanwhile).
    set_phase("warmup");
    auto deadline = after(m_job.phase_timeout_s);
    const std::string func = nccl_function_name(name(spec.collective));
    TuningCapture capture;
    bool capturing = false;
    if (r == 0 && plan.capture_algorithm && !func.empty() && plan.warmup > 0) {
      const char* tmp = std::getenv("TMPDIR");
      std::string path = std::string(tmp && *tmp ? tmp : "/tmp") + "/aicloudctl-nccl-tuning." +
                         std::to_string(::getpid()) + "." + std::to_string(t) + "." + std::to_string(s) + "." +
                         std::to_string(static_cast<int>(pl)) + ".log";
      capturing = capture.begin(m_api, path);
    }
    for (int w = 0; w < plan.warmup; ++w) {
      const void* sp;
      void* rp;
      pointers(0, sp, rp);
      if (!launch(spec, sp, rp, cs, elt, deadline)) return false;
      if (!device::event_record(m_warm[static_cast<std::size_t>(w)], m_stream, err)) {
        fail("warmup", "cuda", err);
        return false;
      }
      m_inflight.push_back(m_warm[static_cast<std::size_t>(w)]);
    }
    if (!wait_stream(deadline)) return false;
    ResultMessage res;
    if (capturing) {
      auto lines = capture.end(m_api);
      if (auto c = choice_for(lines, func, cs.param_count * elt)) {
        res.algorithm = c->algorithm;
        res.protocol = c->protocol;
        if (c->channel_lo >= 0) res.channels = std::to_string(c->channel_lo) + ".." + std::to_string(c->channel_hi);
      }
    }

    // Timed iterations in batches of mp.slices, each verified after its batch.
    set_phase("timed");
    deadline = after(m_job.phase_timeout_s);
    const bool check = plan.check && pattern::has_output(params, r);
    const std::uint64_t verify_offset = lay.verify_offset_elems;
    std::vector<int> wrong_iterations;
    std::uint64_t wrong = 0;
    for (int it = 0; it < plan.iterations;) {
      const int batch = std::min(mp.slices, plan.iterations - it);
      if (!prepare_slices(lay, params, region, stride, batch)) return false;
      set_phase("timed");
      for (int k = 0; k < batch; ++k) {
        const void* sp;
        void* rp;
        pointers(k, sp, rp);
        if (!device::event_record(m_start[static_cast<std::size_t>(it + k)], m_stream, err)) {
          fail("timed", "cuda", err);
          return false;
        }
        if (!launch(spec, sp, rp, cs, elt, deadline)) return false;
        if (!device::event_record(m_stop[static_cast<std::size_t>(it + k)], m_stream, err)) {
          fail("timed", "cuda", err);
          return false;
        }
        m_inflight.push_back(m_stop[static_cast<std::size_t>(it + k)]);
      }
      if (!wait_stream(deadline)) return false;
      if (check) {
        set_phase("verify");
        device::VerifyOutcome vo;
        if (!device::verify_launch(region, stride, batch, verify_offset, lay.verify_count, params, r, m_counters,
                                   m_stream, err)) {
          fail("verify", "cuda", err);
          return false;
        }
        if (!wait_stream(deadline)) return false;
        if (!device::verify_collect(m_counters, batch, lay.verify_count, vo, err)) {
          fail("verify", "cuda", err);
          return false;
        }
        wrong += vo.wrong;
        for (int k = 0; k < batch; ++k)
          if (vo.per_slice[static_cast<std::size_t>(k)]) wrong_iterations.push_back(it + k);
        if (vo.first_slice >= 0 && !res.first_wrong) {
          FirstWrong f;
          f.iteration = it + static_cast<int>(vo.first_slice);
          f.offset = vo.first_offset;
          f.expected = pattern::expected_value(params, r, vo.first_offset);
          unsigned char bytes[8] = {0};
          const char* at = region + static_cast<std::uint64_t>(vo.first_slice) * stride + (verify_offset + vo.first_offset) * elt;
          if (device::copy_to_host(bytes, at, elt, err)) {
            f.actual = pattern::decode_element(params.type, bytes);
            f.actual_hex = to_hex(bytes, elt);
          }
          res.first_wrong = f;
        }
      }
      it += batch;
    }
    res.rank = r;
    res.test = t;
    res.size_index = s;
    res.placement = pl;
    res.bytes = cs.row_bytes;
    res.checked = check;
    res.wrong = wrong;
    res.wrong_iterations = std::move(wrong_iterations);
    res.slices = mp.slices;
    res.batches = mp.batches;
    res.times_us.reserve(static_cast<std::size_t>(plan.iterations));
    for (int i = 0; i < plan.iterations; ++i) {
      float ms = 0;
      if (!device::event_elapsed_ms(m_start[static_cast<std::size_t>(i)], m_stop[static_cast<std::size_t>(i)], ms, err)) {
        fail("timed", "cuda", err);
        return false;
      }
      res.times_us.push_back(static_cast<double>(ms) * 1000.0);
    }
    m_out.send(encode_result(res));
    return true;
  }

  // Writes the slices' initial contents (rank_layout): poison, then the
  // rank's input where it has one. Stream-ordered before the first start
  // event, so never part of a timed interval.
  bool prepare_slices(const RankLayout& lay, const pattern::Params& params, char* region, std::uint64_t stride,
                      int batch) {
    set_phase("prepare");
    std::string err;
    bool ok = true;
    if (lay.separate_send && lay.input_count == 0) {
      ok = device::fill_poison(region, stride * static_cast<std::uint64_t>(batch), m_stream, err);
    } else {
      for (int k = 0; k < batch && ok; ++k) {
        char* slice = region + static_cast<std::uint64_t>(k) * stride;
        ok = device::fill_poison(slice, lay.poison_bytes, m_stream, err) &&
             device::fill_input(slice + lay.input_offset, lay.input_count, params, m_job.rank, 0, m_stream, err);
      }
    }
    if (!ok) fail("prepare", "cuda", err);
    return ok;
  }

  // ---- NCCL calls --------------------------------------------------------
  gpu::NcclResult enqueue(const TestSpec& spec, const void* sp, void* rp, const CollSizes& cs, std::size_t elt) {
    const int dt = static_cast<int>(spec.dtype), op = static_cast<int>(spec.op);
    const std::size_t count = cs.param_count;
    const int n = m_job.nranks, r = m_job.rank;
    switch (spec.collective) {
      case Collective::all_reduce:
        return m_api.all_reduce(sp, rp, count, dt, op, m_comm, m_stream);
      case Collective::all_gather:
        return m_api.all_gather(sp, rp, count, dt, m_comm, m_stream);
      case Collective::reduce_scatter:
        return m_api.reduce_scatter(sp, rp, count, dt, op, m_comm, m_stream);
      case Collective::broadcast:
        return m_api.broadcast(sp, rp, count, dt, spec.root, m_comm, m_stream);
      case Collective::reduce:
        return m_api.reduce(sp, rp, count, dt, op, spec.root, m_comm, m_stream);
      case Collective::alltoall:
      case Collective::sendrecv: {
        gpu::NcclResult first = m_api.group_start();
        if (first != gpu::k_nccl_success) return first;
        auto keep = [&first](gpu::NcclResult x) {
          if (first == gpu::k_nccl_success) first = x;
        };
        if (spec.collective == Collective::alltoall) {
          for (int p = 0; p < n; ++p) {
            const std::uint64_t off = static_cast<std::uint64_t>(p) * count * elt;
            keep(m_api.send(static_cast<const char*>(sp) + off, count, dt, p, m_comm, m_stream));
            keep(m_api.recv(static_cast<char*>(rp) + off, count, dt, p, m_comm, m_stream));
          }
        } else {
          keep(m_api.send(sp, count, dt, (r + 1) % n, m_comm, m_stream));
          keep(m_api.recv(rp, count, dt, (r + n - 1) % n, m_comm, m_stream));
        }
        gpu::NcclResult end = m_api.group_end();
        return first != gpu::k_nccl_success ? first : end;
      }
    }
    return gpu::k_nccl_invalid_argument;
  }

  bool launch(const TestSpec& spec, const void* sp, void* rp, const CollSizes& cs, std::size_t elt,
              Clock::time_point deadline) {
    gpu::NcclResult r = enqueue(spec, sp, rp, cs, elt);
    if (r == gpu::k_nccl_in_progress) {
      if (!wait_async(deadline, name(spec.collective).data())) return false;
    } else if (r != gpu::k_nccl_success) {
      fail(m_hb.phase, "nccl", std::string(name(spec.collective)) + ": " + m_api.describe(r, m_comm));
      return false;
    }
    ++m_launched;
    m_hb.launched = m_launched;
    return true;
  }

  // Polls ncclCommGetAsyncError until the communicator is no longer busy.
  bool wait_async(Clock::time_point deadline, const std::string& what) {
    for (;;) {
      gpu::NcclResult st = gpu::k_nccl_success;
      gpu::NcclResult q = m_api.comm_get_async_error(m_comm, &st);
      if (q != gpu::k_nccl_success) st = q;
      if (st == gpu::k_nccl_success) return true;
      if (st != gpu::k_nccl_in_progress) {
        fail(m_hb.phase, "nccl", what + ": " + m_api.describe(st, m_comm));
        return false;
      }
      if (!poll_common(deadline, what)) return false;
    }
  }

  // Polls the stream to completion (and NCCL's asynchronous errors).
  bool wait_stream(Clock::time_point deadline) {
    std::string err;
    for (;;) {
      device::Query q = device::stream_query(m_stream, err);
      if (q == device::Query::done) {
        m_completed = m_launched;
        m_inflight.clear();
        m_hb.completed = m_completed;
        return true;
      }
      if (q == device::Query::error) {
        fail(m_hb.phase, "cuda", err);
        return false;
      }
      if (m_comm) {
        gpu::NcclResult st = gpu::k_nccl_success;
        if (m_api.comm_get_async_error(m_comm, &st) == gpu::k_nccl_success && st != gpu::k_nccl_success &&
            st != gpu::k_nccl_in_progress) {
          fail(m_hb.phase, "nccl", m_api.describe(st, m_comm));
          return false;
        }
      }
      while (!m_inflight.empty() && device::event_query(m_inflight.front(), err) == device::Query::done) {
        m_inflight.pop_front();
        ++m_completed;
      }
      m_hb.completed = m_completed;
      if (!poll_common(deadline, "the GPU")) return false;
    }
  }

  // Shared by every wait: abort, deadline, heartbeat, a short sleep.
  bool poll_common(Clock::time_point deadline, const std::string& what) {
    if (m_in.aborted()) {
      fail(m_hb.phase, "aborted", m_in.abort_reason());
      return false;
    }
    if (Clock::now() >= deadline) {
      const double limit = m_hb.phase == "init" ? m_job.init_timeout_s : m_job.phase_timeout_s;
      fail(m_hb.phase, "timeout",
           "waiting on " + what + " for more than " + std::to_string(static_cast<long>(limit)) + " s in phase " +
               m_hb.phase + " (NCCL ops launched " + std::to_string(m_launched) + ", completed " +
               std::to_string(m_completed) + ")");
      return false;
    }
    heartbeat(false);
    std::this_thread::sleep_for(std::chrono::microseconds(50));
    return true;
  }

  void finalize() {
    set_phase("finalize");
    gpu::NcclResult r = m_api.comm_finalize(m_comm);
    if (r != gpu::k_nccl_success && r != gpu::k_nccl_in_progress) {
      fail("finalize", "nccl", "ncclCommFinalize: " + m_api.describe(r, m_comm));
      return;
    }
    if (!wait_async(after(m_job.phase_timeout_s), "ncclCommFinalize")) return;
    m_api.comm_destroy(m_comm);
    m_comm = nullptr;
  }

  // ---- reporting -----------------------------------------------------------
  void set_phase(const std::string& phase) {
    if (m_hb.phase != phase) {
      m_hb.phase = phase;
      heartbeat(true);
    }
  }

  void heartbeat(bool force) {
    if (!force && since(m_last_hb) < m_job.heartbeat_s) return;
    m_hb.elapsed_s = since(m_begin);
    m_hb.launched = m_launched;
    m_hb.completed = m_completed;
    m_out.send(encode_heartbeat(m_hb));
    m_last_hb = Clock::now();
  }

  void fail(const std::string& phase, const std::string& kind, const std::string& message) {
    if (m_failed) return;
    m_failed = true;
    m_status = kind == "timeout" ? "timeout" : kind == "aborted" ? "aborted" : "failed";
    if (m_comm) {
      // Abort, never destroy: a hung collective would make destroy hang too.
      m_api.comm_abort(m_comm);
      m_comm = nullptr;
    }
    ErrorMessage e;
    e.rank = m_job.rank;
    e.phase = phase;
    e.kind = kind;
    e.message = message;
    e.launched = m_launched;
    e.completed = m_completed;
    // An abort asked for by the controller is not news to it.
    if (kind != "aborted") m_out.send(encode_error(e));
  }

  int finish() {
    m_out.send(encode_done(m_job.rank, m_status));
    return m_failed ? 1 : 0;
  }

 public:
  bool failed() const { return m_failed; }

 private:
  JobMessage m_job;
  Writer& m_out;
  Inbox& m_in;
  gpu::NcclApi m_api;
  bool m_nccl_ok = false;
  std::string m_nccl_error;
  std::optional<GpuInfo> m_gpu;
  std::string m_gpu_error;
  gpu::NcclUniqueId m_id{};
  std::string m_digest;
  gpu::NcclComm m_comm = nullptr;
  device::Stream m_stream = nullptr;
  char* m_pool = nullptr;
  std::uint64_t m_pool_bytes = 0;
  std::vector<device::Event> m_start, m_stop, m_warm;
  std::deque<device::Event> m_inflight;
  device::VerifyCounters m_counters;
  long m_launched = 0, m_completed = 0;
  HeartbeatMessage m_hb;
  Clock::time_point m_begin = Clock::now();
  Clock::time_point m_last_hb{};
  bool m_failed = false;
  std::string m_status = "ok";
};

}  // namespace

int run_worker_fds(int in_fd, int out_fd) {
  // Both leaked on purpose: the reader thread may still be blocked in
  // read() when the process exits.
  Writer* out = new Writer(out_fd);
  Inbox* in = new Inbox(in_fd);
  in->start();
  auto job_msg = in->wait("job", after(120), 1.0, [] {});
  if (!job_msg) return 2;
  JobMessage job;
  try {
    job = job_from_json(job_msg->body);
  } catch (const ProtocolError& e) {
    ErrorMessage err;
    err.rank = job_msg->body.value("rank", 0);
    err.phase = "start";
    err.kind = "protocol";
    err.message = std::string("invalid job: ") + e.what();
    out->send(encode_error(err));
    out->send(encode_done(err.rank, "failed"));
    return 2;
  }
  // The controller's environment for this run (e.g. NCCL_ALGO=Ring) goes in
  // before NCCL is loaded and reads it.
  for (const auto& [k, v] : job.env) ::setenv(k.c_str(), v.c_str(), 1);
  Worker w(std::move(job), *out, *in);
  int rc = w.run();
  if (w.failed()) {
    // After an abort the CUDA and NCCL teardown at exit could wait on a
    // wedged GPU; everything that matters has been sent.
    std::fflush(nullptr);
    ::_exit(rc);
  }
  return rc;
}

int run_worker() {
  // Keep the real stdout for the protocol and send everything else that
  // writes to fd 1 (NCCL_DEBUG output, CUDA warnings) to stderr.
  int proto = ::fcntl(1, F_DUPFD_CLOEXEC, 3);
  if (proto < 0) return 2;
  ::dup2(2, 1);
  return run_worker_fds(0, proto);
}

}  // namespace aicloud::nccl_tests
