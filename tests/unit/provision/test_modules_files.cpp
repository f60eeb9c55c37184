// File modules run for real with /bin/sh against a temporary folder:
// changed/ok semantics, idempotence (the second run changes nothing),
// check mode (changes nothing), diffs, and hostile values that must stay
// data.
#include <doctest/doctest.h>

#include "common/sha256.hpp"
#include "helpers.hpp"

using namespace aicloud;
using namespace aicloud::provision;
using test::run_module;

namespace {
const std::string k_hostile = "a$(touch PWNED)`touch PWNED2`'\"; touch PWNED3\nx";
}

TEST_CASE("copy: content is written once, verified, and left alone when the SHA-256 matches") {
  test::TempDir tmp;
  std::string dest = tmp / "etc/app.conf";
  std::filesystem::create_directories(tmp / "etc");
  Outcome o = run_module("copy", {{"content", "v=1\n"}, {"dest", dest}, {"mode", "0640"}});
  CHECK_FALSE(o.failed);
  CHECK(o.changed);
  CHECK(test::slurp(dest) == "v=1\n");
  CHECK(test::mode_of(dest) == 0640);
  CHECK(o.extra["checksum"] == sha256_hex("v=1\n"));
  Outcome again = run_module("copy", {{"content", "v=1\n"}, {"dest", dest}, {"mode", "0640"}});
  CHECK_FALSE(again.failed);
  CHECK_FALSE(again.changed);
  // only the mode differs
  Outcome mode = run_module("copy", {{"content", "v=1\n"}, {"dest", dest}, {"mode", "u=rw,g=,o="}});
  CHECK(mode.changed);
  CHECK(test::mode_of(dest) == 0600);
  CHECK_FALSE(run_module("copy", {{"content", "v=1\n"}, {"dest", dest}, {"mode", "0600"}}).changed);
}

TEST_CASE("copy: check mode reports the change and writes nothing, diff shows it") {
  test::TempDir tmp;
  std::string dest = tmp / "f";
  test::spit(dest, "old\nsame\n");
  Outcome o = run_module("copy", {{"content", "new\nsame\n"}, {"dest", dest}}, /*check=*/true, /*diff=*/true);
  CHECK(o.changed);
  CHECK(test::slurp(dest) == "old\nsame\n");
  REQUIRE(o.diffs.size() == 1);
  CHECK(o.diffs[0].text.find("-old\n+new\n same\n") != std::string::npos);
  Outcome created = run_module("copy", {{"content", "x\n"}, {"dest", tmp / "new"}}, true, true);
  CHECK(created.changed);
  CHECK_FALSE(test::exists(tmp / "new"));
  REQUIRE(created.diffs.size() == 1);
  CHECK(created.diffs[0].text.find("+x") != std::string::npos);
}

TEST_CASE("copy: src from the playbook's files/ folder, into a folder, force=no, backup, validate") {
  test::TempDir tmp;
  test::spit(tmp / "pb/files/limits.conf", "* hard memlock unlimited\n");
  std::filesystem::create_directories(tmp / "out");
  PlaybookFiles files(tmp / "pb", false);
  Outcome o = run_module("copy", {{"src", "limits.conf"}, {"dest", tmp / "out/"}}, false, false, nullptr, nullptr, &files);
  CHECK(o.changed);
  CHECK(test::slurp(tmp / "out/limits.conf") == "* hard memlock unlimited\n");
  // force=no keeps an existing file
  test::spit(tmp / "out/keep", "mine\n");
  CHECK_FALSE(run_module("copy", {{"content", "theirs\n"}, {"dest", tmp / "out/keep"}, {"force", false}}).changed);
  CHECK(test::slurp(tmp / "out/keep") == "mine\n");
  // backup keeps the old contents beside the new
  Outcome b = run_module("copy", {{"content", "theirs\n"}, {"dest", tmp / "out/keep"}, {"backup", true}});
  REQUIRE(b.extra.contains("backup_file"));
  CHECK(test::slurp(b.extra["backup_file"].get<std::string>()) == "mine\n");
  // validate runs on the new file before it replaces the old one
  Outcome bad = run_module("copy", {{"content", "broken\n"}, {"dest", tmp / "out/keep"}, {"validate", "grep -qx ok %s"}});
  CHECK(bad.failed);
  CHECK(bad.msg.find("failed to validate") != std::string::npos);
  CHECK(test::slurp(tmp / "out/keep") == "theirs\n");
  CHECK_FALSE(run_module("copy", {{"content", "ok\n"}, {"dest", tmp / "out/keep"}, {"validate", "grep -qx ok %s"}}).failed);
  CHECK(test::slurp(tmp / "out/keep") == "ok\n");
  // a missing destination folder is an error, as in Ansible
  Outcome nodir = run_module("copy", {{"content", "x"}, {"dest", tmp / "nope/x"}});
  CHECK(nodir.failed);
  CHECK(nodir.msg.find("does not exist") != std::string::npos);
  // in check mode an earlier task may be the one that creates the folder
  Outcome nodir_check = run_module("copy", {{"content", "x"}, {"dest", tmp / "nope/x"}}, true);
  CHECK_FALSE(nodir_check.failed);
  CHECK(nodir_check.changed);
}

