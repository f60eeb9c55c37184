// Range sets as ClusterShell keeps them, stored as sorted intervals.
//
// ClusterShell (RangeSet.py, v1.9) stores a range set as a Python set of
// index *strings*: "5", "05" and "005" are three different indexes, ordered
// by (length, text) with negative numbers first. We keep exactly that
// identity and order without one string per index: an index is a (band,
// value) pair where band 0 holds the negative numbers and band L >= 1 the
// digit strings of length L ("05" is band 2, value 5; "10" is band 2, value
// 10). A set is a sorted vector of intervals that never cross a band, so
// "node[1-1000000]" is seven intervals, and union, difference, intersection,
// membership and counting are linear merges over intervals.
//
// RangeSetND is a faithful port of ClusterShell's n-dimensional range set
// (a list of RangeSet vectors with its lazy "univariate" and "multivariate"
// folding). Its folding is a greedy heuristic whose result depends on the
// order of operations, so every step, including when folding happens, copies
// the Python code; that is what makes `fold` print exactly what
// `nodeset -f` prints for multi-dimensional names such as "r[1-2]n[01-04]".
//
// Internal to the inventory library; the public API is nodeset.hpp.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace aicloud::inventory::detail {

// Raised for any syntax or size problem; nodeset.cpp turns it into a
// NodeSetError (an InputError) carrying the pattern and column.
struct RangeError {
  std::string message;
};

// Indexes are limited to 18 significant digits (int64) and 64 characters.
constexpr int k_max_index_chars = 64;
constexpr std::int64_t k_max_index_value = 999'999'999'999'999'999LL;
// Stepped ranges (and "n[1-2]0", which ClusterShell reads as 10-20/10) are
// stored one index each; this bounds their size, and so the time a short
// pattern can cost (fuzzing found 23-byte selectors that took seconds per
// million indexes). No inventory holds more hosts than this anyway.
constexpr std::uint64_t k_max_stepped_indexes = 1'000'000ULL;

struct Interval {
  int band;          // 0: negative numbers; L >= 1: digit strings of length L
  std::int64_t lo;   // inclusive
  std::int64_t hi;   // inclusive
  bool operator==(const Interval&) const = default;
};

class RangeSet {
 public:
  RangeSet() = default;

  // RangeSet._parse(): "1-5,7,09-12,0-10/2", with ClusterShell's rules for
  // padding, negative numbers and steps. Throws RangeError.
  static RangeSet parse(std::string_view text);
  // One index written as digits ("007"), as _scan_string_single() keeps it.
  static RangeSet from_digits(std::string_view digits);
  static RangeSet single(int band, std::int64_t value);

  // Adds "%0*d" % (pad, i) for i in range(start, stop, step).
  void add_range(std::int64_t start, std::int64_t stop, std::int64_t step, int pad);

  bool empty() const { return m_iv.empty(); }
  std::uint64_t size() const;  // saturates at UINT64_MAX
  const std::vector<Interval>& intervals() const { return m_iv; }

  void update(const RangeSet& other);  // union
  void intersection_update(const RangeSet& other);
  void difference_update(const RangeSet& other);
  void symmetric_difference_update(const RangeSet& other);
  RangeSet intersection(const RangeSet& other) const;
  RangeSet difference(const RangeSet& other) const;

  bool intersects(const RangeSet& other) const;
  bool is_subset_of(const RangeSet& other) const;
  bool contains(int band, std::int64_t value) const;
  bool operator==(const RangeSet& other) const { return m_iv == other.m_iv; }

  // The text of the first / last index in ClusterShell's order (rg[0], rg[-1]).
  std::string first_text() const;
  std::string last_text() const;
  // str(RangeSet): "1-3,5,08-10" (contiguous runs, autostep disabled).
  std::string str() const;
  // Each contiguous run on its own (RangeSet.contiguous()).
  std::vector<std::string> runs() const;

  // Calls f(band, value) for every index in order.
  template <class F>
  void for_each(F&& f) const {
    for (const auto& iv : m_iv)
      for (std::int64_t v = iv.lo;; ++v) {
        f(iv.band, v);
        if (v == iv.hi) break;
      }
  }

 private:
  void normalize();  // sort and merge m_iv
  std::vector<Interval> m_iv;
};

// Appends the text of index (band, value) to out.
void append_index_text(std::string& out, int band, std::int64_t value);
std::string index_text(int band, std::int64_t value);
// Parses an index as written ("007", "-3"); false when it is not one.
bool parse_index_text(std::string_view text, int& band, std::int64_t& value);

// Python's int(str): surrounding whitespace, an optional sign, digits with
// single underscores between them. Throws RangeError when the value does not
// fit 18 digits; returns false when the text is not an integer at all.
bool py_int(std::string_view text, std::int64_t& out);

// Python's str.strip() and str.split(sep) on ASCII text, as the ClusterShell
// parser uses them.
bool is_py_space(char c);
std::string_view py_strip(std::string_view s);
std::vector<std::string_view> py_split(std::string_view s, char sep);

using RangeVec = std::vector<RangeSet>;

class RangeSetND {
 public:
  RangeSetND() = default;
  explicit RangeSetND(std::vector<RangeVec> veclist) : m_veclist(std::move(veclist)) {}

  std::size_t dim() const { return m_veclist.empty() ? 0 : m_veclist[0].size(); }
  bool truthy() const { return !m_veclist.empty(); }     // __bool__ (raw, no fold)
  const std::vector<RangeVec>& raw() const { return m_veclist; }
  const std::vector<RangeVec>& veclist();                 // folded
  std::uint64_t size();                                   // __len__ (folds)
  RangeSetND copy();                                      // folds self, then copies

  void update(const std::vector<RangeVec>& vecs);
  void update(const RangeSetND& other) { update(other.m_veclist); }
  void difference_update(const RangeSetND& other);
  void intersection_update(const RangeSetND& other);
  void symmetric_difference_update(RangeSetND& other);
  RangeSetND intersection(const RangeSetND& other);
  bool contains(const std::vector<std::pair<int, std::int64_t>>& point) const;

 private:
  void set_veclist(std::vector<RangeVec> v) {
    m_veclist = std::move(v);
    m_dirty = true;
  }
  void fold() {
    if (m_dirty) do_fold();
  }
  void do_fold();
  bool fold_univariate();
  void fold_multivariate();
  void sort_veclist();

  std::vector<RangeVec> m_veclist;
  bool m_dirty = true;
  bool m_multivar_hint = false;
};

// Largest number of points a multivariate fold may expand to (about 2 s and
// 250 MB at the default of 1,000,000); beyond it folding is refused. The
// fuzz targets lower it to keep each run short.
std::uint64_t max_fold_points();
void set_max_fold_points(std::uint64_t n);

}  // namespace aicloud::inventory::detail
