// The run model, driven through LocalTransport (scripts run for real with
// /bin/sh; several "hosts" are several sessions on this machine). A
// transport factory that refuses some hosts stands in for unreachable
// nodes.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "common/interrupt.hpp"
#include "helpers.hpp"

using namespace aicloud;
using namespace aicloud::provision;
using test::result_of;
using test::run_yaml;

namespace {

std::vector<std::string> lines_of(const std::string& path) {
  std::vector<std::string> out;
  std::istringstream in(test::slurp(path));
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

class RefusingFactory : public TransportFactory {
 public:
  explicit RefusingFactory(std::set<std::string> down) : m_down(std::move(down)) {}
  std::unique_ptr<HostTransport> open(const RunHost& h, std::string* error) override {
    ++opened;
    if (m_down.count(h.name)) {
      *error = "connect to " + h.name + ": connection refused";
      return nullptr;
    }
    return std::make_unique<LocalTransport>();
  }
  int opened = 0;

 private:
  std::set<std::string> m_down;
};

}  // namespace

TEST_CASE("when, register, changed_when, failed_when, ignore_errors") {
  RunResult r = run_yaml(R"Y(
- hosts: all
  gather_facts: false
  vars: {want: 3}
  tasks:
    - name: produce
      shell: echo 3; echo warn >&2
      register: out
      changed_when: false
    - name: skipped
      command: "false"
      when: out.stdout | int != want
    - name: runs
      debug: msg="got {{ out.stdout }} and {{ out.stderr_lines[0] }}"
      when: out is succeeded and out.rc == 0
    - name: failed_when
      command: "true"
      register: t
      failed_when: t.rc == 0
      ignore_errors: yes
    - name: ignored failure is registered
      debug: msg={{ t.failed }}
      when: t is failed
    - name: changed_when from output
      shell: echo CHANGED
      register: c
      changed_when: "'CHANGED' in c.stdout"
)Y");
  CHECK(result_of(r, "produce").status == "ok");
  CHECK(result_of(r, "skipped").status == "skipped");
  CHECK(result_of(r, "runs").output == "got 3 and warn");
  CHECK(result_of(r, "failed_when").status == "failed");
  CHECK(result_of(r, "failed_when").ignored);
  CHECK(result_of(r, "ignored failure is registered").output == true);
  CHECK(result_of(r, "changed_when from output").status == "changed");
  const Recap& rc = r.recap.at("localhost");
  CHECK(rc.ok == 4);
  CHECK(rc.changed == 1);
  CHECK(rc.skipped == 1);
  CHECK(rc.ignored == 1);
  CHECK(rc.failed == 0);
  CHECK(r.exit_code() == 0);
}

TEST_CASE("loops: loop, with_items, loop_control, per-item when, registered results") {
  test::TempDir tmp;
  RunResult r = run_yaml(R"Y(
- hosts: all
  gather_facts: false
  vars:
    dir: )Y" + tmp.path + R"Y(
    items: [a, b, c]
  tasks:
    - name: files
      copy: content={{ f }} dest={{ dir }}/{{ f }}
      loop: "{{ items }}"
      loop_control: {loop_var: f, index_var: i}
      when: f != 'b'
      register: made
    - name: count
      debug: msg="{{ made.results | selectattr('changed') | list | length }} {{ made.results | map(attribute='f') | join(',') }}"
    - name: flattened
      debug: msg={{ item }}
      with_items: [[1, 2], 3]
      register: flat
    - name: flat count
      debug: msg={{ flat.results | length }}
    - name: empty loop
      debug: msg=x
      loop: []
)Y");
  CHECK(test::slurp(tmp / "a") == "a");
  CHECK_FALSE(test::exists(tmp / "b"));
  CHECK(result_of(r, "files").status == "changed");
  CHECK(result_of(r, "files").items.size() == 3);
  CHECK(result_of(r, "count").output == "2 a,b,c");
  CHECK(result_of(r, "flat count").output == 3);
  CHECK(result_of(r, "flattened").output == json::array({1, 2, 3}));
  CHECK(result_of(r, "empty loop").status == "skipped");
}

TEST_CASE("retries and until, retries alone retry a failing task") {
  test::TempDir tmp;
  RunResult r = run_yaml(R"Y(
- hosts: all
  gather_facts: false
  tasks:
    - name: count to three
      shell: n=$(cat )Y" + tmp.path + R"Y(/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > )Y" + tmp.path + R"Y(/n; echo $n
      register: n
      until: n.stdout | int >= 3
      retries: 5
      delay: 0
    - name: never
      command: "false"
      register: nv
      until: nv.rc == 0
      retries: 2
      delay: 0
      ignore_errors: true
    - name: flaky
      shell: test -f )Y" + tmp.path + R"Y(/flag || { touch )Y" + tmp.path + R"Y(/flag; exit 1; }
      retries: 1
      delay: 0
)Y");
  CHECK(result_of(r, "count to three").status == "changed");
  CHECK(result_of(r, "count to three").attempts == 3);
  CHECK(result_of(r, "never").status == "failed");
  CHECK(result_of(r, "never").attempts == 3);
  CHECK(result_of(r, "flaky").status == "changed");
  CHECK(result_of(r, "flaky").attempts == 2);
}

TEST_CASE("handlers run once, after the tasks, only where notified, listen, flush_handlers") {
  test::TempDir tmp;
  std::string log = tmp / "log";
  RunResult r = run_yaml(R"Y(
- hosts: all
  gather_facts: false
  tasks:
    - name: change
      shell: echo task1 >> )Y" + log + R"Y(
      notify: [h1, topic]
    - name: change again
      shell: echo task2 >> )Y" + log + R"Y(
      notify: h1
    - name: no change
      command: "true"
      changed_when: false
      notify: h3
    - meta: flush_handlers
    - name: after flush
      shell: echo task3 >> )Y" + log + R"Y(
  handlers:
    - name: h1
      shell: echo h1 >> )Y" + log + R"Y(
    - name: h2
      shell: echo h2 >> )Y" + log + R"Y(
      listen: topic
    - name: h3
      shell: echo h3 >> )Y" + log + R"Y(
)Y");
  CHECK(lines_of(log) == std::vector<std::string>{"task1", "task2", "h1", "h2", "task3"});
  CHECK(r.exit_code() == 0);
}

TEST_CASE("a failing host stops, the others go on, later plays skip it") {
  RunResult r = run_yaml(R"Y(
- hosts: all
  gather_facts: false
  tasks:
    - name: fails on node2
      command: "false"
      when: inventory_hostname == 'node2'
    - name: next
      debug: msg=ok
- hosts: all
  gather_facts: false
  tasks:
    - name: second play
      debug: msg=ok
)Y",
                         {}, test::local_hosts(3));
  CHECK(result_of(r, "fails on node2", "node2").status == "failed");
  CHECK(result_of(r, "next", "node1").status == "ok");
  CHECK(result_of(r, "next", "node3").status == "ok");
  CHECK(r.plays[0].tasks[1].results.count("node2") == 0);
  CHECK(r.plays[1].hosts == std::vector<std::string>{"node1", "node3"});
  CHECK(r.recap.at("node2").failed == 1);
  CHECK(r.recap.at("node2").status() == "failed");
  CHECK(r.exit_code() == 1);
}

TEST_CASE("unreachable hosts are recorded and the exit code says so") {
  RefusingFactory f({"node2"});
  RunResult r = run_yaml(R"Y(
- hosts: all
  gather_facts: false
  tasks:
    - name: controller-only tasks need no connection
      debug: msg=hi
    - name: on the node
      command: "true"
    - name: fails on node3
      command: "false"
      when: inventory_hostname == 'node3'
)Y",
                         {}, test::local_hosts(3), &f);
  CHECK(result_of(r, "controller-only tasks need no connection", "node2").status == "ok");
  CHECK(result_of(r, "on the node", "node2").status == "unreachable");
  CHECK(result_of(r, "on the node", "node2").msg.find("connection refused") != std::string::npos);
  CHECK(r.recap.at("node2").unreachable == 1);
  CHECK(r.exit_code() == 5);  // failed (1) | unreachable (4)
  CHECK(f.opened == 3);       // one session per host, reused by every task
}

