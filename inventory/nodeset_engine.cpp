// ClusterShell's NodeSetBase and ParsingEngine, ported (see
// nodeset_engine.hpp). Python names are kept in comments where the port is
// not obvious, so the two can be read side by side.
#include "inventory/nodeset_engine.hpp"

#include <algorithm>

namespace aicloud::inventory::detail {

namespace {

// Most patterns that Ansible-style letter ranges may multiply into.
constexpr std::size_t k_max_letter_patterns = 100'000;

std::string_view lstrip(std::string_view s) {
  while (!s.empty() && is_py_space(s.front())) s.remove_prefix(1);
  return s;
}
std::string_view rstrip(std::string_view s) {
  while (!s.empty() && is_py_space(s.back())) s.remove_suffix(1);
  return s;
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Appends text to a pattern key, escaping '%' as ClusterShell's
// _strip_escape() does.
void append_escaped(std::string& key, std::string_view text) {
  for (char c : text) {
    key.push_back(c);
    if (c == '%') key.push_back('%');
  }
}

// Position of the first operator (",!&^") and the operator itself.
std::size_t next_op(std::string_view s, char& op) {
  std::size_t pos = s.find_first_of(",!&^");
  op = pos == std::string_view::npos ? ',' : s[pos];
  return pos;
}

std::string join(const std::vector<std::string>& parts, char sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i) out.push_back(sep);
    out += parts[i];
  }
  return out;
}

class Parser {
 public:
  explicit Parser(std::string_view text) : m_text(text) {}

  std::size_t col(std::string_view part) const {
    if (part.data() >= m_text.data() && part.data() <= m_text.data() + m_text.size())
      return static_cast<std::size_t>(part.data() - m_text.data()) + 1;
    return 1;
  }
  [[noreturn]] void fail(std::string_view part, const std::string& msg) const {
    std::string m = msg;
    if (!part.empty()) m += " in \"" + std::string(part) + "\"";
    throw ParseError{m, col(part)};
  }
  [[noreturn]] void fail_range(std::string_view where, const RangeError& e) const {
    throw ParseError{"bad range: " + e.message, col(where)};
  }

  void scan(std::string_view part, std::string& pat, std::vector<RangeSet>& rsets) const {
    try {
      scan_single(part, pat, rsets);
    } catch (const RangeError& e) {
      throw ParseError{e.message, col(part)};
    }
  }

  // _amend_trailing_digits: "n[1-2]0" -> rng "10-20/10".
  void amend_trailing(std::string_view& sfx, std::string& rng, std::string_view where) const {
    std::size_t n = 0;
    while (n < sfx.size() && is_digit(sfx[n])) ++n;
    if (n == 0) return;
    if (rng.find('/') != std::string::npos)
      fail(sfx, "bad range: illegal trailing digits after range with steps");
    std::string_view digits = sfx.substr(0, n);
    std::vector<std::string> elems;
    for (std::string_view elem : py_split(rng, ',')) {
      std::vector<std::string> bounds;
      for (std::string_view b : py_split(elem, '-')) bounds.push_back(std::string(b) + std::string(digits));
      std::string s = join(bounds, '-');
      if (s.find('-') != std::string::npos) s += "/1" + std::string(n, '0');
      elems.push_back(std::move(s));
    }
    rng = join(elems, ',');
    sfx.remove_prefix(n);
    (void)where;
  }

  // _amend_leading_digits: "n1[0-5]" -> pfx "n", rng "10-15".
  void amend_leading(std::string_view& pfx, std::string& rng, std::string_view where) const {
    std::size_t n = 0;
    while (n < pfx.size() && is_digit(pfx[pfx.size() - 1 - n])) ++n;
    if (n == 0) return;
    std::string digits(pfx.substr(pfx.size() - n));
    RangeSet inner;
    try {
      inner = RangeSet::parse(rng);
    } catch (const RangeError& e) {
      fail_range(where, e);
    }
    std::vector<std::string> elems;
    for (const std::string& run : inner.runs()) {
      std::vector<std::string> bounds;
      for (std::string_view b : py_split(run, '-')) bounds.push_back(digits + std::string(b));
      elems.push_back(join(bounds, '-'));
    }
    rng = join(elems, ',');
    pfx.remove_suffix(n);
  }

