#include "nccl_tests/protocol.hpp"

#include <cmath>

namespace aicloud::nccl_tests {

using nlohmann::json;

namespace {

const json& field(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) throw ProtocolError(std::string("missing field '") + key + "'");
  return *it;
}

template <typename T>
T get(const json& j, const char* key) {
  const json& v = field(j, key);
  try {
    return v.get<T>();
  } catch (const json::exception&) {
    throw ProtocolError(std::string("field '") + key + "' has the wrong type");
  }
}

template <typename T>
T get_or(const json& j, const char* key, T fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  try {
    return it->get<T>();
  } catch (const json::exception&) {
    throw ProtocolError(std::string("field '") + key + "' has the wrong type");
  }
}

// NaN travels as null (JSON has no NaN).
json number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }
double number_from(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return NAN;
  if (!it->is_number()) throw ProtocolError(std::string("field '") + key + "' is not a number");
  return it->get<double>();
}

std::string line(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace

json to_json(const TestSpec& t) {
  return {{"collective", name(t.collective)}, {"dtype", name(t.dtype)}, {"op", name(t.op)}, {"root", t.root}};
}

json to_json(const BenchPlan& p) {
  json tests = json::array();
  for (const auto& t : p.tests) tests.push_back(to_json(t));
  return {{"tests", tests},
          {"sizes", p.sizes},
          {"iterations", p.iterations},
          {"warmup", p.warmup},
          {"in_place", p.in_place},
          {"out_of_place", p.out_of_place},
          {"check", p.check},
          {"capture_algorithm", p.capture_algorithm},
          {"memory_fraction", p.memory_fraction},
          {"seed", p.seed}};
}

json to_json(const GpuInfo& g) {
  return {{"index", g.index},       {"name", g.name},
          {"pci_bus_id", g.pci_bus_id}, {"uuid", g.uuid},
          {"memory_total", g.memory_total}, {"compute_capability", std::to_string(g.cc_major) + "." + std::to_string(g.cc_minor)}};
}

std::string encode_job(const JobMessage& m) {
  return line({{"type", "job"},
               {"protocol", k_protocol_version},
               {"rank", m.rank},
               {"nranks", m.nranks},
               {"local_rank", m.local_rank},
               {"node", m.node},
               {"device", m.device},
               {"dry_run", m.dry_run},
               {"nccl_library", m.nccl_library},
               {"env", m.env},
               {"init_timeout_s", m.init_timeout_s},
               {"phase_timeout_s", m.phase_timeout_s},
               {"heartbeat_s", m.heartbeat_s},
               {"plan", to_json(m.plan)}});
}

std::string encode_start(const std::string& id) { return line({{"type", "start"}, {"unique_id", id}}); }
std::string encode_abort(const std::string& reason) { return line({{"type", "abort"}, {"reason", reason}}); }

std::string encode_hello(const HelloMessage& m) {
  json j = {{"type", "hello"},
            {"protocol", m.protocol},
            {"rank", m.rank},
            {"host", m.host},
            {"pid", m.pid},
            {"tool_version", m.tool_version},
            {"nccl", {{"version", m.nccl_version}, {"library", m.nccl_library}}},
            {"cuda", {{"runtime", m.cuda_runtime}, {"driver", m.cuda_driver}}}};
  if (!m.nccl_error.empty()) j["nccl_error"] = m.nccl_error;
  if (m.gpu) j["gpu"] = to_json(*m.gpu);
  if (!m.gpu_error.empty()) j["gpu_error"] = m.gpu_error;
  return line(j);
}

std::string encode_unique_id(int rank, const std::string& id) {
  return line({{"type", "unique_id"}, {"rank", rank}, {"id", id}});
}

std::string encode_ready(int rank, const std::string& digest, double init_s) {
  return line({{"type", "ready"}, {"rank", rank}, {"id_digest", digest}, {"init_s", number(init_s)}});
}

std::string encode_heartbeat(const HeartbeatMessage& m) {
  return line({{"type", "heartbeat"},
               {"rank", m.rank},
               {"phase", m.phase},
               {"test", m.test},
               {"size_index", m.size_index},
               {"placement", m.placement},
               {"bytes", m.bytes},
               {"launched", m.launched},
               {"completed", m.completed},
               {"elapsed_s", number(m.elapsed_s)}});
}

std::string encode_result(const ResultMessage& m) {
  json times = json::array();
  for (double t : m.times_us) times.push_back(number(t));
  json j = {{"type", "result"},
            {"rank", m.rank},
            {"test", m.test},
            {"size_index", m.size_index},
            {"placement", name(m.placement)},
            {"bytes", m.bytes},
            {"times_us", times},
            {"checked", m.checked},
            {"wrong", m.wrong},
            {"wrong_iterations", m.wrong_iterations},
            {"slices", m.slices},
            {"batches", m.batches}};
  if (m.first_wrong)
    j["first_wrong"] = {{"iteration", m.first_wrong->iteration},
                        {"offset", m.first_wrong->offset},
                        {"expected", number(m.first_wrong->expected)},
                        {"actual", number(m.first_wrong->actual)},
                        {"actual_hex", m.first_wrong->actual_hex}};
  if (!m.algorithm.empty()) {
    j["algorithm"] = m.algorithm;
    j["protocol"] = m.protocol;
    j["channels"] = m.channels;
  }
  return line(j);
}

std::string encode_error(const ErrorMessage& m) {
  return line({{"type", "error"},
               {"rank", m.rank},
               {"phase", m.phase},
               {"kind", m.kind},
               {"message", m.message},
               {"launched", m.launched},
               {"completed", m.completed}});
}

std::string encode_done(int rank, const std::string& status) {
  return line({{"type", "done"}, {"rank", rank}, {"status", status}});
}

Message decode_line(const std::string& text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    throw ProtocolError(std::string("not JSON: ") + e.what());
  }
  if (!j.is_object()) throw ProtocolError("not a JSON object");
  auto it = j.find("type");
  if (it == j.end() || !it->is_string()) throw ProtocolError("no string field 'type'");
  Message m;
  m.type = it->get<std::string>();
  m.body = std::move(j);
  return m;
}

