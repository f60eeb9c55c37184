// The parts of sessions that need no network: the become wrapper (checked by
// a real /bin/sh), local files for pushes.
#include <doctest/doctest.h>

#include "common/process.hpp"
#include "common/sha256.hpp"
#include "fleet/session.hpp"

using namespace aicloud;
using namespace aicloud::fleet;

namespace {
// What a POSIX shell makes of the become line, with "sudo" replaced by a
// printer of its arguments.
std::vector<std::string> argv_of(const std::string& line) {
  REQUIRE(line.rfind("sudo ", 0) == 0);
  auto r = run_process({"/bin/sh", "-c", "set -- " + line.substr(5) + "; printf '%s\\0' \"$@\""});
  REQUIRE(r.ok());
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < r.stdout_text.size()) {
    auto nul = r.stdout_text.find('\0', start);
    out.push_back(r.stdout_text.substr(start, nul - start));
    start = nul + 1;
  }
  return out;
}
}  // namespace

TEST_CASE("become wraps the command as one literal word for sudo -n") {
  for (std::string cmd : {std::string("id -u"), std::string("echo '$(touch /tmp/x)'; `id`"),
                          std::string("a\"b'c\\d\n;e"), std::string("$HOME && echo ${PATH}")}) {
    auto argv = argv_of(become_command(cmd));
    REQUIRE(argv.size() == 6);
    CHECK(argv[0] == "-n");
    CHECK(argv[1] == "-H");
    CHECK(argv[2] == "--");
    CHECK(argv[3] == "/bin/sh");
    CHECK(argv[4] == "-c");
    CHECK(argv[5] == cmd);
  }
}

TEST_CASE("local files are hashed once and keep their mode") {
  LocalFile f = LocalFile::from_string("hello\n", 0755);
  CHECK(f.sha256() == sha256_hex("hello\n"));
  CHECK(f.mode() == 0755);
  CHECK(f.data() == "hello\n");
  LocalFile g = LocalFile::open("/etc/hostname");
  CHECK(g.sha256() == sha256_hex(g.data()));
  CHECK_THROWS(LocalFile::open("/nonexistent/file"));
  CHECK_THROWS(LocalFile::open("/etc"));
}
