// Terminal output: colour only on a terminal and never with NO_COLOR or
// --no-color; a live progress line on stderr that is erased before normal
// output; and a verbosity level for -q / -v. One process-wide Terminal,
// configured once by cli/main.cpp.
#pragma once

#include <string>
#include <string_view>

namespace aicloud {

enum class Color { none, red, green, yellow, blue, magenta, cyan, bold, dim };

struct TerminalSettings {
  bool json = false;      // --json: machine output on stdout, nothing decorative there
  int verbosity = 0;      // -q: -1, default 0, -v: 1, -vv: 2
  bool color = false;     // resolved from the tty, NO_COLOR and --no-color
  bool progress = false;  // live progress lines on stderr (stderr is a tty, not -q)
};

TerminalSettings& terminal();
// Resolves colour and progress from isatty(), NO_COLOR, TERM=dumb and flags.
void configure_terminal(bool json, int verbosity, bool no_color);

bool stdout_is_tty();
bool stderr_is_tty();

// Wraps text in an ANSI colour when colour is on for stdout.
std::string paint(Color c, std::string_view text);

// Messages on stderr, prefixed "aicloudctl: ". warn/info respect -q/-v.
void print_error(std::string_view message);
void print_warning(std::string_view message);
void print_info(std::string_view message);     // shown unless -q
void print_verbose(std::string_view message);  // shown with -v

// A single updating line on stderr (\r, erased by clear_progress()); a no-op
// when stderr is not a terminal or -q was given.
void show_progress(std::string_view line);
void clear_progress();

// "PASS" in green, "FAIL" in red, "WARN" in yellow, others plain.
std::string paint_verdict(std::string_view verdict);

}  // namespace aicloud