TEST_CASE("copy: a large file is sent only when the probe says it differs") {
  test::TempDir tmp;
  std::string big(600 * 1024, 'x');
  for (std::size_t i = 0; i < big.size(); i += 97) big[i] = static_cast<char>('a' + i % 26);
  test::spit(tmp / "src.bin", big);
  std::string dest = tmp / "dst.bin";
  Outcome o = run_module("copy", {{"src", tmp / "src.bin"}, {"dest", dest}, {"mode", "0755"}});
  CHECK_FALSE(o.failed);
  CHECK(o.changed);
  CHECK((test::slurp(dest) == big));
  CHECK(test::mode_of(dest) == 0755);
  CHECK_FALSE(run_module("copy", {{"src", tmp / "src.bin"}, {"dest", dest}, {"mode", "0755"}}).changed);
  // remote_src copies on the node
  Outcome r = run_module("copy", {{"src", dest}, {"dest", tmp / "copy2"}, {"remote_src", true}, {"mode", "preserve"}});
  REQUIRE_MESSAGE(!r.failed, r.msg);
  CHECK(r.changed);
  CHECK((test::slurp(tmp / "copy2") == big));
  CHECK(test::mode_of(tmp / "copy2") == 0755);
}

TEST_CASE("hostile values in paths and contents stay data") {
  test::TempDir tmp;
  std::string dir = tmp / k_hostile;
  std::string cwd = tmp.path;
  Outcome d = run_module("file", {{"path", dir}, {"state", "directory"}});
  REQUIRE_MESSAGE(!d.failed, d.msg);
  std::string f = dir + "/" + k_hostile;
  Outcome c = run_module("copy", {{"content", k_hostile}, {"dest", f}});
  REQUIRE_MESSAGE(!c.failed, c.msg);
  CHECK(test::slurp(f) == k_hostile);
  Outcome l = run_module("lineinfile", {{"path", f}, {"line", k_hostile}, {"regexp", "^never$"}});
  CHECK_FALSE(l.failed);
  Outcome s = run_module("sysctl", {{"name", "kernel.x"}, {"value", "$(touch PWNED4)"}, {"sysctl_file", f + ".sysctl"},
                                    {"reload", false}});
  CHECK_FALSE(s.failed);
  Outcome cmd = run_module("command", {{"argv", {"printf", "%s", k_hostile}}, {"chdir", dir}});
  CHECK(cmd.stdout_text == k_hostile);
  for (const char* p : {"PWNED", "PWNED2", "PWNED3", "PWNED4"}) {
    CHECK_FALSE(test::exists(std::string("./") + p));
    CHECK_FALSE(test::exists(dir + "/" + p));
    CHECK_FALSE(test::exists(tmp / p));
  }
}

