#include "fleet/ssh_init.hpp"

#include <libssh/libssh.h>

#include <cstdlib>
#include <mutex>

#include "common/error.hpp"

namespace aicloud::fleet {

void ensure_ssh_initialized() {
  static std::once_flag once;
  static bool ok = false;
  std::call_once(once, [] {
    ok = ssh_init() == SSH_OK;
    if (ok) std::atexit([] { ssh_finalize(); });
  });
  if (!ok) throw Error("libssh could not be initialised (ssh_init failed)");
}

}  // namespace aicloud::fleet