TEST_CASE("linear runs each task on every host before the next, serial batches") {
  test::TempDir tmp;
  std::string log = tmp / "log";
  std::string pb = R"Y(
- hosts: all
  gather_facts: false
  strategy: linear
  tasks:
    - shell: echo "t1 {{ inventory_hostname }}" >> )Y" + log + R"Y(
    - shell: echo "t2 {{ inventory_hostname }}" >> )Y" + log + R"Y(
)Y";
  run_yaml(pb, {}, test::local_hosts(4));
  auto lines = lines_of(log);
  REQUIRE(lines.size() == 8);
  for (int i = 0; i < 4; ++i) CHECK(lines[static_cast<std::size_t>(i)].rfind("t1", 0) == 0);
  std::filesystem::remove(log);
  std::string serial = pb;
  serial.replace(serial.find("strategy: linear"), 16, "serial: 2");
  RunResult r = run_yaml(serial, {}, test::local_hosts(4));
  lines = lines_of(log);
  REQUIRE(lines.size() == 8);
  std::set<std::string> first_batch;
  for (int i = 0; i < 4; ++i) first_batch.insert(lines[static_cast<std::size_t>(i)].substr(3));
  CHECK(first_batch == std::set<std::string>{"node1", "node2"});
  CHECK(r.exit_code() == 0);
}

