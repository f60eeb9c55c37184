#include "nccl_tests/command.hpp"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <set>

#include <nlohmann/json.hpp>

#include "common/duration.hpp"
#include "common/error.hpp"
#include "common/hostinfo.hpp"
#include "common/pipe_child.hpp"
#include "common/strings.hpp"
#include "common/term.hpp"
#include "nccl_tests/device.hpp"
#include "nccl_tests/launch.hpp"
#include "nccl_tests/nccl_env.hpp"
#include "nccl_tests/report.hpp"
#include "nccl_tests/sweep.hpp"

namespace aicloud::nccl_tests {

namespace {

std::uint64_t size_flag(const std::string& flag, const std::string& value) {
  auto v = parse_size(value);
  if (!v) throw UsageError(flag + ": invalid size '" + value + "' (examples: 64, 4K, 32M, 8G)");
  return *v;
}

double duration_flag(const std::string& flag, const std::string& value) {
  auto d = parse_duration(value);
  if (!d || d->count() <= 0) throw UsageError(flag + ": invalid duration '" + value + "' (examples: 90s, 5m, 1h)");
  return d->count();
}

// "a,b" and repeated flags both give lists; "all" expands to every name.
std::vector<std::string> expand(const std::vector<std::string>& values, const std::vector<std::string>& all) {
  std::vector<std::string> out;
  for (const auto& v : values)
    for (const auto& part : split(v, ',', false)) {
      std::string w(trim(part));
      if (w.empty()) continue;
      if (to_lower(w) == "all") {
        for (const auto& a : all)
          if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
      } else if (std::find(out.begin(), out.end(), w) == out.end()) {
        out.push_back(w);
      }
    }
  return out;
}

template <typename T, typename Parse>
std::vector<T> parse_list(const std::string& flag, const std::vector<std::string>& values,
                          const std::vector<std::string>& names, Parse parse) {
  std::vector<T> out;
  for (const auto& w : expand(values, names)) {
    auto v = parse(w);
    if (!v) {
      auto guess = did_you_mean(w, names);
      throw UsageError(flag + ": unknown value '" + w + "'" + (guess ? " (did you mean '" + *guess + "'?)" : "") +
                       "; one of: " + join(names, ", ") + ", all");
    }
    if (std::find(out.begin(), out.end(), *v) == out.end()) out.push_back(*v);
  }
  if (out.empty()) throw UsageError(flag + ": empty list");
  return out;
}

}  // namespace

std::vector<int> parse_gpu_list(const std::string& text) {
  std::string t(trim(text));
  if (t.empty() || to_lower(t) == "all") return {};
  std::vector<int> out;
  auto number = [&](const std::string& s) {
    if (s.empty() || s.size() > 4 || s.find_first_not_of("0123456789") != std::string::npos)
      throw UsageError("--gpus: '" + text + "' is not 'all' or a list such as 0,1,4-7");
    return std::stoi(s);
  };
  for (const auto& part : split(t, ',', false)) {
    std::string p(trim(part));
    auto dash = p.find('-');
    int lo, hi;
    if (dash == std::string::npos) {
      lo = hi = number(p);
    } else {
      lo = number(p.substr(0, dash));
      hi = number(p.substr(dash + 1));
      if (hi < lo) throw UsageError("--gpus: range '" + p + "' runs backwards");
    }
    for (int g = lo; g <= hi; ++g) {
      if (std::find(out.begin(), out.end(), g) != out.end())
        throw UsageError("--gpus: GPU " + std::to_string(g) + " is listed twice");
      out.push_back(g);
    }
  }
  if (out.empty()) throw UsageError("--gpus: empty list");
  return out;
}

LaunchSpec make_launch_spec(const NcclOptions& o, const std::vector<std::string>& nodes, int gpu_count) {
  LaunchSpec spec;
  SweepSpec sw;
  sw.min_bytes = size_flag("--min-bytes", o.min_bytes);
  sw.max_bytes = size_flag("--max-bytes", o.max_bytes);
  sw.step_factor = o.step_factor;
  if (!o.step_bytes.empty()) {
    sw.step_bytes = size_flag("--step-bytes", o.step_bytes);
    if (o.step_factor > 1)
      throw UsageError("--step-bytes and --step-factor exclude each other; give --step-factor 1 with --step-bytes");
  }
  if (o.step_factor < 1) throw UsageError("--step-factor must be at least 1");
  spec.plan.sizes = sweep_sizes(sw);
  if (o.iterations < 1 || o.iterations > 100000) throw UsageError("--iters must be between 1 and 100000");
  if (o.warmup < 0 || o.warmup > 100000) throw UsageError("--warmup-iters must be between 0 and 100000");
  spec.plan.iterations = o.iterations;
  spec.plan.warmup = o.warmup;
  spec.plan.check = !o.no_check;
  spec.plan.capture_algorithm = !o.no_algo_capture;
  if (o.in_place_only && o.out_of_place_only)
    throw UsageError("--in-place-only and --out-of-place-only exclude each other");
  spec.plan.in_place = !o.out_of_place_only;
  spec.plan.out_of_place = !o.in_place_only;

  auto colls = parse_list<Collective>("--collective", o.collectives, collective_names(), parse_collective);
  auto types = parse_list<DataType>("--datatype", o.dtypes, datatype_names(), parse_datatype);
  auto ops = parse_list<RedOp>("--op", o.ops, redop_names(), parse_redop);
  for (Collective c : colls)
    for (DataType d : types)
      for (RedOp op : uses_redop(c) ? ops : std::vector<RedOp>{ops.front()}) spec.plan.tests.push_back({c, d, op, o.root});
  if (o.in_place_only && std::all_of(colls.begin(), colls.end(), [](Collective c) { return !supports_in_place(c); }))
    throw UsageError("--in-place-only: alltoall and sendrecv have no in-place form");

  spec.init_timeout_s = duration_flag("--init-timeout", o.init_timeout);
  spec.phase_timeout_s = duration_flag("--timeout", o.timeout);
  // A worker that has been silent for longer than a phase can last is gone.
  spec.silence_timeout_s = std::max(60.0, std::max(spec.init_timeout_s, spec.phase_timeout_s) + 30.0);
  spec.nccl_library = o.nccl_lib;
  spec.dry_run = o.dry_run;
  for (const auto& kv : o.env) {
    auto eq = kv.find('=');
    std::string k = kv.substr(0, eq);
    if (eq == std::string::npos || k.empty() || k.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos)
      throw UsageError("--env: expected NAME=VALUE, got '" + kv + "'");
    spec.env[k] = kv.substr(eq + 1);
  }

  std::vector<int> devices = parse_gpu_list(o.gpus);
  int per_node = o.ranks_per_node;
  if (per_node < 0) throw UsageError("--ranks-per-node must be at least 1");
  if (devices.empty()) {
    if (per_node == 0) {
      if (gpu_count <= 0)
        throw UsageError("no GPU was found on this node; give --ranks-per-node N (with --dry-run to check a launch "
                         "without GPUs)");
      per_node = gpu_count;
    } else if (gpu_count > 0 && per_node > gpu_count) {
      throw UsageError("--ranks-per-node " + std::to_string(per_node) + " but this node has " +
                       std::to_string(gpu_count) + " GPUs (NCCL allows one rank per GPU)");
    }
  } else {
    if (per_node == 0) per_node = static_cast<int>(devices.size());
    if (gpu_count > 0)
      for (int d : devices)
        if (d >= gpu_count)
          throw UsageError("--gpus: GPU " + std::to_string(d) + " does not exist (this node has " +
                           std::to_string(gpu_count) + ")");
  }
  spec.ranks = plan_ranks(nodes, per_node, devices);
  const int nranks = static_cast<int>(spec.ranks.size());
  if (o.root < 0 || o.root >= nranks)
    throw UsageError("--root " + std::to_string(o.root) + " is not a rank (0.." + std::to_string(nranks - 1) + ")");
  return spec;
}

RunReport run_local_report(const NcclOptions& o, bool show_progress_line) {
  if (!device::available())
    throw Error("this aicloudctl was built without CUDA; 'nccl' needs a build with the CUDA toolkit "
                "(scripts/build with nvcc present, or -DAICLOUDCTL_CUDA=ON)");
  std::string count_error;
  const int count = device::device_count(count_error);
  if (count <= 0 && !o.dry_run && o.ranks_per_node == 0 && parse_gpu_list(o.gpus).empty())
    throw Error("no CUDA GPU on this node" + (count_error.empty() ? std::string() : " (" + count_error + ")"));
  LaunchSpec spec = make_launch_spec(o, {host_name()}, count);

  std::string self = self_executable();
  if (self.empty()) throw Error("cannot find this program's own executable (/proc/self/exe)");
  const auto t0 = Clock::now();
  const std::string start_time = utc_now_iso();
  Controller c(spec, t0);
  LocalTransport transport(static_cast<int>(spec.ranks.size()), {self, "nccl", "--worker"});
  drive(c, transport, [show_progress_line](const Controller& ctl) {
    if (!show_progress_line || !terminal().progress) return;
    const auto& r0 = ctl.ranks().front();
    if (!r0.progress) return;
    const auto& p = *r0.progress;
    std::string what = "nccl: " + p.phase;
    if (p.test >= 0 && p.test < static_cast<int>(ctl.spec().plan.tests.size()))
      what += " " + std::string(name(ctl.spec().plan.tests[static_cast<std::size_t>(p.test)].collective));
    if (p.bytes) what += " " + format_bytes(p.bytes);
    if (!p.placement.empty()) what += " " + p.placement;
    what += " (NCCL ops " + std::to_string(p.completed) + "/" + std::to_string(p.launched) + ")";
    show_progress(what);
  });
  if (show_progress_line) clear_progress();

  std::map<std::string, std::string> env = allowed_env_of_process();
  for (const auto& [k, v] : spec.env)
    if (env_allowed(k)) env[k] = v;
  return build_report(c, env, start_time, utc_now_iso(), std::chrono::duration<double>(Clock::now() - t0).count());
}

int run_nccl_local(const NcclOptions& o, bool json, bool verbose) {
  RunReport report = run_local_report(o, true);
  if (json)
    std::cout << report_to_json(report).dump(2) << "\n";
  else if (report.launch.dry_run)
    std::cout << format_dry_run(report);
  else
    std::cout << format_table(report, verbose);
  std::cout.flush();
  return report.exit_code;
}

int run_probe() {
  std::string error;
  int gpus = -1;
  if (!device::available()) error = "this aicloudctl was built without CUDA";
  else gpus = device::device_count(error);
  nlohmann::json j = {{"host", host_name()}, {"gpus", gpus}, {"error", error}, {"cuda_driver", device::driver_version()}};
  std::cout << j.dump() << "\n";
  std::cout.flush();
  return 0;
}

}  // namespace aicloud::nccl_tests
