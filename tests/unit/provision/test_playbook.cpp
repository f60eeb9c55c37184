// The playbook loader: Ansible's format in all its forms, and every
// malformed input refused with FILE:LINE:COL before anything runs.
#include <doctest/doctest.h>

#include "helpers.hpp"

using namespace aicloud;
using namespace aicloud::provision;

namespace {

Playbook parse(const std::string& yaml, const std::string& base = "") { return parse_playbook(yaml, "pb.yaml", base); }

// The diagnostics of a playbook that must not load, one per line.
std::string problems(const std::string& yaml, const std::string& base = "") {
  try {
    parse(yaml, base);
  } catch (const InputError& e) {
    return test::diag_text(e);
  }
  FAIL("the playbook loaded:\n" << yaml);
  return "";
}

}  // namespace

TEST_CASE("a plain Ansible playbook loads: mapping, one-line and free-form arguments, FQCNs") {
  Playbook pb = parse(R"(
- name: Configure
  hosts: gpu:&rack1:!bad
  become: yes
  strategy: linear
  serial: [1, "50%"]
  gather_facts: no
  vars:
    port: 8080
    mode: 0644
  tasks:
    - name: one-line form
      copy: src=a.conf dest=/etc/a.conf mode=0644 owner=root
    - name: fully qualified
      ansible.builtin.file:
        path: /etc/x
        state: directory
    - shell: echo "a  b" > /tmp/x creates=/tmp/x chdir=/tmp
    - command: /bin/true
      args:
        removes: /tmp/y
    - name: aliases
      lineinfile:
        dest: /etc/hosts
        regex: '^127\.0\.0\.1'
        value: "127.0.0.1 localhost"
    - apt: name=curl state=latest update_cache=yes
    - ansible.posix.sysctl: name=vm.swappiness value=1
    - community.general.modprobe: name=br_netfilter persistent=present
    - service: name=nvidia-persistenced state=started enabled=true
    - debug: msg="port {{ port }}"
    - set_fact: ready=true count=3
    - meta: flush_handlers
  handlers:
    - name: restart
      systemd: name=x state=restarted
      listen: web changed
)");
  REQUIRE(pb.plays.size() == 1);
  const Play& p = pb.plays[0];
  CHECK(p.hosts == "gpu:&rack1:!bad");
  CHECK(p.become == true);
  CHECK(p.strategy == Strategy::linear);
  CHECK(p.serial == std::vector<std::string>{"1", "50%"});
  CHECK_FALSE(p.gather_facts);
  CHECK(p.vars["port"] == 8080);
  CHECK(p.vars["mode"] == "0644");  // leading zero: text, as written
  REQUIRE(p.tasks.size() == 12);
  CHECK(p.tasks[0].module->spec().name == "copy");
  CHECK(p.tasks[0].args == json{{"src", "a.conf"}, {"dest", "/etc/a.conf"}, {"mode", "0644"}, {"owner", "root"}});
  CHECK(p.tasks[1].action == "ansible.builtin.file");
  CHECK(p.tasks[2].args == json{{"_raw_params", "echo \"a  b\" > /tmp/x"}, {"creates", "/tmp/x"}, {"chdir", "/tmp"}});
  CHECK(p.tasks[3].args == json{{"_raw_params", "/bin/true"}, {"removes", "/tmp/y"}});
  CHECK(p.tasks[4].args["path"] == "/etc/hosts");
  CHECK(p.tasks[4].args["regexp"] == "^127\\.0\\.0\\.1");
  CHECK(p.tasks[4].args["line"] == "127.0.0.1 localhost");
  CHECK(p.tasks[5].module->spec().name == "apt");
  CHECK(p.tasks[7].module->spec().name == "kernel_module");
  CHECK(p.tasks[10].args == json{{"ready", true}, {"count", "3"}});
  CHECK(p.handlers[0].listen == std::vector<std::string>{"web changed"});
}

