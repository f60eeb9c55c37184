// device.hpp for builds without CUDA (-DAICLOUDCTL_CUDA=OFF): every call
// fails with one clear sentence, so the worker reports it instead of
// pretending to measure.
#include "nccl_tests/device.hpp"

namespace aicloud::nccl_tests::device {

namespace {
const char* const k_no_cuda = "this aicloudctl was built without CUDA";
bool fail(std::string& error) {
  error = k_no_cuda;
  return false;
}
}  // namespace

bool available() { return false; }
int runtime_version() { return 0; }
int driver_version() { return 0; }
int device_count(std::string& error) { return fail(error) ? 0 : -1; }
std::optional<GpuInfo> gpu_info(int, std::string& error) {
  fail(error);
  return std::nullopt;
}
bool set_device(int, std::string& error) { return fail(error); }
bool mem_info(std::uint64_t&, std::uint64_t&, std::string& error) { return fail(error); }
bool stream_create(Stream&, std::string& error) { return fail(error); }
void stream_destroy(Stream) {}
Query stream_query(Stream, std::string& error) {
  fail(error);
  return Query::error;
}
bool event_create(Event&, bool, std::string& error) { return fail(error); }
void event_destroy(Event) {}
bool event_record(Event, Stream, std::string& error) { return fail(error); }
Query event_query(Event, std::string& error) {
  fail(error);
  return Query::error;
}
bool event_elapsed_ms(Event, Event, float&, std::string& error) { return fail(error); }
bool alloc(void** p, std::uint64_t, std::string& error) {
  *p = nullptr;
  return fail(error);
}
void free(void*) {}
bool copy_to_host(void*, const void*, std::uint64_t, std::string& error) { return fail(error); }
bool fill_poison(void*, std::uint64_t, Stream, std::string& error) { return fail(error); }
bool fill_input(void*, std::uint64_t, const pattern::Params&, int, std::uint64_t, Stream, std::string& error) {
  return fail(error);
}
bool verify_counters_alloc(VerifyCounters&, int, std::string& error) { return fail(error); }
void verify_counters_free(VerifyCounters&) {}
bool verify_launch(const void*, std::uint64_t, int, std::uint64_t, std::uint64_t, const pattern::Params&, int,
                   VerifyCounters&, Stream, std::string& error) {
  return fail(error);
}
bool verify_collect(const VerifyCounters&, int, std::uint64_t, VerifyOutcome&, std::string& error) {
  return fail(error);
}

}  // namespace aicloud::nccl_tests::device