  // Ansible-style bracket content: "01:50", "1:9:2", "a:f". Returns the
  // letters of an alphabetic range (and leaves rng alone), or rewrites a
  // numeric one into ClusterShell syntax ("01-50", "1-9/2").
  std::vector<std::string> ansible_range(std::string& rng, std::string_view where) const {
    auto parts = py_split(rng, ':');
    for (auto& p : parts) p = rstrip(lstrip(p));
    if (parts.size() != 2 && parts.size() != 3)
      fail(where, "bad range: an Ansible-style range is [begin:end] or [begin:end:step]");
    std::string_view beg = parts[0].empty() ? std::string_view("0") : parts[0];
    std::string_view end = parts[1];
    if (end.empty()) fail(where, "bad range: an Ansible-style range needs an end value");
    std::int64_t step = 1;
    try {
      if (parts.size() == 3 && (!py_int(parts[2], step) || step < 1))
        fail(where, "bad range: the step of an Ansible-style range must be a positive integer");
    } catch (const RangeError& e) {
      fail_range(where, e);
    }
    auto is_alpha = [](std::string_view s) {
      return s.size() == 1 && ((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'));
    };
    if (is_alpha(beg) && is_alpha(end)) {
      char b = beg[0], e = end[0];
      bool same_case = (b >= 'a') == (e >= 'a');
      if (!same_case || b > e) fail(where, "bad range: letters must be in order and of the same case ([a:f])");
      std::vector<std::string> letters;
      for (int c = b; c <= e; c += static_cast<int>(std::min<std::int64_t>(step, 26))) letters.emplace_back(1, static_cast<char>(c));
      return letters;
    }
    auto all_digits = [](std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), is_digit); };
    if (!all_digits(beg) || !all_digits(end))
      fail(where, "bad range: an Ansible-style range has numbers ([01:50]) or single letters ([a:f])");
    std::string e(end);
    if (beg.size() > 1 && beg[0] == '0') {
      if (beg.size() != end.size())
        fail(where, "bad range: a zero-padded range must have begin and end of the same length");
    } else {
      std::size_t z = 0;
      while (z + 1 < e.size() && e[z] == '0') ++z;
      e.erase(0, z);
    }
    rng = std::string(beg) + "-" + e;
    if (step != 1) rng += "/" + std::to_string(step);
    return {};
  }