TEST_CASE("serial: a batch where every host fails stops the play, any_errors_fatal, max_fail_percentage") {
  RunResult r = run_yaml(R"Y(
- hosts: all
  gather_facts: false
  serial: 1
  tasks:
    - command: "false"
      when: inventory_hostname == 'node1'
)Y",
                         {}, test::local_hosts(3));
  CHECK(r.recap.count("node2") == 0);
  CHECK(r.plays[0].notes.back().find("remaining batches") != std::string::npos);
  RunResult fatal = run_yaml(R"Y(
- hosts: all
  gather_facts: false
  strategy: linear
  any_errors_fatal: true
  tasks:
    - name: one
      command: "false"
      when: inventory_hostname == 'node1'
    - name: two
      debug: msg=x
)Y",
                             {}, test::local_hosts(3));
  for (const auto& t : fatal.plays[0].tasks)
    if (t.name == "two") CHECK(t.results.empty());
  RunResult pct = run_yaml(R"Y(
- hosts: all
  gather_facts: false
  strategy: linear
  max_fail_percentage: 50
  tasks:
    - name: one
      command: "false"
      when: inventory_hostname == 'node1'
    - name: two
      debug: msg=x
)Y",
                           {}, test::local_hosts(3));
  for (const auto& t : pct.plays[0].tasks)
    if (t.name == "two") CHECK(t.results.size() == 2);  // 33% failed: under the threshold
}

TEST_CASE("tags and skip-tags, always and never") {
  std::string pb = R"Y(
- hosts: all
  gather_facts: false
  tasks:
    - {name: a, debug: msg=a, tags: [x]}
    - {name: b, debug: msg=b, tags: [y]}
    - {name: c, debug: msg=c, tags: [always]}
    - {name: d, debug: msg=d, tags: [never, debugonly]}
    - {name: e, debug: msg=e}
)Y";
  auto ran = [&](RunOptions o) {
    RunResult r = run_yaml(pb, o);
    std::vector<std::string> names;
    for (const auto& t : r.plays[0].tasks)
      if (!t.results.empty()) names.push_back(t.name);
    return names;
  };
  CHECK(ran({}) == std::vector<std::string>{"a", "b", "c", "e"});
  RunOptions x;
  x.tags = {"x"};
  CHECK(ran(x) == std::vector<std::string>{"a", "c"});
  RunOptions skip;
  skip.skip_tags = {"x", "always"};
  CHECK(ran(skip) == std::vector<std::string>{"b", "e"});
  RunOptions never;
  never.tags = {"debugonly"};
  CHECK(ran(never) == std::vector<std::string>{"c", "d"});
  RunOptions untagged;
  untagged.tags = {"untagged"};
  CHECK(ran(untagged) == std::vector<std::string>{"c", "e"});
}

TEST_CASE("check mode changes nothing, check_mode: false runs for real") {
  test::TempDir tmp;
  RunOptions o;
  o.check = true;
  RunResult r = run_yaml(R"Y(
- hosts: all
  gather_facts: false
  tasks:
    - name: write
      copy: content=x dest=)Y" + tmp.path + R"Y(/f
    - name: read-only probe
      command: echo probe
      register: p
      check_mode: false
      changed_when: false
    - name: use it
      debug: msg={{ p.stdout }}
    - name: check mode var
      debug: msg={{ ansible_check_mode }}
)Y",
                         o);
  CHECK(result_of(r, "write").status == "changed");
  CHECK_FALSE(test::exists(tmp / "f"));
  CHECK(result_of(r, "use it").output == "probe");
  CHECK(result_of(r, "check mode var").output == true);
}

