#include "burnin/telemetry.hpp"

#include <chrono>
#include <cmath>

namespace aicloud::burnin {

double steady_seconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

namespace {
template <typename T>
double num(const gpu::Reading<T>& r) {
  return r.ok() ? static_cast<double>(*r) : NAN;
}
}  // namespace

void GpuSeries::append(double time, int phase_index, const gpu::GpuSample& s) {
  t.push_back(time);
  phase.push_back(phase_index);
  power_w.push_back(num(s.power_w));
  temp_gpu_c.push_back(num(s.temp_gpu));
  temp_hbm_c.push_back(num(s.temp_hbm));
  sm_clock_mhz.push_back(num(s.sm_clock_mhz));
  mem_clock_mhz.push_back(num(s.mem_clock_mhz));
  pcie_gen.push_back(num(s.pcie_gen));
  pcie_width.push_back(num(s.pcie_width));
  util_pct.push_back(num(s.util_gpu));
  clock_events.push_back(s.clock_events.value_or(0));
  clock_events_known.push_back(s.clock_events.ok());
}

Telemetry::Telemetry(std::vector<unsigned> indices, double t0, double period_s)
    : m_indices(std::move(indices)), m_t0(t0), m_period(period_s), m_series(m_indices.size()) {}

Telemetry::~Telemetry() { stop(); }

void Telemetry::start() {
  auto& nvml = gpu::Nvml::instance();
  if (!nvml.available()) return;
  m_events_ok = nvml.start_events(m_indices, &m_events_error);
  m_sampler = std::thread([this] { sample_loop(); });
  if (m_events_ok) m_watcher = std::thread([this] { event_loop(); });
}

void Telemetry::stop() {
  m_stop = true;
  if (m_sampler.joinable()) m_sampler.join();
  if (m_watcher.joinable()) m_watcher.join();
  if (m_events_ok) gpu::Nvml::instance().stop_events();
}

void Telemetry::sample_loop() {
  auto& nvml = gpu::Nvml::instance();
  double next = steady_seconds();
  while (!m_stop) {
    double now = steady_seconds();
    if (now < next) {
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min<long>(100, long((next - now) * 1000) + 1)));
      continue;
    }
    int phase = m_phase;
    for (std::size_t i = 0; i < m_indices.size(); ++i) {
      gpu::GpuSample s = nvml.sample(m_indices[i]);
      std::lock_guard<std::mutex> lock(m_mutex);
      m_series[i].append(now - m_t0, phase, s);
    }
    next += m_period;
    if (next < steady_seconds()) next = steady_seconds() + m_period;  // fell behind: skip, never burst
  }
}

void Telemetry::event_loop() {
  auto& nvml = gpu::Nvml::instance();
  while (!m_stop) {
    auto e = nvml.poll_event(500);
    if (e) {
      std::lock_guard<std::mutex> lock(m_mutex);
      m_events.push_back(*e);
    }
  }
}

}  // namespace aicloud::burnin