  NodeSetBase parse() {
    NodeSetBase nodeset;
    std::string_view nsstr = rstrip(lstrip(m_text));
    bool more = !nsstr.empty();
    char next_op_code = ',';
    while (more && !nsstr.empty()) {
      nsstr = lstrip(nsstr);
      std::vector<RangeSet> rsets;
      char op_code = next_op_code;
      std::size_t op_idx = next_op(nsstr, next_op_code);
      std::size_t bracket_idx = nsstr.find('[');
      std::vector<std::string> newpats{std::string()};
      std::string_view token_start = nsstr;
      auto op_after = [&](std::size_t op, std::size_t br) { return op == std::string_view::npos || op > br; };

      if (bracket_idx != std::string_view::npos && op_after(op_idx, bracket_idx)) {
        // A pattern with brackets, e.g. "forbin[3,4-10]-ilo".
        std::string_view sfx = nsstr;
        while (bracket_idx != std::string_view::npos && op_after(op_idx, bracket_idx)) {
          std::size_t lb = sfx.find('[');
          std::string_view pfx = sfx.substr(0, lb);
          sfx = sfx.substr(lb + 1);
          std::size_t rb = sfx.find(']');
          if (rb == std::string_view::npos) fail(nsstr, "missing bracket");
          std::string_view rng_view = sfx.substr(0, rb);
          std::string rng(rng_view);
          sfx = sfx.substr(rb + 1);
          if (pfx.find(']') != std::string_view::npos) fail(pfx, "illegal closing bracket");
          if (!sfx.empty()) {
            std::size_t bra_end = sfx.find(']');
            std::size_t bra_start = sfx.find('[');
            long be = bra_end == std::string_view::npos ? -1 : static_cast<long>(bra_end);
            long bs = bra_start == std::string_view::npos ? be + 1 : static_cast<long>(bra_start);
            if (be >= 0 && be < bs) fail(sfx, "illegal closing bracket");
          }
          std::size_t pfxlen = pfx.size(), sfxlen = sfx.size();
          std::vector<std::string> letters;
          if (rng.find(':') != std::string::npos) letters = ansible_range(rng, rng_view);
          bool alpha = !letters.empty();
          if (sfxlen > 0 && !alpha) amend_trailing(sfx, rng, rng_view);
          std::string pfxpat;
          if (pfxlen > 0) {
            if (!alpha) amend_leading(pfx, rng, rng_view);
            if (!pfx.empty()) scan(pfx, pfxpat, rsets);
          }
          bracket_idx = sfx.find('[');
          op_idx = next_op(sfx, next_op_code);
          if (!sfx.empty() && sfx[0] == '[') fail(sfx, "illegal reopening bracket");
          if (alpha) {
            // Each letter combination is a pattern of its own: bound the
            // product, or "a[a:z]b[a:z]c[a:z]d[a:z]e[a:z]" (12 million
            // patterns from 30 characters, found by fuzzing) runs for minutes.
            if (newpats.size() * letters.size() > k_max_letter_patterns)
              fail(rng_view, "bad range: too many letter combinations (at most " +
                                 std::to_string(k_max_letter_patterns) + " patterns)");
            std::vector<std::string> grown;
            for (const auto& np : newpats)
              for (const auto& l : letters) grown.push_back(np + pfxpat + l);
            newpats = std::move(grown);
          } else {
            for (auto& np : newpats) np += pfxpat + "%s";
            try {
              rsets.push_back(RangeSet::parse(rng));
            } catch (const RangeError& e) {
              fail_range(rng_view, e);
            }
          }
        }
        op_idx = next_op(sfx, next_op_code);
        if (op_idx == std::string_view::npos) {
          more = false;
        } else {
          nsstr = sfx.substr(op_idx + 1);
          sfx = sfx.substr(0, op_idx);
          if (nsstr.empty()) fail({}, std::string("missing node set operand after '") + next_op_code + "'");
        }
        sfx = rstrip(sfx);
        if (!sfx.empty()) {
          std::string sfxpat;
          scan(sfx, sfxpat, rsets);
          for (auto& np : newpats) np += sfxpat;
        }
      } else {
        // A single node, or an operator before any bracket.
        std::string_view node;
        if (op_idx == std::string_view::npos) {
          node = nsstr;
          more = false;
        } else {
          node = nsstr.substr(0, op_idx);
          nsstr = nsstr.substr(op_idx + 1);
          if (node.empty() || nsstr.empty())
            fail(node.empty() ? nsstr : node,
                 std::string("missing node set operand with '") + next_op_code + "' operator");
        }
        if (node.find(']') != std::string_view::npos) fail(node, "illegal closing bracket");
        node = rstrip(node);
        scan(node, newpats[0], rsets);
      }

      for (const auto& np : newpats) {
        if (!np.empty() && np[0] == '@')
          fail(token_start, "node groups (@group) need an inventory: use a selector such as --limit @group");
        if (np.find_first_of("*?") != std::string::npos)
          fail(token_start, "wildcards need an inventory: use a selector such as --limit 'gpu-*'");
      }
      NodeSetBase token;
      for (std::size_t i = 0; i < newpats.size(); ++i) {
        NodeEntry e = entry_from(i + 1 == newpats.size() ? std::move(rsets) : rsets);
        token.add(newpats[i], std::move(e), false);
      }
      switch (op_code) {
        case ',': nodeset.update(token); break;
        case '!': nodeset.difference_update(token); break;
        case '&': nodeset.intersection_update(token); break;
        case '^': nodeset.symmetric_difference_update(token); break;
      }
    }
    return nodeset;
  }

