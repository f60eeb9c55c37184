// libssh linked statically must be initialised (ssh_init) once, before any
// thread uses it; the executor calls this before it starts its workers and
// every Session constructor calls it too (it is idempotent and thread-safe).
#pragma once

namespace aicloud::fleet {

void ensure_ssh_initialized();

}  // namespace aicloud::fleet