TEST_CASE("template: rendered on the controller with the host's vars") {
  test::TempDir tmp;
  test::spit(tmp / "pb/templates/fm.cfg.j2",
             "# {{ ansible_managed }}\n{% for g in gpus %}gpu{{ loop.index0 }}={{ g }}\n{% endfor %}mode={{ mode }}\n");
  PlaybookFiles files(tmp / "pb", false);
  json vars = {{"gpus", {"17:00.0", "2a:00.0"}}, {"mode", 1}};
  Scope scope(&vars);
  std::string dest = tmp / "fm.cfg";
  Outcome o = run_module("template", {{"src", "fm.cfg.j2"}, {"dest", dest}}, false, false, nullptr, &scope, &files);
  REQUIRE_MESSAGE(!o.failed, o.msg);
  CHECK(o.changed);
  CHECK(test::slurp(dest).find("gpu0=17:00.0\ngpu1=2a:00.0\nmode=1\n") != std::string::npos);
  CHECK_FALSE(run_module("template", {{"src", "fm.cfg.j2"}, {"dest", dest}}, false, false, nullptr, &scope, &files).changed);
  json missing = json::object();
  Scope empty(&missing);
  Outcome bad = run_module("template", {{"src", "fm.cfg.j2"}, {"dest", dest}}, false, false, nullptr, &empty, &files);
  CHECK(bad.failed);
  CHECK(bad.msg.find("'gpus' is undefined") != std::string::npos);
}

TEST_CASE("file: directory, touch, file, link, hard, absent") {
  test::TempDir tmp;
  std::string d = tmp / "a/b/c";
  CHECK(run_module("file", {{"path", d}, {"state", "directory"}, {"mode", "0750"}}).changed);
  CHECK(test::mode_of(d) == 0750);
  CHECK_FALSE(run_module("file", {{"path", d}, {"state", "directory"}, {"mode", "0750"}}).changed);
  CHECK(run_module("file", {{"path", d}, {"state", "directory"}, {"mode", "0755"}}).changed);
  // check mode never creates
  CHECK(run_module("file", {{"path", tmp / "x/y"}, {"state", "directory"}}, true).changed);
  CHECK_FALSE(test::exists(tmp / "x"));
  // touch: created, then (like Ansible) touched again unless times are preserved
  std::string t = tmp / "t";
  CHECK(run_module("file", {{"path", t}, {"state", "touch"}}).changed);
  CHECK(test::exists(t));
  CHECK_FALSE(run_module("file", {{"path", t}, {"state", "touch"}, {"modification_time", "preserve"}, {"access_time", "preserve"}}).changed);
  // file: attributes of an existing file; a missing one is an error
  CHECK(run_module("file", {{"path", t}, {"mode", "0600"}}).changed);
  CHECK(test::mode_of(t) == 0600);
  CHECK_FALSE(run_module("file", {{"path", t}, {"state", "file"}, {"mode", "600"}}).changed);
  CHECK(run_module("file", {{"path", tmp / "missing"}, {"state", "file"}}).failed);
  // link
  std::string l = tmp / "link";
  CHECK(run_module("file", {{"path", l}, {"src", t}, {"state", "link"}}).changed);
  CHECK(std::filesystem::read_symlink(l) == t);
  CHECK_FALSE(run_module("file", {{"path", l}, {"src", t}, {"state", "link"}}).changed);
  CHECK(run_module("file", {{"path", l}, {"src", d}, {"state", "link"}}).changed);
  CHECK(std::filesystem::read_symlink(l) == d);
  CHECK(run_module("file", {{"path", t}, {"src", d}, {"state", "link"}}).failed);  // a file is not replaced without force
  CHECK(run_module("file", {{"path", tmp / "dangling"}, {"src", tmp / "nothing"}, {"state", "link"}}).failed);
  // hard link
  std::string h = tmp / "hard";
  CHECK(run_module("file", {{"path", h}, {"src", t}, {"state", "hard"}}).changed);
  CHECK_FALSE(run_module("file", {{"path", h}, {"src", t}, {"state", "hard"}}).changed);
  // absent
  CHECK(run_module("file", {{"path", tmp / "a"}, {"state", "absent"}}).changed);
  CHECK_FALSE(test::exists(tmp / "a"));
  CHECK_FALSE(run_module("file", {{"path", tmp / "a"}, {"state", "absent"}}).changed);
  // recurse
  test::spit(tmp / "r/x/f", "f");
  CHECK(run_module("file", {{"path", tmp / "r"}, {"state", "directory"}, {"recurse", true}, {"mode", "0700"}}).changed);
  CHECK(test::mode_of(tmp / "r/x/f") == 0700);
  CHECK_FALSE(run_module("file", {{"path", tmp / "r"}, {"state", "directory"}, {"recurse", true}, {"mode", "0700"}}).changed);
}