 private:
  std::string_view m_text;
};

std::size_t index_count(std::string_view pat) {
  std::size_t n = 0;
  for (std::size_t i = 0; i + 1 < pat.size(); ++i)
    if (pat[i] == '%') {
      if (pat[i + 1] == 's') ++n;
      ++i;
    }
  return n;
}

}  // namespace

// ---------------------------------------------------------------------------

void scan_single(std::string_view name, std::string& pattern, std::vector<RangeSet>& rsets) {
  // re.finditer(r"(\D*)(\d*)") without the final empty match.
  if (name.empty()) throw RangeError{"parse error (empty node name)"};
  std::size_t i = 0;
  while (i < name.size()) {
    std::size_t p0 = i;
    while (i < name.size() && !is_digit(name[i])) ++i;
    std::size_t d0 = i;
    while (i < name.size() && is_digit(name[i])) ++i;
    append_escaped(pattern, name.substr(p0, d0 - p0));
    if (i > d0) {
      pattern += "%s";
      rsets.push_back(RangeSet::from_digits(name.substr(d0, i - d0)));
    }
  }
}

NodeEntry entry_from(std::vector<RangeSet> rsets) {
  NodeEntry e;
  if (rsets.size() == 1) {
    e.kind = NodeEntry::Kind::one;
    e.one = std::move(rsets[0]);
  } else if (rsets.size() > 1) {
    e.kind = NodeEntry::Kind::nd;
    e.nd = RangeSetND(std::vector<RangeVec>{std::move(rsets)});
  }
  return e;
}

void render_pattern(std::string& out, std::string_view pat, const std::vector<std::string_view>& idx) {
  std::size_t k = 0;
  for (std::size_t i = 0; i < pat.size(); ++i) {
    if (pat[i] == '%' && i + 1 < pat.size()) {
      if (pat[i + 1] == 's') {
        if (k < idx.size()) out.append(idx[k]);
        ++k;
      } else {
        out.push_back(pat[i + 1]);
      }
      ++i;
    } else {
      out.push_back(pat[i]);
    }
  }
}

NodeEntry NodeEntry::copy() {
  NodeEntry c;
  c.kind = kind;
  if (kind == Kind::one) c.one = one;
  if (kind == Kind::nd) c.nd = nd.copy();
  return c;
}

namespace {

// _add() on an existing pattern: merge entry into pe.
void merge_entry(NodeEntry& pe, const NodeEntry& entry) {
  if ((pe.kind == NodeEntry::Kind::none) != (entry.kind == NodeEntry::Kind::none) ||
      (pe.truthy() && entry.truthy() && pe.kind != entry.kind))
    throw RangeError{"invalid operation"};
  if (pe.truthy()) {
    if (pe.kind == NodeEntry::Kind::one)
      pe.one.update(entry.one);
    else
      pe.nd.update(entry.nd);
  }
}

}  // namespace

void NodeSetBase::add(const std::string& pat, NodeEntry entry, bool copy_rangeset) {
  auto it = m_patterns.find(pat);
  if (it != m_patterns.end()) {
    merge_entry(it->second, entry);
    return;
  }
  if (entry.truthy() && copy_rangeset) entry = entry.copy();
  m_patterns.emplace(pat, std::move(entry));
}

void NodeSetBase::update(NodeSetBase& other) {
  for (auto& [pat, e] : other.m_patterns) {
    auto it = m_patterns.find(pat);
    if (it != m_patterns.end())
      merge_entry(it->second, e);
    else
      m_patterns.emplace(pat, e.truthy() ? e.copy() : e);  // copy() folds other's entry, as in Python
  }
}

void NodeSetBase::difference_update(NodeSetBase& other) {
  std::vector<std::string> purge;
  for (auto& [pat, e] : other.m_patterns) {
    auto it = m_patterns.find(pat);
    if (it == m_patterns.end()) continue;
    NodeEntry& mine = it->second;
    if (mine.truthy()) {
      std::uint64_t left = 0;
      if (mine.kind == NodeEntry::Kind::one) {
        mine.one.difference_update(e.one);
        left = mine.one.size();
      } else {
        mine.nd.difference_update(e.nd);
        left = mine.nd.size();
      }
      if (left == 0) purge.push_back(pat);
    } else {
      purge.push_back(pat);
    }
  }
  for (const auto& p : purge) m_patterns.erase(p);
}

