// Shell building blocks: modes, Python-regex translation (checked against
// the node's real grep -E and sed -E), shlex splitting, key=value splitting.
#include <doctest/doctest.h>

#include "common/process.hpp"
#include "provision/playbook.hpp"
#include "provision/shell.hpp"
#include "provision/ssh_transport.hpp"

using namespace aicloud;
using namespace aicloud::provision;

namespace {
bool grep_matches(const std::string& ere, const std::string& line) {
  ProcessOptions o;
  o.stdin_data = line + "\n";
  auto r = run_process({"grep", "-q", "-E", "-e", ere}, o);
  REQUIRE_MESSAGE(r.exited, r.error);
  REQUIRE_MESSAGE(r.exit_code <= 1, "grep refused " << ere << ": " << r.stderr_text);
  CHECK_MESSAGE(r.stderr_text.empty(), "grep warned about " << ere << ": " << r.stderr_text);
  return r.exit_code == 0;
}
}  // namespace

TEST_CASE("file modes: octal is canonicalised, symbolic kept, junk refused") {
  std::string why;
  CHECK(canonical_mode("0644", &why) == "644");
  CHECK(canonical_mode("644", &why) == "644");
  CHECK(canonical_mode("01777", &why) == "1777");
  CHECK(canonical_mode("0", &why) == "0");
  CHECK(canonical_mode("u=rw,g=r,o=r", &why) == "u=rw,g=r,o=r");
  CHECK(canonical_mode("a+x", &why) == "a+x");
  CHECK(canonical_mode("ug=rwX,o-rwx", &why) == "ug=rwX,o-rwx");
  CHECK_FALSE(canonical_mode("0999", &why));
  CHECK_FALSE(canonical_mode("rwxr-xr-x", &why));
  CHECK_FALSE(canonical_mode("077777", &why));
  CHECK_FALSE(canonical_mode("u=rw; rm -rf /", &why));
}

TEST_CASE("Python regexps become EREs that grep matches the same way") {
  struct Case {
    const char* py;
    const char* yes;
    const char* no;
  };
  Case cases[] = {
      {R"(^GRUB_CMDLINE_LINUX=)", "GRUB_CMDLINE_LINUX=\"quiet\"", "#GRUB_CMDLINE_LINUX="},
      {R"(^\s*key\s*=)", "  key = 1", "keyx=1"},
      {R"(\d+\.\d+)", "version 535.104", "version x.y"},
      {R"(^(?:net|vm)\.\w+)", "vm.swappiness", "kernel.x"},
      {R"(^[^#]*memlock)", "* soft memlock unlimited", "# memlock"},
      {R"(a{2,3}b)", "xaab", "ab"},
      {R"(\[section\])", "[section]", "section"},
      {R"(path=/usr/\S+)", "path=/usr/bin", "path=/usr/ bin"},
      {R"(^-?\d+$)", "-12", "1.2"},
      {R"([\d.]+-\d)", "535.54-1", "abc-x"},
      {R"(x\-y\/z)", "x-y/z", "xy/z"},
      {R"(\bnouveau\b)", "blacklist nouveau", "nouveaux"},
      {R"(.*?end)", "the end", "en d"},
  };
  for (const auto& c : cases) {
    std::string py = c.py;
    CAPTURE(py);
    std::string why;
    auto t = python_regex_to_ere(c.py, &why);
    REQUIRE_MESSAGE(t, why);
    CHECK(grep_matches(t->ere, c.yes));
    CHECK_FALSE(grep_matches(t->ere, c.no));
  }
  std::string why;
  CHECK_FALSE(python_regex_to_ere("(?=x)", &why));
  CHECK(why.find("lookaround") != std::string::npos);
  CHECK_FALSE(python_regex_to_ere(R"((a)\1)", &why));
  CHECK_FALSE(python_regex_to_ere("[abc", &why));
  CHECK_FALSE(python_regex_to_ere("abc\\", &why));
}

TEST_CASE("backref templates map Python groups to sed groups") {
  std::string why;
  auto re = python_regex_to_ere(R"(^(?P<key>\w+)=(?:x)?(\d+))", &why);
  REQUIRE(re);
  CHECK(python_template_to_sed(R"(\g<key> is \2 & more)", *re, &why) == R"(\1 is \3 \& more)");
  CHECK(python_template_to_sed(R"(\g<0>)", *re, &why) == "&");
  CHECK_FALSE(python_template_to_sed(R"(\5)", *re, &why));
  CHECK_FALSE(python_template_to_sed(R"(\g<nope>)", *re, &why));
}

TEST_CASE("shlex splitting as Python does it") {
  CHECK(shlex_split("nvidia-smi -q -d ECC") == std::vector<std::string>{"nvidia-smi", "-q", "-d", "ECC"});
  CHECK(shlex_split("echo 'a b' \"c d\" e\\ f") == std::vector<std::string>{"echo", "a b", "c d", "e f"});
  CHECK(shlex_split("echo \"a \\\"q\\\" b\"") == std::vector<std::string>{"echo", "a \"q\" b"});
  CHECK(shlex_split("  ") == std::vector<std::string>{});
  CHECK_FALSE(shlex_split("echo 'open"));
}

TEST_CASE("Ansible's one-line key=value form keeps quotes and {{ }} together") {
  auto kv = split_key_values("src=a dest=/b mode=0644 msg=\"hello world\" x={{ a | default('b c') }} bare c=\"a\\nb\"");
  REQUIRE(kv);
  REQUIRE(kv->size() == 7);
  CHECK((*kv)[0].key == "src");
  CHECK((*kv)[0].value == "a");
  CHECK((*kv)[2].value == "0644");
  CHECK((*kv)[3].value == "hello world");
  CHECK((*kv)[3].raw == "msg=\"hello world\"");
  CHECK((*kv)[4].value == "{{ a | default('b c') }}");
  CHECK((*kv)[5].key.empty());
  CHECK((*kv)[5].value == "bare");
  CHECK((*kv)[6].value == "a\nb");  // escapes decoded, as Ansible does
  CHECK_FALSE(split_key_values("a='open"));
  CHECK_FALSE(split_key_values("a={{ open"));
}

TEST_CASE("base64 round trip and quoting") {
  for (const std::string& s : std::vector<std::string>{"", "a", "ab", "abc", std::string("\0\xff\x10", 3)}) CHECK(base64_decode(base64_encode(s)) == s);
  CHECK_FALSE(base64_decode("!!!"));
  CHECK(q("plain") == "plain");
  CHECK(q("$(reboot)") == "'$(reboot)'");
  CHECK(sh_var("x", "a'b") == "x='a'\\''b'\n");
}

TEST_CASE("the SSH command line runs the script with /bin/sh, become through sudo -n, every value quoted") {
  ExecRequest r;
  r.script = "echo 'a b'; id -un";
  CHECK(remote_script_command(r) == "/bin/sh -c 'echo '\\''a b'\\''; id -un'");
  r.become = true;
  CHECK(remote_script_command(r) == "sudo -n -H -- /bin/sh -c 'echo '\\''a b'\\''; id -un'");
  r.become_user = "post$(reboot)gres";
  CHECK(remote_script_command(r) == "sudo -n -H -u 'post$(reboot)gres' -- /bin/sh -c 'echo '\\''a b'\\''; id -un'");
  // What the node's shell makes of it: the script's output, nothing else ran.
  ExecRequest plain;
  plain.script = "printf '%s|' \"$0\" 'x;y' '$(z)'";
  ProcessResult p = run_process({"/bin/sh", "-c", remote_script_command(plain)});
  CHECK(p.stdout_text == "/bin/sh|x;y|$(z)|");
}