TEST_CASE("vars: precedence, facts, set_fact across plays, extra vars win, magic vars") {
  std::vector<RunHost> hosts = test::local_hosts(2);
  hosts[0].vars = {{"level", "inventory"}, {"only_inv", "i"}};
  hosts[0].magic = {{"hardware", {{"gpu_count", 8}}}, {"rack", "a12"}};
  RunOptions o;
  o.extra_vars = {{"forced", "extra"}};
  RunResult r = run_yaml(R"Y(
- hosts: all
  gather_facts: true
  vars:
    level: play
    forced: play
    derived: "{{ level }}-{{ inventory_hostname }}"
  tasks:
    - name: precedence
      debug: msg="{{ level }} {{ only_inv | default('none') }} {{ forced }} {{ derived }}"
    - name: task vars
      debug: msg={{ level }}
      vars: {level: task}
    - set_fact: {seen: "{{ groups['all'] | length }} {{ group_names | join(',') }} {{ hardware.gpu_count | default(0) }}"}
    - name: facts
      debug: msg="{{ ansible_facts.kernel == ansible_kernel }} {{ ansible_play_hosts | length }}"
- hosts: node1
  gather_facts: false
  tasks:
    - name: second play sees set_fact
      debug: msg={{ seen }}
)Y",
                         o, hosts);
  CHECK(result_of(r, "precedence", "node1").output == "play i extra play-node1");
  CHECK(result_of(r, "precedence", "node2").output == "play none extra play-node2");
  CHECK(result_of(r, "task vars", "node1").output == "task");
  CHECK(result_of(r, "facts", "node1").output == "True 2");
  CHECK(result_of(r, "second play sees set_fact", "node1", 1).output == "2 gpu 8");
}

TEST_CASE("an error while running a task fails that host with the reason") {
  RunResult r = run_yaml(R"Y(
- hosts: all
  gather_facts: false
  tasks:
    - name: undefined in args
      copy: content={{ nope }} dest=/tmp/x
    - name: never reached
      debug: msg=x
)Y");
  CHECK(result_of(r, "undefined in args").status == "failed");
  CHECK(result_of(r, "undefined in args").msg.find("'nope' is undefined") != std::string::npos);
  RunResult w = run_yaml("- hosts: all\n  gather_facts: false\n  tasks:\n    - {name: w, debug: msg=x, when: nope > 1}\n");
  CHECK(result_of(w, "w").status == "failed");
  CHECK(result_of(w, "w").msg.find("error while evaluating the condition") != std::string::npos);
}

TEST_CASE("meta: end_host and environment") {
  RunResult r = run_yaml(R"Y(
- hosts: all
  gather_facts: false
  environment: {GREETING: "hi there"}
  tasks:
    - name: env
      shell: echo "$GREETING $EXTRA"
      environment: {EXTRA: "$(touch /tmp/aicloud-never)"}
    - meta: end_host
      when: inventory_hostname == 'node1'
    - name: after
      debug: msg=x
)Y",
                         {}, test::local_hosts(2));
  CHECK(result_of(r, "env", "node1").stdout_text == "hi there $(touch /tmp/aicloud-never)");
  CHECK_FALSE(test::exists("/tmp/aicloud-never"));
  CHECK(r.plays[0].tasks.back().results.count("node1") == 0);
  CHECK(r.plays[0].tasks.back().results.count("node2") == 1);
}

TEST_CASE("host patterns: all, groups, hosts, Ansible operators, selector fallback") {
  std::vector<RunHost> hs = test::local_hosts(4);
  hs[0].groups = {"gpu", "rack1"};
  hs[1].groups = {"gpu", "rack2"};
  hs[2].groups = {"cpu", "rack1"};
  hs[3].groups = {};
  HostSelector sel = [](const std::string& term) -> std::vector<std::string> {
    if (term == "node[1-2]") return {"node1", "node2"};
    throw InputError(SourceLocation{"--limit", 1, 1}, "bad selector " + term);
  };
  CHECK(resolve_host_pattern("all", hs, sel).size() == 4);
  CHECK(resolve_host_pattern("gpu", hs, sel) == std::vector<std::string>{"node1", "node2"});
  CHECK(resolve_host_pattern("gpu:&rack1", hs, sel) == std::vector<std::string>{"node1"});
  CHECK(resolve_host_pattern("all:!gpu", hs, sel) == std::vector<std::string>{"node3", "node4"});
  CHECK(resolve_host_pattern("rack1,node4", hs, sel) == std::vector<std::string>{"node1", "node3", "node4"});
  CHECK(resolve_host_pattern("node[1-2]:!node2", hs, sel) == std::vector<std::string>{"node1"});
  CHECK_THROWS_AS(resolve_host_pattern("zz[", hs, sel), InputError);
}

