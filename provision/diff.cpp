// Myers' diff over lines, then hunks with context, printed in the format of
// `diff -u`. When the edit distance is beyond k_max_edits the whole file is
// shown as replaced, which is still a correct diff.
#include "provision/diff.hpp"

#include <algorithm>
#include <string_view>
#include <vector>

namespace aicloud::provision {

namespace {

constexpr long k_max_edits = 1000;

struct Lines {
  std::vector<std::string> items;  // the last one ends in '\0' when it has no newline
  bool final_newline = true;
};

Lines split_lines(const std::string& s) {
  Lines out;
  std::size_t start = 0;
  while (start < s.size()) {
    auto nl = s.find('\n', start);
    if (nl == std::string::npos) {
      // Marked so that "b" and "b\n" compare different, as diff -u shows.
      out.items.push_back(s.substr(start) + '\0');
      out.final_newline = false;
      break;
    }
    out.items.push_back(s.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

enum class Edit { keep, del, ins };

// The edit script from a to b; empty optional when too many edits.
bool myers(const std::vector<std::string>& a, const std::vector<std::string>& b, std::vector<Edit>& script) {
  const long n = static_cast<long>(a.size()), m = static_cast<long>(b.size());
  const long max = std::min(n + m, k_max_edits);
  const long off = max + 1;
  std::vector<long> v(static_cast<std::size_t>(2 * max + 3), 0);
  std::vector<std::vector<long>> trace;
  long found_d = -1;
  for (long d = 0; d <= max; ++d) {
    // Keep only the diagonals d can reach from: k in [-(d+1), d+1].
    trace.emplace_back(v.begin() + (off - d - 1), v.begin() + (off + d + 2));
    for (long k = -d; k <= d; k += 2) {
      long x;
      if (k == -d || (k != d && v[static_cast<std::size_t>(off + k - 1)] < v[static_cast<std::size_t>(off + k + 1)]))
        x = v[static_cast<std::size_t>(off + k + 1)];
      else
        x = v[static_cast<std::size_t>(off + k - 1)] + 1;
      long y = x - k;
      while (x < n && y < m && a[static_cast<std::size_t>(x)] == b[static_cast<std::size_t>(y)]) {
        ++x;
        ++y;
      }
      v[static_cast<std::size_t>(off + k)] = x;
      if (x >= n && y >= m) {
        found_d = d;
        break;
      }
    }
    if (found_d >= 0) break;
  }
  if (found_d < 0) return false;
  // Backtrack.
  long x = n, y = m;
  std::vector<Edit> rev;
  for (long d = found_d; d > 0; --d) {
    const auto& pv = trace[static_cast<std::size_t>(d)];
    auto at = [&](long k) { return pv[static_cast<std::size_t>(k + d + 1)]; };
    long k = x - y;
    long prev_k;
    if (k == -d || (k != d && at(k - 1) < at(k + 1)))
      prev_k = k + 1;
    else
      prev_k = k - 1;
    long prev_x = at(prev_k);
    long prev_y = prev_x - prev_k;
    while (x > prev_x && y > prev_y) {
      rev.push_back(Edit::keep);
      --x;
      --y;
    }
    if (x == prev_x)
      rev.push_back(Edit::ins);
    else
      rev.push_back(Edit::del);
    x = prev_x;
    y = prev_y;
  }
  while (x > 0 && y > 0) {
    rev.push_back(Edit::keep);
    --x;
    --y;
  }
  script.assign(rev.rbegin(), rev.rend());
  return true;
}

std::string range(long start, long count) {
  // diff -u: "l,s" with l 1-based; an empty range names the line before it.
  if (count == 1) return std::to_string(start + 1);
  if (count == 0) return std::to_string(start) + ",0";
  return std::to_string(start + 1) + "," + std::to_string(count);
}

}  // namespace

std::string unified_diff(const std::string& before, const std::string& after, const std::string& from_label,
                         const std::string& to_label, int context) {
  if (before == after) return "";
  if (before.find('\0') != std::string::npos || after.find('\0') != std::string::npos)
    return "Binary files " + from_label + " and " + to_label + " differ\n";
  Lines a = split_lines(before), b = split_lines(after);
  std::vector<Edit> script;
  if (!myers(a.items, b.items, script)) {
    script.assign(a.items.size(), Edit::del);
    script.insert(script.end(), b.items.size(), Edit::ins);
  }
  // Positions of each edit in a and b.
  struct Op {
    Edit e;
    long ai, bi;
  };
  std::vector<Op> ops;
  long ai = 0, bi = 0;
  for (Edit e : script) {
    ops.push_back({e, ai, bi});
    if (e != Edit::ins) ++ai;
    if (e != Edit::del) ++bi;
  }
  std::string out = "--- " + from_label + "\n+++ " + to_label + "\n";
  const long total = static_cast<long>(ops.size());
  long i = 0;
  auto line_text = [&](const Op& op) -> std::string {
    std::string s = op.e == Edit::ins ? b.items[static_cast<std::size_t>(op.bi)] : a.items[static_cast<std::size_t>(op.ai)];
    bool no_newline = !s.empty() && s.back() == '\0';
    if (no_newline) s.pop_back();
    std::string l = std::string(op.e == Edit::keep ? " " : op.e == Edit::del ? "-" : "+") + s + "\n";
    if (no_newline) l += "\\ No newline at end of file\n";
    return l;
  };
  while (i < total) {
    while (i < total && ops[static_cast<std::size_t>(i)].e == Edit::keep) ++i;
    if (i >= total) break;
    long start = std::max(0L, i - context);
    long end = i;
    // Extend while changes are closer than 2*context apart.
    while (true) {
      while (end < total && ops[static_cast<std::size_t>(end)].e != Edit::keep) ++end;
      long next = end;
      while (next < total && ops[static_cast<std::size_t>(next)].e == Edit::keep) ++next;
      if (next < total && next - end <= 2 * context) {
        end = next;
        continue;
      }
      end = std::min(total, end + context);
      break;
    }
    long a_start = ops[static_cast<std::size_t>(start)].ai, b_start = ops[static_cast<std::size_t>(start)].bi;
    long a_count = 0, b_count = 0;
    for (long k = start; k < end; ++k) {
      if (ops[static_cast<std::size_t>(k)].e != Edit::ins) ++a_count;
      if (ops[static_cast<std::size_t>(k)].e != Edit::del) ++b_count;
    }
    out += "@@ -" + range(a_start, a_count) + " +" + range(b_start, b_count) + " @@\n";
    for (long k = start; k < end; ++k) out += line_text(ops[static_cast<std::size_t>(k)]);
    i = end;
  }
  return out;
}

}  // namespace aicloud::provision
