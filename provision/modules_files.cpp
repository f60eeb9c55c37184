// File modules: copy, template, file, lineinfile, stat, fetch. Each builds
// one script that compares the node's state with the wanted state (SHA-256
// for contents, stat for attributes) and, outside check mode, changes only
// what differs: new contents go to a temporary file in the same folder,
// are checksum-verified and validated, then renamed over the old file.
// Small contents travel on the script's stdin in the same round trip;
// contents over k_inline_limit are sent only when the probe says they
// differ (a second round trip), so that an unchanged 20 MB binary costs
// one exec and no transfer.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/files.hpp"
#include "common/sha256.hpp"
#include "common/strings.hpp"
#include "provision/module_util.hpp"
#include "provision/shell.hpp"
#include "provision/template.hpp"

namespace aicloud::provision::detail {

namespace {

constexpr std::size_t k_inline_limit = 256u << 10;

// ---------------------------------------------------------------------------
// copy and template
// ---------------------------------------------------------------------------

struct CopyPlan {
  std::string dest;
  std::string want_sha;        // empty with remote_src (computed on the node)
  std::string base;            // file name used when dest is a folder
  std::string mode, owner, group;
  std::string validate;
  std::string remote_src;
  bool force = true;
  bool backup = false;
  bool diff = false;
  bool check = false;
  bool have_content = true;    // the content is on stdin in this step
};

std::string copy_script(const CopyPlan& p) {
  std::string s = script_prelude(p.check);
  s += sh_var("dest", p.dest) + sh_var("want", p.want_sha) + sh_var("base", p.base) + sh_var("mode", p.mode) +
       sh_var("owner", p.owner) + sh_var("group", p.group) + sh_var("rsrc", p.remote_src);
  s += std::string("force=") + (p.force ? "1" : "0") + " backup=" + (p.backup ? "1" : "0") +
       " have=" + (p.have_content ? "1" : "0") + " diff=" + (p.diff ? "1" : "0") + "\n";
  s += R"SH(if [ -n "$rsrc" ]; then
  [ -f "$rsrc" ] || aic_fail "Source $rsrc not found"
  want=$(aic_sha256 "$rsrc")
  [ "$mode" = preserve ] && mode=$(stat -c %a -- "$rsrc")
fi
case $dest in */)
  if [ ! -d "$dest" ]; then aic_changed=1; [ "$CHECK" = 1 ] || mkdir -p -- "$dest" || aic_fail "cannot create $dest"; fi
  dest="$dest$base";;
esac
if [ -d "$dest" ] && [ ! -L "$dest" ]; then dest="${dest%/}/$base"; fi
dir=$(dirname -- "$dest")
aic_out dest "$dest"
aic_out checksum "$want"
if [ ! -d "$dir" ] && [ "$aic_changed" = 0 ]; then
  # In check mode an earlier task may be the one that would create it.
  [ "$CHECK" = 1 ] || aic_fail "Destination directory $dir does not exist"
  aic_out created 1; aic_out msg "$dest would be created (its folder does not exist yet)"; aic_out changed 1; exit 0
fi
cur=
[ -f "$dest" ] && cur=$(aic_sha256 "$dest")
if [ "$cur" != "$want" ] && { [ "$force" = 1 ] || { [ ! -e "$dest" ] && [ ! -L "$dest" ]; }; }; then
  aic_changed=1
  if [ "$diff" = 1 ] && [ -f "$dest" ] && [ "$(wc -c < "$dest")" -le 1048576 ]; then aic_out before_b64 "$(aic_b64 "$dest")"; fi
  [ -e "$dest" ] || aic_out created 1
  if [ "$CHECK" != 1 ]; then
    if [ "$have" != 1 ] && [ -z "$rsrc" ]; then aic_out need_content 1; aic_out changed 1; exit 0; fi
    tmp=$(mktemp "$dir/.aicloud.XXXXXX") || aic_fail "cannot create a temporary file in $dir"
    trap 'rm -f -- "$tmp"' EXIT
    if [ -n "$rsrc" ]; then cat -- "$rsrc" > "$tmp" || aic_fail "copying $rsrc failed"
    else cat > "$tmp" || aic_fail "writing $dest failed"; fi
    got=$(aic_sha256 "$tmp")
    [ "$got" = "$want" ] || aic_fail "checksum mismatch after transfer to $dest: expected $want, got $got"
)SH";
  if (!p.validate.empty()) {
    std::string cmd = replace_all_literal(p.validate, "%s", "\"$tmp\"");
    s += "    vout=$( { " + cmd + "\n} 2>&1 ) || aic_fail \"failed to validate: $vout\"\n";
  }
  s += R"SH(    aic_install "$tmp" "$dest" "$backup"
    trap - EXIT
  fi
fi
aic_attrs "$dest" "$mode" "$owner" "$group" 0
aic_out changed "$aic_changed"
)SH";
  return s;
}

std::string read_local_file(const std::string& path, std::size_t max = 1u << 30) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ExprEvalError("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  if (s.size() > max) throw ExprEvalError(path + " is larger than 1 GiB");
  return s;
}

// Ansible runs `validate` with %s replaced by the new file; without %s it
// would check nothing.
void check_validate(const json& args, std::vector<std::pair<std::string, std::string>>& problems) {
  if (args.contains("validate") && args["validate"].is_string() && args["validate"].get<std::string>().find("%s") == std::string::npos)
    problems.emplace_back("validate", "validate must contain %s (the path of the new file)");
}