TEST_CASE("task keywords: when, register, loops, retries, notify, tags, blocks") {
  Playbook pb = parse(R"(
- hosts: all
  tasks:
    - name: t
      command: nvidia-smi -L
      register: smi
      when:
        - ansible_os_family == "Debian"
        - "{{ gpu_ok }}"
      changed_when: false
      failed_when: smi.rc != 0 and 'No devices' not in smi.stderr
      retries: 3
      delay: 2
      until: smi is succeeded
      ignore_errors: true
      tags: driver, check
      notify: [h1]
      timeout: 90s
      environment: {LC_ALL: C}
    - name: loop
      debug: msg={{ item }}
      loop: "{{ gpus }}"
      loop_control: {loop_var: g, label: "{{ g.pci }}"}
    - name: grouped
      when: x is defined
      tags: [grp]
      become: true
      block:
        - command: "true"
          when: y
        - command: "false"
  handlers:
    - name: h1
      debug: msg=handled
)");
  const auto& t = pb.plays[0].tasks;
  REQUIRE(t.size() == 4);
  CHECK(t[0].register_var == "smi");
  CHECK(t[0].when.size() == 2);
  CHECK(t[0].when[1].expr.text() == "gpu_ok");
  CHECK(t[0].changed_when.size() == 1);
  CHECK(t[0].retries == 3);
  CHECK(t[0].ignore_errors == true);
  CHECK(t[0].tags == std::vector<std::string>{"driver", "check"});
  CHECK(t[0].timeout_s == 90);
  CHECK(t[1].loop == "{{ gpus }}");
  CHECK(t[1].loop_var == "g");
  // block: the block's when, tags and become are inherited
  CHECK(t[2].when.size() == 2);
  CHECK(t[2].tags == std::vector<std::string>{"grp"});
  CHECK(t[3].become == true);
  CHECK(t[3].when.size() == 1);
}

TEST_CASE("every problem is reported with FILE:LINE:COL, all at once") {
  std::string out = problems(R"(- hosts: all
  tasks:
    - name: typo in module
      copyy: src=a dest=b
    - name: unknown arg
      copy: src=a dest=/b moed=0644
    - name: missing required
      file: state=directory
    - name: bad type
      copy: src=a dest=/b force=maybe
    - name: bad choice
      file: path=/x state=dirctory
    - name: bad condition
      command: "true"
      when: x ==
    - name: bad template
      debug: msg="{{ x | }}"
    - name: bad keyword
      command: "true"
      registr: x
    - name: two modules
      command: "true"
      shell: "true"
    - name: notify nothing
      command: "true"
      notify: restart nginx
    - name: unsupported
      command: "true"
      delegate_to: localhost
    - name: bad mode
      file: path=/x mode=0999
    - name: exclusive
      copy: src=a content=b dest=/c
)");
  CHECK(out.find("pb.yaml:4:7: unknown module or task keyword 'copyy' (did you mean 'copy'?)") != std::string::npos);
  CHECK(out.find("pb.yaml:6:13: unsupported argument 'moed' for module 'copy' (did you mean 'mode'?)") != std::string::npos);
  CHECK(out.find("pb.yaml:8:7: missing required argument 'path' for module 'file'") != std::string::npos);
  CHECK(out.find("pb.yaml:10:13: 'force' must be a boolean") != std::string::npos);
  CHECK(out.find("pb.yaml:12:13: 'state' must be one of absent, directory, file, hard, link, touch, not 'dirctory' (did you mean 'directory'?)") !=
        std::string::npos);
  CHECK(out.find("pb.yaml:15:17: condition does not parse: expected a value") != std::string::npos);
  CHECK(out.find("pb.yaml:17:") != std::string::npos);
  CHECK(out.find("unknown filter") == std::string::npos);  // "| }}" is a missing filter name, not an unknown one
  CHECK(out.find("expected a filter name") != std::string::npos);
  CHECK(out.find("pb.yaml:20:7: unknown module or task keyword 'registr' (did you mean 'register'?)") != std::string::npos);
  CHECK(out.find("pb.yaml:23:7: a task can run one module, but this one has 'command' and 'shell'") != std::string::npos);
  CHECK(out.find("pb.yaml:24:7: notify: no handler named 'restart nginx' in this play") != std::string::npos);
  CHECK(out.find("pb.yaml:29:7: 'delegate_to': delegation is not supported") != std::string::npos);
  CHECK(out.find("pb.yaml:31:13: 'mode': mode '0999'") == std::string::npos);
  CHECK(out.find("invalid mode '0999'") != std::string::npos);
  CHECK(out.find("'copy' takes only one of: src, content") != std::string::npos);
  // sorted by line
  auto first = out.find("pb.yaml:4:"), last = out.find("pb.yaml:33:");
  CHECK(first < last);
}