TEST_CASE("lineinfile follows Ansible's algorithm") {
  test::TempDir tmp;
  std::string f = tmp / "f";
  struct Case {
    const char* name;
    std::string before;
    json args;
    std::string after;
    bool changed;
  };
  std::vector<Case> cases = {
      {"append when absent", "a\nb\n", {{"line", "c"}}, "a\nb\nc\n", true},
      {"exact line present", "a\nc\nb\n", {{"line", "c"}}, "a\nc\nb\n", false},
      {"regexp replaces the last match", "k=1\nx\nk=2\n", {{"regexp", "^k="}, {"line", "k=3"}}, "k=1\nx\nk=3\n", true},
      {"firstmatch replaces the first", "k=1\nx\nk=2\n", {{"regexp", "^k="}, {"line", "k=3"}, {"firstmatch", true}}, "k=3\nx\nk=2\n", true},
      {"regexp already right", "k=3\n", {{"regexp", "^k="}, {"line", "k=3"}}, "k=3\n", false},
      {"regexp unmatched but line present", "k = 3\n", {{"regexp", "^zzz"}, {"line", "k = 3"}}, "k = 3\n", false},
      {"insertafter regex", "[a]\nx=1\n[b]\n", {{"line", "y=2"}, {"insertafter", "^\\[a\\]"}}, "[a]\ny=2\nx=1\n[b]\n", true},
      {"insertbefore regex", "[a]\nx=1\n[b]\n", {{"line", "y=2"}, {"insertbefore", "^\\[b\\]"}}, "[a]\nx=1\ny=2\n[b]\n", true},
      {"insertbefore BOF", "a\n", {{"line", "#!"}, {"insertbefore", "BOF"}}, "#!\na\n", true},
      {"insertafter unmatched goes to EOF", "a\n", {{"line", "z"}, {"insertafter", "^nothing"}}, "a\nz\n", true},
      {"no final newline", "a\nb", {{"line", "c"}}, "a\nb\nc\n", true},
      {"no final newline, line present", "a\nb", {{"line", "a"}}, "a\nb", false},
      {"backrefs", "GRUB_CMDLINE_LINUX=\"quiet\"\n",
       {{"regexp", "^(GRUB_CMDLINE_LINUX=\")(?!.*iommu)(.*)\"$"}, {"line", "x"}}, "", false},  // lookahead refused (see below)
      {"backrefs expand groups", "x\nkey=42\n", {{"regexp", "^(\\w+)=(\\d+)$"}, {"line", "\\1 = \\2"}, {"backrefs", true}},
       "x\nkey = 42\n", true},
      {"backrefs without a match change nothing", "a\n", {{"regexp", "^zz(.*)"}, {"line", "\\1"}, {"backrefs", true}}, "a\n", false},
      {"absent by line", "a\nb\na\n", {{"line", "a"}, {"state", "absent"}}, "b\n", true},
      {"absent by regexp", "k=1\nx\nk=2\n", {{"regexp", "^k"}, {"state", "absent"}}, "x\n", true},
      {"absent by search_string", "foo.bar\nx\n", {{"search_string", "o.b"}, {"state", "absent"}}, "x\n", true},
      {"search_string replaces", "foo.bar=1\n", {{"search_string", "foo.bar"}, {"line", "foo.bar=2"}}, "foo.bar=2\n", true},
      // As Ansible does: the matching CRLF line is rewritten with the line as given.
      {"crlf line is rewritten", "a\r\nb\r\n", {{"line", "a"}}, "a\nb\r\n", true},
  };
  for (const auto& c : cases) {
    std::string name = c.name;
    CAPTURE(name);
    test::spit(f, c.before);
    json args = c.args;
    args["path"] = f;
    Outcome o = run_module("lineinfile", args);
    if (std::string(c.name) == "backrefs") {
      CHECK(o.failed);  // (?!...) has no grep -E equivalent: refused, not guessed
      continue;
    }
    REQUIRE_MESSAGE(!o.failed, o.msg);
    CHECK(o.changed == c.changed);
    CHECK(test::slurp(f) == c.after);
    // idempotence: the second run changes nothing
    Outcome again = run_module("lineinfile", args);
    CHECK_FALSE(again.changed);
    CHECK(test::slurp(f) == c.after);
  }
}