// Content-carrying modules keep what the steps need between round trips.
struct ContentSource {
  std::string content;         // in memory (content:, template, embedded files)
  std::string path;            // or a local file to stream
  std::string sha;
  std::size_t size = 0;
  std::string name;            // basename for a dest folder
  unsigned src_mode = 0;       // for mode: preserve
};

std::string basename_of(const std::string& p) {
  std::string s = p;
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  auto i = s.rfind('/');
  return i == std::string::npos ? s : s.substr(i + 1);
}

class ContentModule : public BasicModule {
 public:
  using BasicModule::BasicModule;

  Next resume(const ModuleCall& call, const std::vector<ExecResult>& done) const override {
    Outcome out = outcome_from_report(done.back());
    if (out.failed) return Next::done(out);
    auto rep = parse_report(done.back().stdout_text);
    if (rep["need_content"] == "1" && done.size() == 1) {
      // The probe found different contents: send them now.
      ContentSource src = source(call);
      CopyPlan p = plan(call, src);
      p.have_content = true;
      Step st;
      st.script = copy_script(p);
      if (!src.path.empty())
        st.stdin_path = src.path;
      else
        st.stdin_data = src.content;
      return Next::run(st);
    }
    out.extra["dest"] = rep["dest"];
    out.extra["checksum"] = rep["checksum"];
    if (rep.count("backup_file")) out.extra["backup_file"] = rep["backup_file"];
    if (call.diff && out.changed) {
      // Diff against what was (or would be) written.
      auto it = rep.find("before_b64");
      std::string before;
      if (it != rep.end()) before = base64_decode(it->second).value_or("");
      ContentSource src = source(call);
      std::string after = src.path.empty() ? src.content : (src.size <= (1u << 20) ? read_local_file(src.path) : "");
      if (it != rep.end() || rep.count("created")) add_diff(out, rep["dest"], before, after);
    }
    return Next::done(out);
  }

  Next start(const ModuleCall& call) const override {
    ContentSource src = source(call);
    CopyPlan p = plan(call, src);
    Step st;
    bool inline_ok = src.size <= k_inline_limit && p.remote_src.empty();
    p.have_content = inline_ok;
    st.script = copy_script(p);
    if (inline_ok) {
      if (!src.path.empty())
        st.stdin_data = read_local_file(src.path);
      else
        st.stdin_data = src.content;
    }
    return Next::run(st);
  }

 protected:
  virtual ContentSource source(const ModuleCall& call) const = 0;

  CopyPlan plan(const ModuleCall& call, const ContentSource& src) const {
    const Args& a = call.args;
    CopyPlan p;
    p.dest = a.str("dest");
    p.want_sha = src.sha;
    p.base = src.name;
    if (a.str("mode") == "preserve") {
      if (a.boolean("remote_src")) {
        p.mode = "preserve";
      } else {
        char buf[8];
        std::snprintf(buf, sizeof buf, "%o", src.src_mode & 07777);
        p.mode = buf;
      }
    } else {
      p.mode = mode_arg(a);
    }
    p.owner = a.str("owner");
    p.group = a.str("group");
    p.validate = a.str("validate");
    p.force = a.boolean("force", true);
    p.backup = a.boolean("backup");
    p.diff = call.diff;
    p.check = call.check;
    if (a.boolean("remote_src")) p.remote_src = a.str("src");
    return p;
  }
};

ContentSource from_memory(std::string content, std::string name) {
  ContentSource s;
  s.sha = sha256_hex(content);
  s.size = content.size();
  s.content = std::move(content);
  s.name = std::move(name);
  s.src_mode = 0644;
  return s;
}

class CopyModule : public ContentModule {
 public:
  CopyModule() : ContentModule(make_spec()) {}

 protected:
  ContentSource source(const ModuleCall& call) const override {
    const Args& a = call.args;
    if (a.has("content")) {
      const json& c = a.raw("content");
      std::string text = c.is_string() ? c.get<std::string>() : c.dump(4);
      return from_memory(std::move(text), basename_of(a.str("dest")));
    }
    std::string src = a.str("src");
    if (a.boolean("remote_src")) {
      ContentSource s;
      s.name = basename_of(src);
      return s;
    }
    if (!src.empty() && src.back() == '/') throw ExprEvalError("copying a folder (src ending in '/') is not supported");
    std::string local;
    if (starts_with(src, "/")) {
      if (!file_exists(src)) throw ExprEvalError("could not find src " + src);
      local = src;
    } else if (call.files) {
      local = call.files->local_path(src, "files");
    }
    if (!local.empty()) {
      struct stat st {};
      if (::stat(local.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
        throw ExprEvalError("src " + src + " is a folder; copying folders is not supported, copy each file");
      ContentSource s;
      s.path = local;
      s.size = static_cast<std::size_t>(st.st_size);
      s.sha = sha256_file_hex(local);
      s.name = basename_of(src);
      s.src_mode = st.st_mode;
      return s;
    }
    if (!call.files) throw ExprEvalError("no file source for " + src);
    return from_memory(call.files->read(src, "files"), basename_of(src));
  }

 private:
  static ModuleSpec make_spec() {
    ModuleSpec s;
    s.name = "copy";
    s.aliases = {"ansible.builtin.copy", "ansible.legacy.copy"};
    s.summary = "Copy a file or inline content to the node (skipped when the SHA-256 matches)";
    s.args = {{"src", ArgType::path},
              {"content", ArgType::raw},
              {"dest", ArgType::path, true},
              {"force", ArgType::boolean, false, {"thirsty"}, {}, true},
              {"backup", ArgType::boolean, false, {}, {}, false},
              {"validate", ArgType::str},
              {"remote_src", ArgType::boolean, false, {}, {}, false},
              {"unsafe_writes", ArgType::boolean}};
    for (auto& a : file_attr_args()) s.args.push_back(a);
    s.required_one_of = {{"src", "content"}};
    s.mutually_exclusive = {{"src", "content"}};
    s.check = [](const json& args, std::vector<std::pair<std::string, std::string>>& problems) {
      check_validate(args, problems);
      if (args.contains("content") && args.contains("remote_src") && args["remote_src"] == true)
        problems.emplace_back("remote_src", "remote_src needs src, not content");
    };
    return s;
  }
};

// Files a template can read through its FileSource and vars.
class TemplateModule : public ContentModule {
 public:
  TemplateModule() : ContentModule(make_spec()) {}

 protected:
  ContentSource source(const ModuleCall& call) const override {
    const Args& a = call.args;
    std::string src = a.str("src");
    if (!call.files) throw ExprEvalError("no file source for " + src);
    std::string text = call.files->read(src, "templates");
    Template t;
    try {
      t = Template::parse(text);
    } catch (const ExprSyntaxError& e) {
      std::size_t line = 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + static_cast<long>(std::min(e.offset(), text.size())), '\n'));
      throw ExprEvalError(src + ":" + std::to_string(line) + ": " + e.what());
    }
    Scope scope = *call.scope;
    scope.set_local("ansible_managed", "Managed by aicloudctl: local changes will be overwritten");
    scope.set_local("template_path", src);
    scope.set_local("template_host", call.host);
    return from_memory(t.render(scope), basename_of(a.str("dest")));
  }