TEST_CASE("YAML and structure errors") {
  CHECK(problems("- hosts: all\n  tasks: [\n").find("pb.yaml:3:1: invalid YAML") != std::string::npos);
  CHECK(problems("").find("the playbook is empty") != std::string::npos);
  CHECK(problems("hosts: all\n").find("a playbook is a list of plays") != std::string::npos);
  CHECK(problems("- tasks: []\n").find("a play needs 'hosts'") != std::string::npos);
  CHECK(problems("- hosts: all\n  taks: []\n").find("unknown play keyword 'taks' (did you mean 'tasks'?)") != std::string::npos);
  CHECK(problems("- hosts: all\n  tasks:\n    - name: x\n").find("the task has no module to run") != std::string::npos);
  CHECK(problems("- hosts: all\n  strategy: fast\n").find("strategy must be 'free' or 'linear'") != std::string::npos);
  CHECK(problems("- hosts: all\n  serial: 0\n").find("serial must be a positive number") != std::string::npos);
  CHECK(problems("- hosts: all\n  roles: [x]\n").find("roles are not supported") != std::string::npos);
  CHECK(problems("- import_playbook: x.yaml\n").find("import_playbook") != std::string::npos);
  CHECK(problems("- hosts: all\n  tasks:\n    - block: [{command: 'true'}]\n      rescue: []\n").find("'rescue' blocks are not supported") !=
        std::string::npos);
  CHECK(problems("- hosts: all\n  tasks:\n    - copy:\n        dest: /x\n        dest: /y\n        content: a\n").find("duplicate argument 'dest'") !=
        std::string::npos);
  CHECK(problems("- hosts: all\n  tasks:\n    - copy: dest=/x bogus\n        \n").find("'bogus' is not a key=value argument") !=
        std::string::npos);
  CHECK(problems("- hosts: all\n  tasks:\n    - shell:\n").find("'shell' needs one of: a command line, cmd") != std::string::npos);
  CHECK(problems("- hosts: all\n  tasks:\n    - lineinfile: path=/x regexp=(?=a) line=b\n").find("lookaround") != std::string::npos);
  CHECK(problems("- hosts: all\n  tasks:\n    - sysctl: name=../../etc/passwd value=1\n").find("invalid sysctl name") !=
        std::string::npos);
  CHECK(problems("- hosts: all\n  tasks:\n    - package: name=\"curl; reboot\"\n").find("invalid package name") != std::string::npos);
  CHECK(problems("- hosts: all\n  tasks:\n    - assert: {that: [\"x ==\"]}\n").find("does not parse") != std::string::npos);
  CHECK(problems("- hosts: all\n  tasks:\n    - set_fact: {\"bad-name\": 1}\n").find("not a valid variable name") !=
        std::string::npos);
  CHECK(problems("- hosts: all\n  vars:\n    x: !vault |\n      abc\n").find("vault") != std::string::npos);
}

TEST_CASE("condition columns point into the expression") {
  std::string out = problems("- hosts: all\n  tasks:\n    - command: 'true'\n      when: \"x == (1\"\n");
  CHECK(out.find("pb.yaml:4:21: condition does not parse: expected ')'") != std::string::npos);
}

TEST_CASE("template files named by template tasks are checked before the run") {
  test::TempDir tmp;
  test::spit(tmp / "templates/ok.j2", "x={{ x }}\n");
  test::spit(tmp / "templates/bad.j2", "line1\nline2 {% if x %}\n");
  CHECK_NOTHROW(parse("- hosts: all\n  tasks:\n    - template: src=ok.j2 dest=/etc/ok\n", tmp.path));
  std::string out = problems("- hosts: all\n  tasks:\n    - template: src=bad.j2 dest=/etc/bad\n", tmp.path);
  CHECK(out.find(tmp / "templates/bad.j2" + ":2:7: template does not parse") != std::string::npos);
  out = problems("- hosts: all\n  tasks:\n    - template: src=missing.j2 dest=/etc/x\n", tmp.path);
  CHECK(out.find("could not find 'missing.j2'") != std::string::npos);
}

TEST_CASE("vars_files are loaded relative to the playbook, !unsafe is never templated") {
  test::TempDir tmp;
  test::spit(tmp / "vars/common.yaml", "a: 1\nb: '{{ a }}'\n");
  Playbook pb = parse("- hosts: all\n  vars: {a: 0, c: !unsafe '{{ raw }}'}\n  vars_files: [vars/common.yaml]\n  tasks: []\n", tmp.path);
  CHECK(pb.plays[0].vars["a"] == 1);
  CHECK(pb.plays[0].vars["b"] == "{{ a }}");
  json v = pb.plays[0].vars;
  Scope s(&v, true);
  CHECK(Expr::parse("c").eval(s) == "{{ raw }}");
  CHECK(problems("- hosts: all\n  vars_files: [nope.yaml]\n", tmp.path).find("vars file") != std::string::npos);
}

TEST_CASE("shipped playbooks are found by name, and unknown names get a hint") {
  auto names = shipped_playbook_names();
  CHECK(std::find(names.begin(), names.end(), "gpu-node-prep") != names.end());
  CHECK(std::find(names.begin(), names.end(), "deploy-aicloudctl") != names.end());
  Playbook pb = load_playbook("gpu-node-prep");
  CHECK(pb.builtin);
  CHECK(pb.path == "playbooks/gpu-node-prep.yaml (built in)");
  try {
    load_playbook("gpu-node-preq");
    FAIL("loaded");
  } catch (const InputError& e) {
    CHECK(test::diag_text(e).find("did you mean 'gpu-node-prep'?") != std::string::npos);
  }
}