TEST_CASE("idempotence: a second run of a state playbook changes nothing") {
  test::TempDir tmp;
  test::spit(tmp / "proc/sys/vm/swappiness", "60\n");
  std::string pb = R"Y(
- hosts: all
  gather_facts: false
  vars: {root: )Y" + tmp.path + R"Y(}
  tasks:
    - file: path={{ root }}/etc/app state=directory mode=0755
    - copy: content="a=1\n" dest={{ root }}/etc/app/app.conf mode=0644
    - lineinfile: path={{ root }}/etc/app/other.conf regexp=^b= line=b=2 create=yes
    - command: touch {{ root }}/etc/app/initialised creates={{ root }}/etc/app/initialised
    - sysctl: name=vm.swappiness value=1 sysctl_file={{ root }}/etc/sysctl.d/90.conf _proc_sys={{ root }}/proc/sys
    - shell: test "$(cat {{ root }}/proc/sys/vm/swappiness)" = 1 || echo 1 > {{ root }}/proc/sys/vm/swappiness
      changed_when: false
)Y";
  RunResult first = run_yaml(pb);
  CHECK(first.exit_code() == 0);
  CHECK(first.recap.at("localhost").changed == 5);
  RunResult second = run_yaml(pb);
  CHECK(second.exit_code() == 0);
  CHECK(second.recap.at("localhost").changed == 0);
  CHECK(second.recap.at("localhost").ok == 6);
  RunOptions check;
  check.check = true;
  CHECK(run_yaml(pb, check).recap.at("localhost").changed == 0);
}

TEST_CASE("extra vars: key=value, JSON, YAML files") {
  test::TempDir tmp;
  test::spit(tmp / "v.yaml", "a: 1\nb: [x]\n");
  json v = parse_extra_vars({"k=v other='two words'", "{\"n\": 3}", "@" + tmp / "v.yaml"});
  CHECK(v == json{{"k", "v"}, {"other", "two words"}, {"n", 3}, {"a", 1}, {"b", {"x"}}});
  CHECK_THROWS_AS(parse_extra_vars({"novalue"}), UsageError);
  CHECK_THROWS_AS(parse_extra_vars({"@" + tmp / "missing"}), InputError);
  CHECK_THROWS_AS(parse_extra_vars({"{bad"}), InputError);
}

#include "provision/inventory_hosts.hpp"

TEST_CASE("inventory hosts become run hosts with hardware, rack and groups, no BMC credentials") {
  inventory::Host h;
  h.name = "gpu-a12-01";
  h.address = "10.0.12.1";
  h.ssh.user = "ops";
  h.ssh.become = true;
  h.rack = "a12";
  h.site = "phx1";
  h.rack_u = 7;
  h.groups = {"gpu", "rack_a12"};
  h.hardware.gpu_count = 8;
  h.hardware.gpu_model = "H100-SXM";
  h.vars = {{"x", 1}};
  h.bmc = inventory::Bmc{"redfish://10.1.12.1", "redfish", "10.1.12.1", 443, "env:BMC_PASS"};
  RunHost r = run_host_from_inventory(h);
  CHECK(r.name == "gpu-a12-01");
  CHECK(r.address == "10.0.12.1");
  CHECK(r.user == "ops");
  CHECK(r.become);
  CHECK(r.magic["hardware"]["gpu_count"] == 8);
  CHECK(r.magic["rack"] == "a12");
  CHECK(r.magic["rack_u"] == 7);
  CHECK(r.magic.dump().find("BMC_PASS") == std::string::npos);
  RunResult res = run_yaml("- hosts: gpu\n  gather_facts: false\n  tasks:\n    - name: n\n      debug: msg=\"{{ hardware.gpu_count }} {{ rack }} {{ x }}\"\n",
                           {}, {r}, nullptr);
  CHECK(result_of(res, "n", "gpu-a12-01").output == "8 a12 1");
}
