#include "common/term.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace aicloud {

namespace {
std::mutex g_stderr_mutex;
bool g_progress_shown = false;
}  // namespace

TerminalSettings& terminal() {
  static TerminalSettings settings;
  return settings;
}

bool stdout_is_tty() { return ::isatty(1) == 1; }
bool stderr_is_tty() { return ::isatty(2) == 1; }

void configure_terminal(bool json, int verbosity, bool no_color) {
  auto& t = terminal();
  t.json = json;
  t.verbosity = verbosity;
  const char* nc = std::getenv("NO_COLOR");
  const char* term = std::getenv("TERM");
  bool dumb = term && std::strcmp(term, "dumb") == 0;
  t.color = !no_color && !(nc && *nc) && !dumb && stdout_is_tty() && !json;
  t.progress = stderr_is_tty() && verbosity >= 0 && !dumb;
}

std::string paint(Color c, std::string_view text) {
  if (!terminal().color || c == Color::none) return std::string(text);
  const char* code = "";
  switch (c) {
    case Color::red: code = "\033[31m"; break;
    case Color::green: code = "\033[32m"; break;
    case Color::yellow: code = "\033[33m"; break;
    case Color::blue: code = "\033[34m"; break;
    case Color::magenta: code = "\033[35m"; break;
    case Color::cyan: code = "\033[36m"; break;
    case Color::bold: code = "\033[1m"; break;
    case Color::dim: code = "\033[2m"; break;
    case Color::none: break;
  }
  return std::string(code) + std::string(text) + "\033[0m";
}

std::string paint_verdict(std::string_view v) {
  if (v == "PASS" || v == "ok") return paint(Color::green, v);
  if (v == "FAIL" || v == "failed" || v == "unreachable") return paint(Color::red, v);
  if (v == "WARN" || v == "INCOMPLETE" || v == "WAIVED") return paint(Color::yellow, v);
  return std::string(v);
}

static void erase_progress_locked() {
  if (g_progress_shown) {
    std::fputs("\r\033[K", stderr);
    g_progress_shown = false;
  }
}

static void emit(std::string_view prefix, std::string_view message) {
  std::lock_guard<std::mutex> lock(g_stderr_mutex);
  erase_progress_locked();
  std::fprintf(stderr, "aicloudctl: %.*s%.*s\n", static_cast<int>(prefix.size()), prefix.data(),
               static_cast<int>(message.size()), message.data());
  std::fflush(stderr);
}

void print_error(std::string_view m) { emit("error: ", m); }
void print_warning(std::string_view m) {
  if (terminal().verbosity >= 0) emit("warning: ", m);
}
void print_info(std::string_view m) {
  if (terminal().verbosity >= 0) emit("", m);
}
void print_verbose(std::string_view m) {
  if (terminal().verbosity >= 1) emit("", m);
}

void show_progress(std::string_view line) {
  if (!terminal().progress) return;
  std::lock_guard<std::mutex> lock(g_stderr_mutex);
  std::fprintf(stderr, "\r\033[K%.*s", static_cast<int>(line.size()), line.data());
  std::fflush(stderr);
  g_progress_shown = true;
}

void clear_progress() {
  std::lock_guard<std::mutex> lock(g_stderr_mutex);
  erase_progress_locked();
  std::fflush(stderr);
}

}  // namespace aicloud