void NodeSetBase::intersection_update(NodeSetBase& other) {
  NodeSetBase tmp;
  for (auto& [pat, ie] : other.m_patterns) {
    auto it = m_patterns.find(pat);
    if (it != m_patterns.end() && it->second.truthy()) {
      NodeEntry& mine = it->second;
      NodeEntry irset;
      irset.kind = mine.kind;
      std::uint64_t n = 0;
      if (mine.kind == NodeEntry::Kind::one) {
        irset.one = mine.one.intersection(ie.one);
        n = irset.one.size();
      } else {
        irset.nd = mine.nd.intersection(ie.nd);
        n = irset.nd.size();
      }
      if (n > 0) tmp.add(pat, std::move(irset), false);
    } else if (!ie.truthy() && it != m_patterns.end()) {
      tmp.add(pat, NodeEntry{}, false);
    }
  }
  m_patterns = std::move(tmp.m_patterns);
}

void NodeSetBase::symmetric_difference_update(NodeSetBase& other) {
  std::vector<std::string> purge;
  for (auto& [pat, mine] : m_patterns) {
    auto ot = other.m_patterns.find(pat);
    if (ot != other.m_patterns.end() && ot->second.truthy()) {
      if (mine.kind == NodeEntry::Kind::one)
        mine.one.symmetric_difference_update(ot->second.one);
      else if (mine.kind == NodeEntry::Kind::nd)
        mine.nd.symmetric_difference_update(ot->second.nd);
    } else if (ot != other.m_patterns.end()) {
      purge.push_back(pat);
    }
  }
  for (auto& [pat, brs] : other.m_patterns) {
    if (m_patterns.find(pat) == m_patterns.end()) {
      NodeEntry c = brs.truthy() ? brs.copy() : NodeEntry{};
      m_patterns.emplace(pat, std::move(c));
    }
  }
  for (auto& [pat, mine] : m_patterns) {
    if (mine.kind == NodeEntry::Kind::one && mine.one.size() == 0) purge.push_back(pat);
    if (mine.kind == NodeEntry::Kind::nd && mine.nd.size() == 0) purge.push_back(pat);
  }
  for (const auto& p : purge) m_patterns.erase(p);
}

std::uint64_t NodeSetBase::size() {
  std::uint64_t n = 0;
  auto add = [&n](std::uint64_t k) { n = n > UINT64_MAX - k ? UINT64_MAX : n + k; };
  for (auto& [pat, e] : m_patterns) {
    if (e.kind == NodeEntry::Kind::none)
      add(1);
    else if (e.kind == NodeEntry::Kind::one)
      add(e.one.size());
    else
      add(e.nd.size());
  }
  return n;
}

std::string NodeSetBase::str() {
  std::string out;
  std::vector<std::string> texts;
  std::vector<std::string_view> views;
  for (auto& kv : m_patterns) {
    const std::string& pat = kv.first;
    NodeEntry& e = kv.second;
    auto emit = [&] {
      views.assign(texts.begin(), texts.end());
      if (!out.empty()) out.push_back(',');
      render_pattern(out, pat, views);
    };
    texts.clear();
    if (e.kind == NodeEntry::Kind::none) {
      emit();
    } else if (e.kind == NodeEntry::Kind::one) {
      std::string rgs = e.one.str();
      texts.push_back(e.one.size() > 1 ? "[" + rgs + "]" : rgs);
      emit();
    } else {
      for (const RangeVec& vec : e.nd.veclist()) {
        texts.clear();
        for (const RangeSet& rg : vec) texts.push_back(rg.size() > 1 ? "[" + rg.str() + "]" : rg.str());
        emit();
      }
    }
  }
  return out;
}