 private:
  static ModuleSpec make_spec() {
    ModuleSpec s;
    s.name = "template";
    s.aliases = {"ansible.builtin.template", "ansible.legacy.template"};
    s.summary = "Render a template on the controller and install it on the node";
    s.args = {{"src", ArgType::path, true},
              {"dest", ArgType::path, true},
              {"force", ArgType::boolean, false, {}, {}, true},
              {"backup", ArgType::boolean, false, {}, {}, false},
              {"validate", ArgType::str},
              {"unsafe_writes", ArgType::boolean}};
    for (auto& a : file_attr_args()) s.args.push_back(a);
    s.check = check_validate;
    return s;
  }
};

// ---------------------------------------------------------------------------
// file
// ---------------------------------------------------------------------------

class FileModule : public BasicModule {
 public:
  FileModule() : BasicModule(make_spec()) {}

  Next start(const ModuleCall& call) const override {
    const Args& a = call.args;
    std::string state = a.str("state");
    if (state.empty()) state = a.has("src") ? "link" : a.boolean("recurse") ? "directory" : "auto";
    std::string mode = mode_arg(a);
    std::string s = script_prelude(call.check);
    s += sh_var("p", a.str("path")) + sh_var("state", state) + sh_var("src", a.str("src")) + sh_var("mode", mode) +
         sh_var("owner", a.str("owner")) + sh_var("group", a.str("group")) +
         sh_var("mtime", a.str("modification_time", "now")) + sh_var("atime", a.str("access_time", "now"));
    s += std::string("force=") + (a.boolean("force") ? "1" : "0") + " recurse=" + (a.boolean("recurse") ? "1" : "0") + "\n";
    s += R"SH(before=absent
if [ -L "$p" ]; then before=link; elif [ -d "$p" ]; then before=directory; elif [ -e "$p" ]; then before=file; fi
aic_out path "$p"
aic_out state_before "$before"
if [ "$state" = auto ]; then if [ -d "$p" ]; then state=directory; else state=file; fi; fi
case $state in
directory)
  if [ "$before" = link ] && [ -d "$p" ]; then :
  elif [ "$before" = file ] || [ "$before" = link ]; then aic_fail "$p exists and is not a directory"
  elif [ "$before" = absent ]; then
    aic_changed=1
    [ "$CHECK" = 1 ] || mkdir -p -- "$p" || aic_fail "cannot create directory $p"
  fi
  if [ "$recurse" = 1 ] && [ -d "$p" ]; then
    if [ -n "$mode" ] && [ -n "$(find "$p" ! -perm "$mode" -print 2>/dev/null | head -n 1)" ]; then
      aic_changed=1; [ "$CHECK" = 1 ] || chmod -R -- "$mode" "$p" || aic_fail "chmod -R $mode $p failed"
    fi
    if [ -n "$owner" ] && [ -n "$(find "$p" ! -user "$owner" -print 2>/dev/null | head -n 1)" ]; then
      aic_changed=1; [ "$CHECK" = 1 ] || chown -R -h -- "$owner" "$p" || aic_fail "chown -R $owner $p failed"
    fi
    if [ -n "$group" ] && [ -n "$(find "$p" ! -group "$group" -print 2>/dev/null | head -n 1)" ]; then
      aic_changed=1; [ "$CHECK" = 1 ] || chgrp -R -h -- "$group" "$p" || aic_fail "chgrp -R $group $p failed"
    fi
  else
    aic_attrs "$p" "$mode" "$owner" "$group" 1
  fi;;
absent)
  if [ "$before" != absent ]; then
    aic_changed=1
    [ "$CHECK" = 1 ] || rm -rf -- "$p" || aic_fail "cannot remove $p"
  fi;;