TestSpec test_from_json(const json& j) {
  TestSpec t;
  auto c = parse_collective(get<std::string>(j, "collective"));
  auto d = parse_datatype(get<std::string>(j, "dtype"));
  auto o = parse_redop(get<std::string>(j, "op"));
  if (!c) throw ProtocolError("unknown collective '" + get<std::string>(j, "collective") + "'");
  if (!d) throw ProtocolError("unknown dtype '" + get<std::string>(j, "dtype") + "'");
  if (!o) throw ProtocolError("unknown op '" + get<std::string>(j, "op") + "'");
  t.collective = *c;
  t.dtype = *d;
  t.op = *o;
  t.root = get_or<int>(j, "root", 0);
  return t;
}

BenchPlan plan_from_json(const json& j) {
  BenchPlan p;
  for (const auto& t : field(j, "tests")) p.tests.push_back(test_from_json(t));
  p.sizes = get<std::vector<std::uint64_t>>(j, "sizes");
  p.iterations = get<int>(j, "iterations");
  p.warmup = get<int>(j, "warmup");
  p.in_place = get_or<bool>(j, "in_place", true);
  p.out_of_place = get_or<bool>(j, "out_of_place", true);
  p.check = get_or<bool>(j, "check", true);
  p.capture_algorithm = get_or<bool>(j, "capture_algorithm", true);
  p.memory_fraction = get_or<double>(j, "memory_fraction", 0.6);
  p.seed = get_or<std::uint32_t>(j, "seed", 0x5eed);
  if (p.iterations < 1) throw ProtocolError("iterations must be at least 1");
  if (p.warmup < 0) throw ProtocolError("warmup must not be negative");
  return p;
}

JobMessage job_from_json(const json& j) {
  JobMessage m;
  int proto = get<int>(j, "protocol");
  if (proto != k_protocol_version)
    throw ProtocolError("protocol " + std::to_string(proto) + " is not supported (this worker speaks " +
                        std::to_string(k_protocol_version) + ")");
  m.rank = get<int>(j, "rank");
  m.nranks = get<int>(j, "nranks");
  if (m.nranks < 1 || m.rank < 0 || m.rank >= m.nranks) throw ProtocolError("rank out of range");
  m.local_rank = get_or<int>(j, "local_rank", 0);
  m.node = get_or<std::string>(j, "node", "");
  m.device = get<int>(j, "device");
  m.dry_run = get_or<bool>(j, "dry_run", false);
  m.nccl_library = get_or<std::string>(j, "nccl_library", "");
  m.env = get_or<std::map<std::string, std::string>>(j, "env", {});
  m.init_timeout_s = get_or<double>(j, "init_timeout_s", 120);
  m.phase_timeout_s = get_or<double>(j, "phase_timeout_s", 120);
  m.heartbeat_s = get_or<double>(j, "heartbeat_s", 1);
  m.plan = plan_from_json(field(j, "plan"));
  return m;
}

