// aicloudctl nccl: flags only; the work is done in nccl_tests/ (command.hpp).
#include <memory>

#include "cli/command.hpp"
#include "cli/fleet_flags.hpp"
#include "common/strings.hpp"
#include "nccl_tests/command.hpp"
#include "nccl_tests/fleet_launch.hpp"
#include "nccl_tests/tcp_transport.hpp"
#include "nccl_tests/worker.hpp"

namespace aicloud::cli {

void setup_nccl(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<nccl_tests::NcclOptions>();
  auto worker = std::make_shared<bool>(false);
  auto probe = std::make_shared<bool>(false);
  auto conn = std::make_shared<fleet::ConnectionOptions>();
  auto fo = std::make_shared<nccl_tests::FleetLaunchOptions>();
  auto ext = std::make_shared<nccl_tests::ExternalOptions>();
  auto connect = std::make_shared<std::string>();
  auto token = std::make_shared<std::string>();
  // The fleet's connection flags, less the two whose names the benchmark
  // already uses (-T/--timeout is the per-row deadline, -f the step factor);
  // fan-out stays available as --forks.
  add_connection_flags(app, *conn);
  app.remove_option(app.get_option("--timeout"));
  app.remove_option(app.get_option("--forks"));
  app.add_option("--forks", conn->forks, "Hosts connected and pushed to at once (default 128)")
      ->type_name("N")
      ->check(CLI::Range(1, 4096));
  app.add_option("--remote-dir", fo->remote_dir,
                 "Where the binary goes on the nodes (relative: the login directory)")
      ->capture_default_str();
  app.add_option("--remote-binary", fo->remote_binary, "Run this aicloudctl on the nodes (with --no-push: already there)");
  app.add_flag("--no-push", [fo](std::int64_t) { fo->push = false; },
               "Do not copy this binary to the nodes (--remote-binary must be there)");
  app.add_option("--launcher", ext->launcher,
                 "With -i: how ranks start: ssh (aicloudctl's own sessions), mpirun (OpenMPI) or srun (Slurm)")
      ->capture_default_str();
  app.add_option("--launcher-path", ext->launcher_path, "The mpirun or srun to run (default: found on PATH)");
  app.add_option("--controller-address", ext->controller_address,
                 "Address the mpirun/srun ranks connect back to (default: this host's name)");
  app.add_flag("--print-command", ext->print_command, "Print the launch command line and exit (nothing runs)");
  app.add_flag("--localize", fo->localize,
               "With -i: find the bad node, GPU, rail or link (intra-node, rail and pairwise rounds, then confirm)");
  app.add_option_function<std::string>(
         "--localize-size",
         [fo](const std::string& v) {
           auto b = parse_size(v);
           if (!b || *b == 0) throw CLI::ValidationError("--localize-size", "'" + v + "' is not a size (e.g. 1G)");
           fo->localize_size = *b;
         },
         "all_reduce size of every localisation group (default: --max-bytes)")
      ->type_name("SIZE");
  app.add_flag("--no-forward-env", [fo](std::int64_t) { fo->forward_env = false; },
               "Do not pass this shell's NCCL_* variables to the ranks (--env still applies)");
  app.add_option("-c,--collective", o->collectives,
                 "all_reduce, all_gather, reduce_scatter, broadcast, reduce, alltoall, sendrecv, or all (comma list)")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("-b,--min-bytes", o->min_bytes, "Smallest size (K/M/G = 2^10/2^20/2^30)")->capture_default_str();
  app.add_option("-e,--max-bytes", o->max_bytes, "Largest size")->capture_default_str();
  app.add_option("-f,--step-factor", o->step_factor, "Multiply the size by this between rows")->capture_default_str();
  app.add_option("--step-bytes", o->step_bytes, "Add this many bytes between rows (with -f 1)");
  app.add_option("-n,--iters", o->iterations, "Timed iterations per row")->capture_default_str();
  app.add_option("-w,--warmup-iters", o->warmup, "Untimed iterations before each row")->capture_default_str();
  app.add_option("-d,--datatype", o->dtypes,
                 "int8 uint8 int32 uint32 int64 uint64 half float double bfloat16 f8e4m3 f8e5m2, or all")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("-o,--op", o->ops, "sum prod max min avg, or all")->delimiter(',')->capture_default_str();
  app.add_option("-r,--root", o->root, "Root rank of broadcast and reduce")->capture_default_str();
  app.add_option("--gpus", o->gpus, "GPUs of this node to use: all, or a list such as 0,1,4-7")->capture_default_str();
  app.add_option("--ranks-per-node", o->ranks_per_node, "Ranks per node (default: one per selected GPU)");
  app.add_option("-T,--timeout", o->timeout, "Deadline of each warm-up and each row; then ncclCommAbort")
      ->capture_default_str();
  app.add_option("--init-timeout", o->init_timeout, "Deadline of the rendezvous and of communicator creation")
      ->capture_default_str();
  app.add_option("--nccl-lib", o->nccl_lib,
                 "libnccl.so.2 to load (default: $AICLOUDCTL_NCCL_LIBRARY, then the loader's and Python's paths)");
  app.add_option("--env", o->env, "NAME=VALUE set in every rank before NCCL loads (repeat), e.g. NCCL_ALGO=Ring");
  app.add_flag("--dry-run", o->dry_run, "Start every rank and exchange the NCCL id, report rank, host and GPU; no collectives");
  app.add_flag("--no-check", o->no_check, "Do not verify the received data");
  app.add_flag("--in-place-only", o->in_place_only, "Only the in-place form of each collective");
  app.add_flag("--out-of-place-only", o->out_of_place_only, "Only the out-of-place form");
  app.add_flag("--no-algo-capture", o->no_algo_capture, "Do not record NCCL's algorithm/protocol choice");
  app.add_flag("--worker", *worker, "Run as one rank driven by a controller (internal)")->group("");
  app.add_flag("--probe", *probe, "Print this node's GPU count as JSON (internal)")->group("");
  app.add_option("--connect", *connect, "With --worker: the controller's HOST:PORT (internal)")->group("");
  app.add_option("--token", *token, "With --connect: the run's token (internal)")->group("");
  set_examples(app,
               "  aicloudctl nccl                                  # all_reduce 1M..1G on every GPU of this node\n"
               "  aicloudctl nccl -c all_gather,reduce_scatter -b 8M -e 8G -n 50\n"
               "  aicloudctl nccl -b 16G -e 16G -d bfloat16 --json > nccl.json\n"
               "  aicloudctl nccl --env NCCL_ALGO=Ring --env NCCL_NVLS_ENABLE=0\n"
               "  aicloudctl nccl --dry-run --ranks-per-node 8\n"
               "  aicloudctl nccl -i rack.yaml --limit rack=r12 -b 1G -e 16G    # across nodes over SSH\n"
               "  aicloudctl nccl -i rack.yaml --dry-run --init-timeout 30s     # check the launch first\n"
               "  aicloudctl nccl -i rack.yaml --limit rack=r12 --localize      # name the slow node, GPU, rail or link\n"
               "  AICLOUDCTL_NCCL_LIBRARY=/opt/venv/lib/python3.12/site-packages/nvidia/nccl/lib/libnccl.so.2 aicloudctl nccl\n");
  app.callback([&ctx, o, worker, probe, conn, fo, ext, connect, token] {
    if (*worker) {
      if (!connect->empty()) {
        ctx.action = [connect, token] { return nccl_tests::run_worker_connect(*connect, *token); };
        return;
      }
      ctx.action = [] { return nccl_tests::run_worker(); };
      return;
    }
    if (*probe) {
      ctx.action = [] { return nccl_tests::run_probe(); };
      return;
    }
    if (!conn->inventory.empty()) {
      ctx.action = [&ctx, o, conn, fo, ext] {
        fo->nccl = *o;
        return nccl_tests::run_nccl_external(*conn, *fo, *ext, ctx.json, ctx.verbose > 0);
      };
      return;
    }
    if (ext->launcher != "ssh" || ext->print_command)
      throw CLI::ValidationError("--launcher/--print-command", "need -i/--inventory (the nodes to launch on)");
    if (!conn->limit.empty()) throw CLI::ValidationError("--limit", "needs -i/--inventory");
    if (fo->localize) throw CLI::ValidationError("--localize", "needs -i/--inventory (it compares nodes)");
    ctx.action = [&ctx, o] { return nccl_tests::run_nccl_local(*o, ctx.json, ctx.verbose > 0); };
  });
}

}  // namespace aicloud::cli
