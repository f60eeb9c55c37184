// Ctrl-C handling shared by every long command. The first SIGINT sets a flag
// that workers poll (stop starting hosts, close channels, write what was
// gathered, exit 130); a second SIGINT restores the default action so a
// stuck process can still be killed. A self-pipe lets poll() loops wake up.
#pragma once

namespace aicloud {

void install_interrupt_handler();
bool interrupted();
// Marks the run interrupted without a signal (tests, --max-fail aborts use
// their own flags; this is for SIGTERM-like shutdowns).
void request_interrupt();
// A file descriptor that becomes readable once interrupted (for poll()).
int interrupt_fd();
// Clears the flag (tests only).
void reset_interrupt_for_tests();

}  // namespace aicloud