GpuInfo gpu_from_json(const json& j) {
  GpuInfo g;
  g.index = get_or<int>(j, "index", -1);
  g.name = get_or<std::string>(j, "name", "");
  g.pci_bus_id = get_or<std::string>(j, "pci_bus_id", "");
  g.uuid = get_or<std::string>(j, "uuid", "");
  g.memory_total = get_or<std::uint64_t>(j, "memory_total", 0);
  std::string cc = get_or<std::string>(j, "compute_capability", "0.0");
  auto dot = cc.find('.');
  try {
    g.cc_major = std::stoi(cc.substr(0, dot));
    g.cc_minor = dot == std::string::npos ? 0 : std::stoi(cc.substr(dot + 1));
  } catch (const std::exception&) {
    g.cc_major = g.cc_minor = 0;
  }
  return g;
}

HelloMessage hello_from_json(const json& j) {
  HelloMessage m;
  m.rank = get<int>(j, "rank");
  m.protocol = get<int>(j, "protocol");
  m.host = get_or<std::string>(j, "host", "");
  m.pid = get_or<long>(j, "pid", 0);
  m.tool_version = get_or<std::string>(j, "tool_version", "");
  if (auto it = j.find("nccl"); it != j.end() && it->is_object()) {
    m.nccl_version = get_or<int>(*it, "version", 0);
    m.nccl_library = get_or<std::string>(*it, "library", "");
  }
  m.nccl_error = get_or<std::string>(j, "nccl_error", "");
  if (auto it = j.find("cuda"); it != j.end() && it->is_object()) {
    m.cuda_runtime = get_or<int>(*it, "runtime", 0);
    m.cuda_driver = get_or<int>(*it, "driver", 0);
  }
  if (auto it = j.find("gpu"); it != j.end() && it->is_object()) m.gpu = gpu_from_json(*it);
  m.gpu_error = get_or<std::string>(j, "gpu_error", "");
  return m;
}

HeartbeatMessage heartbeat_from_json(const json& j) {
  HeartbeatMessage m;
  m.rank = get<int>(j, "rank");
  m.phase = get_or<std::string>(j, "phase", "");
  m.test = get_or<int>(j, "test", -1);
  m.size_index = get_or<int>(j, "size_index", -1);
  m.placement = get_or<std::string>(j, "placement", "");
  m.bytes = get_or<std::uint64_t>(j, "bytes", 0);
  m.launched = get_or<long>(j, "launched", 0);
  m.completed = get_or<long>(j, "completed", 0);
  m.elapsed_s = get_or<double>(j, "elapsed_s", 0);
  return m;
}

ResultMessage result_from_json(const json& j) {
  ResultMessage m;
  m.rank = get<int>(j, "rank");
  m.test = get<int>(j, "test");
  m.size_index = get<int>(j, "size_index");
  std::string pl = get<std::string>(j, "placement");
  if (pl == "in_place")
    m.placement = Placement::in_place;
  else if (pl == "out_of_place")
    m.placement = Placement::out_of_place;
  else
    throw ProtocolError("unknown placement '" + pl + "'");
  m.bytes = get<std::uint64_t>(j, "bytes");
  for (const auto& t : field(j, "times_us")) m.times_us.push_back(t.is_number() ? t.get<double>() : NAN);
  m.checked = get_or<bool>(j, "checked", false);
  m.wrong = get_or<std::uint64_t>(j, "wrong", 0);
  m.wrong_iterations = get_or<std::vector<int>>(j, "wrong_iterations", {});
  if (auto it = j.find("first_wrong"); it != j.end() && it->is_object()) {
    FirstWrong f;
    f.iteration = get_or<int>(*it, "iteration", 0);
    f.offset = get_or<std::uint64_t>(*it, "offset", 0);
    f.expected = number_from(*it, "expected");
    f.actual = number_from(*it, "actual");
    f.actual_hex = get_or<std::string>(*it, "actual_hex", "");
    m.first_wrong = f;
  }
  m.slices = get_or<int>(j, "slices", 0);
  m.batches = get_or<int>(j, "batches", 0);
  m.algorithm = get_or<std::string>(j, "algorithm", "");
  m.protocol = get_or<std::string>(j, "protocol", "");
  m.channels = get_or<std::string>(j, "channels", "");
  return m;
}

ErrorMessage error_from_json(const json& j) {
  ErrorMessage m;
  m.rank = get<int>(j, "rank");
  m.phase = get_or<std::string>(j, "phase", "");
  m.kind = get_or<std::string>(j, "kind", "");
  m.message = get_or<std::string>(j, "message", "");
  m.launched = get_or<long>(j, "launched", 0);
  m.completed = get_or<long>(j, "completed", 0);
  return m;
}

}  // namespace aicloud::nccl_tests
