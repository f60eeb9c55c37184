// Building blocks for the POSIX shell that modules run on nodes: quoting,
// the shared helper functions every module script starts with, file modes,
// Python-regex to POSIX-ERE translation (lineinfile's regexp runs through
// grep -E / sed -E on the node), shlex-style splitting and base64.
//
// The rule that keeps hostile values harmless: a value from a playbook,
// inventory or fact only ever enters a script through sh_var() or q(),
// which make it one single-quoted literal word.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aicloud::provision {

// One shell word holding the value literally (common/strings shell_quote).
std::string q(std::string_view value);
// "NAME=<quoted value>\n"
std::string sh_var(std::string_view name, std::string_view value);

// Helper functions shared by module scripts, POSIX sh + coreutils only:
// aic_out KEY VALUE (report), aic_fail MSG, aic_sha256 FILE, aic_b64 FILE,
// aic_attrs PATH MODE OWNER GROUP ISDIR (compare and fix), aic_install TMP
// DEST BACKUP (rename over DEST keeping its mode/owner), aic_put PATH TEXT,
// aic_del PATH, aic_exists GLOB. `check` sets CHECK=1, which every apply
// part honours.
std::string script_prelude(bool check);

// A file mode as the node's `stat -c %a` prints it: "0644" -> "644",
// "01777" -> "1777". Symbolic modes ("u=rw,g=r,o=r", "u+x") are returned
// unchanged and resolved on the node. nullopt (and *why) when invalid.
std::optional<std::string> canonical_mode(std::string_view mode, std::string* why);

// Translates a Python `re` pattern, as Ansible's lineinfile takes it, into a
// POSIX extended regular expression for grep -E and sed -E: \d \s \w and
// their negations, (?:...) and (?P<name>...) groups, lazy quantifiers (same
// matches for line selection). Lookarounds and backreferences inside the
// pattern have no ERE equivalent and are refused with *why.
struct TranslatedRegex {
  std::string ere;
  std::vector<int> group_map;                            // python group n -> ERE group group_map[n]
  std::vector<std::pair<std::string, int>> named_groups;  // name -> python group number
};
std::optional<TranslatedRegex> python_regex_to_ere(std::string_view pattern, std::string* why);

// Translates a Python match.expand() template ("\1", "\g<1>", "\g<name>")
// into a sed replacement for the translated regex. nullopt when invalid.
std::optional<std::string> python_template_to_sed(std::string_view tmpl, const TranslatedRegex& re, std::string* why);

// Splits a command line the way Python's shlex.split does (POSIX mode).
// nullopt when a quote is not closed.
std::optional<std::vector<std::string>> shlex_split(std::string_view line);

std::string base64_encode(std::string_view bytes);
// Ignores whitespace; nullopt on invalid input.
std::optional<std::string> base64_decode(std::string_view text);

// Replaces every occurrence of `from` (non-empty) in s.
std::string replace_all_literal(std::string s, std::string_view from, std::string_view to);

// A random hex token (marks protocol lines in command output).
std::string random_nonce();

}  // namespace aicloud::provision