void NodeSetBase::for_each(const std::function<void(std::string_view)>& f) {
  std::string buf;
  for (auto& [pat, e] : m_patterns) {
    if (e.kind == NodeEntry::Kind::none) {
      buf.clear();
      render_pattern(buf, pat, {});
      f(buf);
    } else if (e.kind == NodeEntry::Kind::one) {
      // "prefix%ssuffix": render the parts once, then only the index.
      std::string prefix, suffix;
      std::size_t at = std::string::npos;
      for (std::size_t i = 0; i + 1 < pat.size(); ++i)
        if (pat[i] == '%') {
          if (pat[i + 1] == 's') {
            at = i;
            break;
          }
          ++i;
        }
      render_pattern(prefix, std::string_view(pat).substr(0, at), {});
      render_pattern(suffix, std::string_view(pat).substr(at + 2), {});
      e.one.for_each([&](int band, std::int64_t v) {
        buf.assign(prefix);
        append_index_text(buf, band, v);
        buf.append(suffix);
        f(buf);
      });
    } else {
      std::size_t d = index_count(pat);
      for (const RangeVec& vec : e.nd.veclist()) {
        std::vector<std::vector<std::string>> axes(vec.size());
        for (std::size_t i = 0; i < vec.size(); ++i)
          vec[i].for_each([&](int band, std::int64_t v) { axes[i].push_back(index_text(band, v)); });
        std::vector<std::size_t> idx(vec.size(), 0);
        std::vector<std::string_view> views(vec.size());
        bool done = vec.empty() || d != vec.size();
        while (!done) {
          for (std::size_t i = 0; i < vec.size(); ++i) views[i] = axes[i][idx[i]];
          buf.clear();
          render_pattern(buf, pat, views);
          f(buf);
          std::size_t k = vec.size();
          while (true) {
            if (k == 0) {
              done = true;
              break;
            }
            --k;
            if (++idx[k] < axes[k].size()) break;
            idx[k] = 0;
          }
        }
      }
    }
  }
}

bool NodeSetBase::contains(std::string_view name) {
  std::string pat;
  std::vector<RangeSet> rsets;
  try {
    scan_single(rstrip(lstrip(name)), pat, rsets);
  } catch (const RangeError&) {
    return false;
  }
  auto it = m_patterns.find(pat);
  if (it == m_patterns.end()) return false;
  NodeEntry& e = it->second;
  if (e.kind == NodeEntry::Kind::none) return rsets.empty();
  std::vector<std::pair<int, std::int64_t>> point;
  for (const auto& rs : rsets) point.push_back({rs.intervals()[0].band, rs.intervals()[0].lo});
  if (e.kind == NodeEntry::Kind::one) return point.size() == 1 && e.one.contains(point[0].first, point[0].second);
  return e.nd.contains(point);
}

NodeSetBase parse_nodeset_string(std::string_view text) { return Parser(text).parse(); }

NodeSetBase parse_nodeset_args(const std::vector<std::string>& args, std::size_t* bad_arg) {
  NodeSetBase xset;
  for (std::size_t a = 0; a < args.size(); ++a) {
    const std::string& arg = args[a];
    NodeSetBase inst;
    // str.splitlines()
    std::size_t start = 0;
    while (start < arg.size()) {
      std::size_t end = start;
      while (end < arg.size() && arg[end] != '\n' && arg[end] != '\r' && arg[end] != '\v' && arg[end] != '\f' &&
             arg[end] != '\x1c' && arg[end] != '\x1d' && arg[end] != '\x1e')
        ++end;
      std::string_view line(arg.data() + start, end - start);
      try {
        NodeSetBase ns = parse_nodeset_string(line);
        inst.update(ns);
      } catch (ParseError& e) {
        if (bad_arg) *bad_arg = a;
        e.column += start;
        throw;
      } catch (const RangeError& e) {
        if (bad_arg) *bad_arg = a;
        throw ParseError{e.message, start + 1};
      }
      if (end < arg.size() && arg[end] == '\r' && end + 1 < arg.size() && arg[end + 1] == '\n') ++end;
      start = end + 1;
    }
    try {
      xset.update(inst);
    } catch (const RangeError& e) {
      if (bad_arg) *bad_arg = a;
      throw ParseError{e.message, 1};
    }
  }
  return xset;
}

}  // namespace aicloud::inventory::detail
