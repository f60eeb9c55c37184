// LocalTransport: the real thing for node-side scripts on this machine.
// Scripts run as `/bin/sh -c SCRIPT` with their stdin fed from memory or a
// file, through `sudo -n` when become is asked and we are not root.
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "common/process.hpp"
#include "provision/transport.hpp"

namespace aicloud::provision {

ExecResult LocalTransport::exec(const ExecRequest& request) {
  ExecResult r;
  std::vector<std::string> argv;
  if (request.become && (::geteuid() != 0 || !request.become_user.empty())) {
    argv = {"sudo", "-n"};
    if (!request.become_user.empty()) {
      argv.push_back("-u");
      argv.push_back(request.become_user);
    }
    argv.push_back("--");
  }
  argv.insert(argv.end(), {"/bin/sh", "-c", request.script});
  ProcessOptions opt;
  opt.extra_env = m_env;
  if (!request.stdin_data.empty()) {
    opt.stdin_data = request.stdin_data;
  } else if (!request.stdin_path.empty()) {
    std::ifstream in(request.stdin_path, std::ios::binary);
    if (!in) {
      r.error = "cannot read " + request.stdin_path;
      return r;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    opt.stdin_data = ss.str();
  }
  if (request.timeout_s) opt.timeout = std::chrono::milliseconds(static_cast<long long>(*request.timeout_s * 1000));
  ProcessResult p = run_process(argv, opt);
  if (!p.started) {
    r.error = p.error;
    return r;
  }
  r.exited = p.exited;
  r.exit_code = p.exit_code;
  r.signal = p.signal;
  r.timed_out = p.timed_out;
  r.stdout_text = std::move(p.stdout_text);
  r.stderr_text = std::move(p.stderr_text);
  r.duration_s = p.duration_s;
  return r;
}

ExecResult LocalTransport::reconnect(double, double) {
  ExecResult r;
  r.error = "this connection cannot wait for a reboot (local connection); reboot needs an SSH connection";
  return r;
}

std::unique_ptr<HostTransport> LocalTransportFactory::open(const RunHost&, std::string*) {
  return std::make_unique<LocalTransport>(m_env);
}

}  // namespace aicloud::provision