TEST_CASE("lineinfile: create, missing file, check mode, diff, attributes") {
  test::TempDir tmp;
  std::string f = tmp / "sub/dir/new.conf";
  Outcome missing = run_module("lineinfile", {{"path", f}, {"line", "x"}});
  CHECK(missing.failed);
  CHECK(missing.rc == 257);
  CHECK(missing.msg.find("does not exist") != std::string::npos);
  CHECK_FALSE(run_module("lineinfile", {{"path", f}, {"line", "x"}, {"state", "absent"}}).changed);
  Outcome check = run_module("lineinfile", {{"path", f}, {"line", "x"}, {"create", true}}, true, true);
  CHECK(check.changed);
  CHECK_FALSE(test::exists(tmp / "sub"));
  REQUIRE(check.diffs.size() == 1);
  CHECK(check.diffs[0].text.find("+x") != std::string::npos);
  Outcome made = run_module("lineinfile", {{"path", f}, {"line", "x"}, {"create", true}, {"mode", "0600"}});
  CHECK(made.changed);
  CHECK(test::slurp(f) == "x\n");
  CHECK(test::mode_of(f) == 0600);
  CHECK_FALSE(run_module("lineinfile", {{"path", f}, {"line", "x"}, {"create", true}, {"mode", "0600"}}).changed);
}

TEST_CASE("stat reports what Ansible's stat does") {
  test::TempDir tmp;
  test::spit(tmp / "f", "abc");
  std::filesystem::permissions(tmp / "f", std::filesystem::perms(0640));
  Outcome o = run_module("stat", {{"path", tmp / "f"}});
  REQUIRE_FALSE(o.failed);
  const json& st = o.extra["stat"];
  CHECK(st["exists"] == true);
  CHECK(st["isreg"] == true);
  CHECK(st["isdir"] == false);
  CHECK(st["mode"] == "0640");
  CHECK(st["size"] == 3);
  CHECK(st["checksum"] == "a9993e364706816aba3e25717850c26c9cd0d89d");  // sha1("abc"), Ansible's default
  CHECK_FALSE(o.changed);
  CHECK(run_module("stat", {{"path", tmp / "nope"}}).extra["stat"]["exists"] == false);
  CHECK(run_module("stat", {{"path", tmp.path}}).extra["stat"]["isdir"] == true);
}

TEST_CASE("fetch brings a file back per host, checksum-verified, once") {
  test::TempDir tmp;
  test::spit(tmp / "node/etc/os-release", "ID=debian\n");
  json args = {{"src", tmp / "node/etc/os-release"}, {"dest", tmp / "fetched"}};
  Outcome o = run_module("fetch", args);
  REQUIRE_MESSAGE(!o.failed, o.msg);
  CHECK(o.changed);
  std::string local = tmp / "fetched/localhost" + (tmp / "node/etc/os-release");
  CHECK(o.extra["dest"] == local);
  CHECK(test::slurp(local) == "ID=debian\n");
  CHECK_FALSE(run_module("fetch", args).changed);
  json flat = {{"src", tmp / "node/etc/os-release"}, {"dest", tmp / "flat/"}, {"flat", true}};
  CHECK(run_module("fetch", flat).changed);
  CHECK(test::slurp(tmp / "flat/os-release") == "ID=debian\n");
  Outcome gone = run_module("fetch", {{"src", tmp / "nope"}, {"dest", tmp / "f2"}});
  CHECK(gone.failed);
  CHECK_FALSE(run_module("fetch", {{"src", tmp / "nope"}, {"dest", tmp / "f2"}, {"fail_on_missing", false}}).failed);
  CHECK(run_module("fetch", {{"src", "../x"}, {"dest", tmp / "f3"}}).failed);
  // check mode: a missing file is what an earlier task would have created
  Outcome check = run_module("fetch", {{"src", tmp / "nope"}, {"dest", tmp / "f4"}}, true);
  CHECK_FALSE(check.failed);
  CHECK_FALSE(test::exists(tmp / "f4"));
}
