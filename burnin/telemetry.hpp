// 1-second NVML telemetry of the GPUs under test, and NVML's XID/ECC event
// stream, each on its own thread for the whole run. The phase (preflight,
// stress, interconnect) is stamped on every sample so that the rules judge
// throttling only where the GPUs were meant to be under full load.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "burnin/run.hpp"

namespace aicloud::burnin {

class Telemetry {
 public:
  // Samples the GPUs with these NVML indices; times are relative to t0
  // (steady-clock seconds).
  Telemetry(std::vector<unsigned> indices, double t0, double period_s = 1.0);
  ~Telemetry();
  void start();
  void set_phase(int phase) { m_phase = phase; }
  void stop();

  // Valid after stop().
  const std::vector<GpuSeries>& series() const { return m_series; }
  const std::vector<gpu::NvmlEvent>& events() const { return m_events; }
  bool events_available() const { return m_events_ok; }
  const std::string& events_error() const { return m_events_error; }

 private:
  void sample_loop();
  void event_loop();

  std::vector<unsigned> m_indices;
  double m_t0, m_period;
  std::atomic<int> m_phase{0};
  std::atomic<bool> m_stop{false};
  std::thread m_sampler, m_watcher;
  std::mutex m_mutex;
  std::vector<GpuSeries> m_series;
  std::vector<gpu::NvmlEvent> m_events;
  bool m_events_ok = false;
  std::string m_events_error;
};

// Steady-clock seconds.
double steady_seconds();

}  // namespace aicloud::burnin