touch)
  if [ "$before" = absent ]; then
    aic_changed=1
    [ "$CHECK" = 1 ] || touch -- "$p" || aic_fail "cannot create $p"
  elif [ "$mtime" != preserve ] || [ "$atime" != preserve ]; then
    aic_changed=1
    if [ "$CHECK" != 1 ]; then
      if [ "$mtime" != preserve ] && [ "$atime" != preserve ]; then touch -- "$p"
      elif [ "$mtime" != preserve ]; then touch -m -- "$p"
      else touch -a -- "$p"; fi || aic_fail "cannot touch $p"
    fi
  fi
  d=0; [ -d "$p" ] && d=1
  aic_attrs "$p" "$mode" "$owner" "$group" "$d";;
file)
  [ "$before" != absent ] || aic_fail "file ($p) is absent, cannot continue"
  [ "$before" != directory ] || aic_fail "$p is a directory, not a file (use state=directory)"
  aic_attrs "$p" "$mode" "$owner" "$group" 0;;
link)
  if [ "$before" = link ] && [ "$(readlink -- "$p")" = "$src" ]; then :
  else
    if [ "$before" = directory ]; then
      if [ "$force" = 1 ] && [ -z "$(ls -A -- "$p")" ]; then :; else aic_fail "refusing to convert from directory to symlink for $p"; fi
    elif [ "$before" = file ] && [ "$force" != 1 ]; then
      aic_fail "refusing to convert from file to symlink for $p (use force=yes)"
    fi
    case $src in /*) t=$src;; *) t="$(dirname -- "$p")/$src";; esac
    if [ ! -e "$t" ] && [ ! -L "$t" ] && [ "$force" != 1 ]; then aic_fail "src file does not exist, use force=yes if you really want to create the link: $t"; fi
    aic_changed=1
    if [ "$CHECK" != 1 ]; then
      [ "$before" = directory ] && { rmdir -- "$p" || aic_fail "cannot remove the empty directory $p"; }
      ln -sfn -- "$src" "$p" || aic_fail "cannot create the link $p"
    fi
  fi
  aic_attrs "$p" "" "$owner" "$group" 0;;
hard)
  [ -e "$src" ] || aic_fail "src does not exist: $src"
  if [ "$p" -ef "$src" ]; then :
  else
    [ "$before" = directory ] && aic_fail "refusing to replace the directory $p with a hard link"
    aic_changed=1
    [ "$CHECK" = 1 ] || ln -f -- "$src" "$p" || aic_fail "cannot create the hard link $p"
  fi
  aic_attrs "$p" "$mode" "$owner" "$group" 0;;
esac
aic_out state "$state"
aic_out changed "$aic_changed"
)SH";
    Step st;
    st.script = s;
    return Next::run(st);
  }

  Next resume(const ModuleCall& call, const std::vector<ExecResult>& done) const override {
    Outcome out = outcome_from_report(done.back());
    if (out.failed) return Next::done(out);
    auto rep = parse_report(done.back().stdout_text);
    out.extra["path"] = rep["path"];
    out.extra["state"] = rep["state"];
    if (call.diff && out.changed) {
      std::string before = "state: " + rep["state_before"] + "\n";
      std::string after = "state: " + rep["state"] + "\n";
      if (rep.count("mode_before")) {
        before += "mode: " + rep["mode_before"] + "\n";
        after += "mode: " + rep["mode_after"] + "\n";
      }
      if (rep.count("owner_before")) {
        before += "owner: " + rep["owner_before"] + "\n";
        after += "owner: " + call.args.str("owner") + "\n";
      }
      if (rep.count("group_before")) {
        before += "group: " + rep["group_before"] + "\n";
        after += "group: " + call.args.str("group") + "\n";
      }
      add_diff(out, rep["path"], before, after);
    }
    return Next::done(out);
  }

 private:
  static ModuleSpec make_spec() {
    ModuleSpec s;
    s.name = "file";
    s.aliases = {"ansible.builtin.file", "ansible.legacy.file"};
    s.summary = "Make a path a directory, file, link, or absent, with mode and owner";
    s.args = {{"path", ArgType::path, true, {"dest", "name"}},
              {"state", ArgType::str, false, {}, {"absent", "directory", "file", "hard", "link", "touch"}},
              {"src", ArgType::path},
              {"recurse", ArgType::boolean, false, {}, {}, false},
              {"force", ArgType::boolean, false, {}, {}, false},
              {"follow", ArgType::boolean, false, {}, {}, true},
              {"modification_time", ArgType::str, false, {}, {"now", "preserve"}},
              {"access_time", ArgType::str, false, {}, {"now", "preserve"}},
              {"unsafe_writes", ArgType::boolean}};
    for (auto& a : file_attr_args()) s.args.push_back(a);
    s.check = [](const json& args, std::vector<std::pair<std::string, std::string>>& problems) {
      std::string state = args.contains("state") && args["state"].is_string() ? args["state"].get<std::string>() : "";
      if ((state == "link" || state == "hard") && !args.contains("src"))
        problems.emplace_back("src", "state=" + state + " needs src (what the link points to)");
      if (args.contains("recurse") && args["recurse"] == true && !state.empty() && state != "directory")
        problems.emplace_back("recurse", "recurse needs state=directory");
    };
    return s;
  }
};

// ---------------------------------------------------------------------------
// lineinfile (Ansible's algorithm, see present()/absent() in its source)
// ---------------------------------------------------------------------------

const char* k_lineinfile_awk = R"AWK(
function strip(s) { sub(/\r+$/, "", s); return s }
function ins(p,   k) { for (k = n; k > p; k--) { L[k+1] = L[k]; NL[k+1] = NL[k] } L[p+1] = line; NL[p+1] = 1; n++; changed = 1; msg = "line added" }
BEGIN {
  line = ENVIRON["AIC_LINE"]; n = 0
  nre = split(ENVIRON["AIC_RE"], rel, " "); for (i = 1; i <= nre; i++) isre[rel[i] + 0] = 1
  nin = split(ENVIRON["AIC_INS"], inl, " "); for (i = 1; i <= nin; i++) isins[inl[i] + 0] = 1
}
{ n++; L[n] = $0; NL[n] = 1 }
END {
  if (n > 0 && ENVIRON["AIC_NONL"] == "1") NL[n] = 0
  mode = ENVIRON["AIC_MODE"]; hasre = ENVIRON["AIC_HASRE"] == "1"; fm = ENVIRON["AIC_FM"] == "1"
  ia = ENVIRON["AIC_IA"]; ib = ENVIRON["AIC_IB"]; br = ENVIRON["AIC_BR"] == "1"
  out = ENVIRON["AIC_OUT"]; changed = 0; found = 0; msg = ""
  if (mode == "absent") {
    m = 0
    for (i = 1; i <= n; i++) {
      hit = hasre ? (i in isre) : (strip(L[i]) == line)
      if (hit) { found++; continue }
      m++; L[m] = L[i]; NL[m] = NL[i]
    }
    n = m
    if (found > 0) { changed = 1; msg = found " line(s) removed" }
  } else {
    idx0 = 0; pos = -1; match0 = 0
    if (hasre) for (i = 1; i <= n; i++) if (i in isre) { idx0 = i; match0 = 1; if (fm) break }
    if (!match0) {
      for (i = 1; i <= n; i++) {
        if (strip(L[i]) == line) { idx0 = i }
        else if (i in isins) {
          if (ia != "") { pos = i; if (fm) break }
          if (ib != "") { pos = i - 1; if (fm) break }
        }
      }
    }
    newl = (br && match0) ? ENVIRON["AIC_BRLINE"] : line
    if (idx0 > 0) {
      if (!(L[idx0] == newl && NL[idx0] == 1)) { L[idx0] = newl; NL[idx0] = 1; changed = 1; msg = "line replaced" }
    } else if (br) {
    } else if (ib == "BOF" || ia == "BOF") { ins(0) }
    else if (ia == "EOF" || pos == -1) { if (n > 0) NL[n] = 1; ins(n) }
    else if (ia != "") {
      if (n == pos) { if (strip(L[pos]) != line) { NL[n] = 1; ins(n) } }
      else if (line != strip(L[pos + 1])) ins(pos)
    } else { ins(pos) }
  }
  for (i = 1; i <= n; i++) printf "%s%s", L[i], (NL[i] ? "\n" : "") > out
  close(out)
  print "changed=" changed
  print "found=" found
  if (msg != "") print "msg=" msg
}
)AWK";

class LineinfileModule : public BasicModule {
 public:
  LineinfileModule() : BasicModule(make_spec()) {}

  Next start(const ModuleCall& call) const override {
    const Args& a = call.args;
    std::string state = a.str("state", "present");
    std::string re_ere, ins_ere, sed_tpl;
    std::optional<TranslatedRegex> re;
    std::string why;
    if (a.has("regexp")) {
      re = python_regex_to_ere(a.str("regexp"), &why);
      if (!re) throw ExprEvalError("regexp: " + why);
      if (re->ere.find('\x01') != std::string::npos) throw ExprEvalError("regexp contains a control character \\x01");
      re_ere = re->ere;
    }
    std::string ia = a.str("insertafter"), ib = a.str("insertbefore");
    std::string ia_kind = ia.empty() ? "" : (ia == "EOF" || ia == "BOF") ? ia : "RE";
    std::string ib_kind = ib.empty() ? "" : ib == "BOF" ? ib : "RE";
    std::string ins_src = ia_kind == "RE" ? ia : ib_kind == "RE" ? ib : "";
    if (!ins_src.empty()) {
      auto t = python_regex_to_ere(ins_src, &why);
      if (!t) throw ExprEvalError(std::string(ia_kind == "RE" ? "insertafter" : "insertbefore") + ": " + why);
      ins_ere = t->ere;
    }
    bool backrefs = a.boolean("backrefs");
    if (backrefs && re) {
      auto t = python_template_to_sed(a.str("line"), *re, &why);
      if (!t) throw ExprEvalError("line: " + why);
      sed_tpl = *t;
    }
    std::string s = script_prelude(call.check);
    s += sh_var("f", a.str("path")) + sh_var("st", state) + sh_var("line", a.str("line")) + sh_var("re", re_ere) +
         sh_var("sstr", a.str("search_string")) + sh_var("ins", ins_ere) + sh_var("ia", ia_kind) +
         sh_var("ib", ib_kind) + sh_var("tpl", sed_tpl) + sh_var("mode", mode_arg(a)) + sh_var("owner", a.str("owner")) +
         sh_var("group", a.str("group")) + sh_var("awkprog", k_lineinfile_awk);
    s += std::string("fm=") + (a.boolean("firstmatch") ? "1" : "0") + " br=" + (backrefs ? "1" : "0") +
         " create=" + (a.boolean("create") ? "1" : "0") + " backup=" + (a.boolean("backup") ? "1" : "0") +
         " diff=" + (call.diff ? "1" : "0") + "\n";
    s += R"SH(aic_out path "$f"
[ -d "$f" ] && aic_fail "Destination $f is a directory !"
if [ -e "$f" ]; then src=$f
else
  if [ "$st" = absent ]; then aic_out msg "file not present"; aic_out changed 0; exit 0; fi
  [ "$create" = 1 ] || { aic_out rc 257; aic_fail "Destination $f does not exist !"; }
  src=/dev/null
fi
[ -r "$src" ] || aic_fail "cannot read $f"
aic_lines() { grep -n "$@" -- "$src" | cut -d: -f1 | tr '\n' ' '; }
relines=; inslines=; hasre=0
if [ -n "$re" ]; then
  printf '' | grep -E -e "$re" >/dev/null 2>&1; [ $? -le 1 ] || aic_fail "invalid regexp: $re"
  relines=$(aic_lines -E -e "$re"); hasre=1
elif [ -n "$sstr" ]; then
  relines=$(aic_lines -F -e "$sstr"); hasre=1
fi
if [ -n "$ins" ]; then
  printf '' | grep -E -e "$ins" >/dev/null 2>&1; [ $? -le 1 ] || aic_fail "invalid regexp: $ins"
  inslines=$(aic_lines -E -e "$ins")
fi
nonl=0
if [ -s "$src" ] && [ -n "$(tail -c 1 -- "$src")" ]; then nonl=1; fi
brline=
if [ "$br" = 1 ] && [ -n "$relines" ]; then
  if [ "$fm" = 1 ]; then no=${relines%% *}; else no=$(printf '%s\n' $relines | tail -n 1); fi
  mline=$(sed -n "${no}p" -- "$src")
  d=$(printf '\001'); m=$(printf '\002')
  case $mline in *"$d"*|*"$m"*) aic_fail "the matched line contains control characters that backrefs cannot carry";; esac
  exp=$(printf '%s\n' "$mline" | sed -E "s${d}${re}${d}${m}${tpl}${m}${d}") || aic_fail "expanding backrefs failed"
  brline=${exp#*"$m"}; brline=${brline%"$m"*}
fi
dir=$(dirname -- "$f")
if [ "$CHECK" = 1 ] || [ ! -d "$dir" ]; then tmp=$(mktemp); else tmp=$(mktemp "$dir/.aicloud.XXXXXX"); fi || aic_fail "cannot create a temporary file"
trap 'rm -f -- "$tmp"' EXIT
rep=$(AIC_LINE=$line AIC_BRLINE=$brline AIC_RE=$relines AIC_INS=$inslines AIC_MODE=$st AIC_HASRE=$hasre \
  AIC_IA=$ia AIC_IB=$ib AIC_FM=$fm AIC_BR=$br AIC_NONL=$nonl AIC_OUT=$tmp awk "$awkprog" "$src") || aic_fail "awk failed"
printf '%s\n' "$rep"
case $rep in *changed=1*)
  aic_changed=1
  if [ "$diff" = 1 ]; then aic_out before_b64 "$(aic_b64 "$src")"; aic_out after_b64 "$(aic_b64 "$tmp")"; fi
  if [ "$CHECK" != 1 ]; then
)SH";
    if (a.has("validate")) {
      std::string cmd = replace_all_literal(a.str("validate"), "%s", "\"$tmp\"");
      s += "    vout=$( { " + cmd + "\n} 2>&1 ) || aic_fail \"failed to validate: $vout\"\n";
    }
    s += R"SH(    [ -d "$dir" ] || mkdir -p -- "$dir" || aic_fail "cannot create $dir"
    aic_install "$tmp" "$f" "$backup"
  fi;;
esac
aic_attrs "$f" "$mode" "$owner" "$group" 0
aic_out changed "$aic_changed"
)SH";
    Step st;
    st.script = s;
    return Next::run(st);
  }

  Next resume(const ModuleCall& call, const std::vector<ExecResult>& done) const override {
    Outcome out = outcome_from_report(done.back());
    auto rep = parse_report(done.back().stdout_text);
    if (rep.count("rc")) out.rc = std::atoi(rep["rc"].c_str());
    if (out.failed) return Next::done(out);
    if (rep.count("found")) out.extra["found"] = std::atoi(rep["found"].c_str());
    if (rep.count("backup_file")) out.extra["backup"] = rep["backup_file"];
    if (call.diff && rep.count("after_b64"))
      add_diff(out, rep["path"], base64_decode(rep["before_b64"]).value_or(""), base64_decode(rep["after_b64"]).value_or(""));
    return Next::done(out);
  }

 private:
  static ModuleSpec make_spec() {
    ModuleSpec s;
    s.name = "lineinfile";
    s.aliases = {"ansible.builtin.lineinfile", "ansible.legacy.lineinfile"};
    s.summary = "Ensure a line is in a file (or not), optionally replacing a regexp match";
    s.args = {{"path", ArgType::path, true, {"dest", "destfile", "name"}},
              {"line", ArgType::str, false, {"value"}},
              {"regexp", ArgType::str, false, {"regex"}},
              {"search_string", ArgType::str},
              {"state", ArgType::str, false, {}, {"absent", "present"}, "present"},
              {"insertafter", ArgType::str},
              {"insertbefore", ArgType::str},
              {"create", ArgType::boolean, false, {}, {}, false},
              {"backrefs", ArgType::boolean, false, {}, {}, false},
              {"firstmatch", ArgType::boolean, false, {}, {}, false},
              {"backup", ArgType::boolean, false, {}, {}, false},
              {"validate", ArgType::str},
              {"unsafe_writes", ArgType::boolean}};
    for (auto& a : file_attr_args()) s.args.push_back(a);
    s.mutually_exclusive = {{"insertafter", "insertbefore"}, {"regexp", "search_string"}};
    s.check = [](const json& args, std::vector<std::pair<std::string, std::string>>& problems) {
      std::string state = args.contains("state") && args["state"].is_string() ? args["state"].get<std::string>() : "present";
      if (state == "present" && !args.contains("line")) problems.emplace_back("line", "state=present needs line");
      if (state == "absent" && !args.contains("line") && !args.contains("regexp") && !args.contains("search_string"))
        problems.emplace_back("", "state=absent needs one of line, regexp or search_string");
      if (args.contains("backrefs") && args["backrefs"] == true && !args.contains("regexp"))
        problems.emplace_back("backrefs", "backrefs needs regexp");
      if (args.contains("regexp") && args["regexp"].is_string() && Template::is_plain(args["regexp"].get<std::string>())) {
        std::string why;
        if (!python_regex_to_ere(args["regexp"].get<std::string>(), &why)) problems.emplace_back("regexp", why);
      }
      for (const char* k : {"insertafter", "insertbefore"}) {
        if (!args.contains(k) || !args[k].is_string()) continue;
        std::string v = args[k].get<std::string>();
        if (v == "EOF" || v == "BOF" || !Template::is_plain(v)) continue;
        std::string why;
        if (!python_regex_to_ere(v, &why)) problems.emplace_back(k, why);
      }
      check_validate(args, problems);
    };
    return s;
  }
};

// ---------------------------------------------------------------------------
// stat
// ---------------------------------------------------------------------------

class StatModule : public BasicModule {
 public:
  StatModule() : BasicModule(make_spec()) {}

  Next start(const ModuleCall& call) const override {
    const Args& a = call.args;
    std::string algo = a.str("checksum_algorithm", "sha1");
    std::string sum_cmd = algo == "md5" ? "md5sum" : algo == "sha256" ? "sha256sum" : algo == "sha512" ? "sha512sum"
                          : algo == "sha224" ? "sha224sum" : algo == "sha384" ? "sha384sum" : "sha1sum";
    std::string s = script_prelude(false);
    s += sh_var("p", a.str("path")) + sh_var("sumcmd", sum_cmd);
    s += std::string("follow=") + (a.boolean("follow") ? "1" : "0") + " cks=" + (a.boolean("get_checksum", true) ? "1" : "0") + "\n";
    s += R"SH(if [ ! -e "$p" ] && [ ! -L "$p" ]; then aic_out exists 0; exit 0; fi
aic_out exists 1
L=; [ "$follow" = 1 ] && L=-L
aic_out st "$(stat $L -c '%a|%s|%u|%g|%U|%G|%Y|%X|%Z|%i|%d|%h|%F' -- "$p")"
[ -L "$p" ] && { aic_out lnk_source "$(readlink -f -- "$p")"; aic_out lnk_target "$(readlink -- "$p")"; }
t=0; [ -r "$p" ] && t=1; aic_out readable $t
t=0; [ -w "$p" ] && t=1; aic_out writeable $t
t=0; [ -x "$p" ] && t=1; aic_out executable $t
if [ "$cks" = 1 ] && [ -f "$p" ] && [ -r "$p" ]; then aic_out checksum "$($sumcmd < "$p" | cut -d' ' -f1)"; fi
)SH";
    Step st;
    st.script = s;
    return Next::run(st);
  }

  Next resume(const ModuleCall& call, const std::vector<ExecResult>& done) const override {
    Outcome out = outcome_from_report(done.back());
    if (out.failed) return Next::done(out);
    auto rep = parse_report(done.back().stdout_text);
    json st = json::object();
    st["exists"] = rep["exists"] == "1";
    st["path"] = call.args.str("path");
    if (rep["exists"] == "1") {
      auto f = split(rep["st"], '|');
      if (f.size() >= 13) {
        auto num = [](const std::string& x) { return static_cast<std::int64_t>(std::strtoll(x.c_str(), nullptr, 10)); };
        std::string mode = f[0];
        while (mode.size() < 4) mode = "0" + mode;
        st["mode"] = mode;
        st["size"] = num(f[1]);
        st["uid"] = num(f[2]);
        st["gid"] = num(f[3]);
        st["pw_name"] = f[4];
        st["gr_name"] = f[5];
        st["mtime"] = num(f[6]);
        st["atime"] = num(f[7]);
        st["ctime"] = num(f[8]);
        st["inode"] = num(f[9]);
        st["dev"] = num(f[10]);
        st["nlink"] = num(f[11]);
        std::string type = f[12];
        st["isdir"] = type == "directory";
        st["isreg"] = type.find("regular") != std::string::npos;
        st["islnk"] = type == "symbolic link";
        st["isblk"] = type == "block special file";
        st["ischr"] = type == "character special file";
        st["isfifo"] = type == "fifo";
        st["issock"] = type == "socket";
      }
      st["readable"] = rep["readable"] == "1";
      st["writeable"] = rep["writeable"] == "1";
      st["executable"] = rep["executable"] == "1";
      if (rep.count("lnk_source")) {
        st["lnk_source"] = rep["lnk_source"];
        st["lnk_target"] = rep["lnk_target"];
      }
      if (rep.count("checksum")) st["checksum"] = rep["checksum"];
    }
    out.changed = false;
    out.extra["stat"] = st;
    return Next::done(out);
  }

 private:
  static ModuleSpec make_spec() {
    ModuleSpec s;
    s.name = "stat";
    s.aliases = {"ansible.builtin.stat", "ansible.legacy.stat"};
    s.summary = "Read a path's type, mode, owner, size and checksum into a registered result";
    s.args = {{"path", ArgType::path, true, {"dest", "name"}},
              {"follow", ArgType::boolean, false, {}, {}, false},
              {"get_checksum", ArgType::boolean, false, {}, {}, true},
              {"checksum_algorithm", ArgType::str, false, {"checksum", "checksum_algo"},
               {"md5", "sha1", "sha224", "sha256", "sha384", "sha512"}, "sha1"},
              {"get_mime", ArgType::boolean},
              {"get_attributes", ArgType::boolean}};
    return s;
  }
};

// ---------------------------------------------------------------------------
// fetch
// ---------------------------------------------------------------------------

class FetchModule : public BasicModule {
 public:
  FetchModule() : BasicModule(make_spec()) {}

  static std::string local_dest(const ModuleCall& call) {
    const Args& a = call.args;
    std::string src = a.str("src"), dest = a.str("dest");
    if (a.boolean("flat")) {
      if (!dest.empty() && dest.back() == '/') dest += basename_of(src);
      return dest;
    }
    if (call.host.find('/') != std::string::npos || call.host == ".." || call.host == ".")
      throw ExprEvalError("host name '" + call.host + "' cannot be a folder name");
    while (!dest.empty() && dest.back() == '/') dest.pop_back();
    std::string rel = src;
    if (rel.find("/../") != std::string::npos || starts_with(rel, "../") || ends_with(rel, "/..") || rel == "..")
      throw ExprEvalError("src must not contain '..' (it names the local path too)");
    return dest + "/" + call.host + (starts_with(rel, "/") ? rel : "/" + rel);
  }

  Next start(const ModuleCall& call) const override {
    const Args& a = call.args;
    std::string dest = local_dest(call);
    std::string have = file_exists(dest) ? sha256_file_hex(dest) : "";
    std::string s = script_prelude(call.check);
    s += sh_var("src", a.str("src")) + sh_var("have", have) + sh_var("marker", "@@aicloud:" + call.nonce + ":data");
    s += std::string("fom=") + (a.boolean("fail_on_missing", true) ? "1" : "0") + "\n";
    // In check mode a missing file is not an error: an earlier task would
    // have created it.
    s += R"SH(if [ ! -e "$src" ]; then
  [ "$fom" = 1 ] && [ "$CHECK" != 1 ] && aic_fail "the remote file does not exist: $src"
  aic_out missing 1; aic_out changed 0; exit 0
fi
[ -d "$src" ] && aic_fail "remote file is a directory, fetch cannot work on directories"
[ -r "$src" ] || aic_fail "file is not readable: $src"
sum=$(aic_sha256 "$src")
aic_out checksum "$sum"
if [ "$sum" = "$have" ]; then aic_out changed 0; exit 0; fi
aic_out changed 1
[ "$CHECK" = 1 ] && exit 0
printf '%s\n' "$marker"
exec cat -- "$src"
)SH";
    Step st;
    st.script = s;
    return Next::run(st);
  }

  Next resume(const ModuleCall& call, const std::vector<ExecResult>& done) const override {
    const ExecResult& r = done.back();
    Outcome out;
    if (step_failed(r, out)) return Next::done(out);
    std::string marker = "@@aicloud:" + call.nonce + ":data\n";
    auto at = r.stdout_text.find(marker);
    std::string head = at == std::string::npos ? r.stdout_text : r.stdout_text.substr(0, at);
    ExecResult head_only = r;
    head_only.stdout_text = head;
    out = outcome_from_report(head_only);
    if (out.failed) return Next::done(out);
    auto rep = parse_report(head);
    std::string dest = local_dest(call);
    out.extra["dest"] = dest;
    out.extra["checksum"] = rep["checksum"];
    if (rep["missing"] == "1") {
      out.msg = "the remote file does not exist, not transferring";
      return Next::done(out);
    }
    if (!out.changed || call.check) return Next::done(out);
    if (at == std::string::npos) {
      out.failed = true;
      out.msg = "the file contents did not arrive";
      return Next::done(out);
    }
    std::string data = r.stdout_text.substr(at + marker.size());
    if (call.args.boolean("validate_checksum", true) && sha256_hex(data) != rep["checksum"]) {
      out.failed = true;
      out.msg = "checksum mismatch: the file changed or was damaged in transfer";
      return Next::done(out);
    }
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(dest).parent_path(), ec);
    try {
      write_file_atomic(dest, data, 0644);
    } catch (const std::exception& e) {
      out.failed = true;
      out.msg = std::string("cannot write ") + dest + ": " + e.what();
    }
    return Next::done(out);
  }

 private:
  static ModuleSpec make_spec() {
    ModuleSpec s;
    s.name = "fetch";
    s.aliases = {"ansible.builtin.fetch", "ansible.legacy.fetch"};
    s.summary = "Bring a file from the node to DEST/HOST/PATH on the controller (checksum-verified)";
    s.args = {{"src", ArgType::path, true},
              {"dest", ArgType::path, true},
              {"flat", ArgType::boolean, false, {}, {}, false},
              {"fail_on_missing", ArgType::boolean, false, {}, {}, true},
              {"validate_checksum", ArgType::boolean, false, {}, {}, true}};
    return s;
  }
};

}  // namespace

std::vector<std::unique_ptr<Module>> make_file_modules() {
  std::vector<std::unique_ptr<Module>> out;
  out.push_back(std::make_unique<CopyModule>());
  out.push_back(std::make_unique<TemplateModule>());
  out.push_back(std::make_unique<FileModule>());
  out.push_back(std::make_unique<LineinfileModule>());
  out.push_back(std::make_unique<StatModule>());
  out.push_back(std::make_unique<FetchModule>());
  return out;
}

}  // namespace aicloud::provision::detail
