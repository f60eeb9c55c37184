// Range sets and n-dimensional range sets, ported from ClusterShell 1.9
// (RangeSet.py) onto sorted intervals. See rangeset.hpp for the model.
#include "inventory/rangeset.hpp"

#include <algorithm>
#include <limits>
#include <numeric>

namespace aicloud::inventory::detail {

namespace {

constexpr std::int64_t k_pow10[] = {1LL,
                                    10LL,
                                    100LL,
                                    1000LL,
                                    10000LL,
                                    100000LL,
                                    1000000LL,
                                    10000000LL,
                                    100000000LL,
                                    1000000000LL,
                                    10000000000LL,
                                    100000000000LL,
                                    1000000000000LL,
                                    10000000000000LL,
                                    100000000000000LL,
                                    1000000000000000LL,
                                    10000000000000000LL,
                                    100000000000000000LL,
                                    1000000000000000000LL};

// 10^n, or "infinity" (above every allowed index) for n >= 19.
std::int64_t pow10_cap(int n) { return n <= 18 ? k_pow10[n] : std::numeric_limits<std::int64_t>::max(); }

int ndigits(std::int64_t v) {
  int n = 1;
  while (n < 19 && v >= k_pow10[n]) ++n;
  return n;
}

std::string_view lstrip_zeros(std::string_view s) {
  while (!s.empty() && s.front() == '0') s.remove_prefix(1);
  return s;
}

[[noreturn]] void fail(std::string_view part, std::string_view msg) {
  std::string m(msg);
  if (!part.empty()) {
    m += " : \"";
    m += part;
    m += "\"";
  }
  throw RangeError{std::move(m)};
}

bool is_padded(int band, std::int64_t value) { return band >= 2 && ndigits(value) < band; }

bool before(const Interval& a, const Interval& b) {
  return a.band < b.band || (a.band == b.band && a.lo < b.lo);
}

}  // namespace

bool is_py_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' || c == '\x1c' ||
         c == '\x1d' || c == '\x1e' || c == '\x1f';
}

std::string_view py_strip(std::string_view s) {
  while (!s.empty() && is_py_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_py_space(s.back())) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> py_split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    std::size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

bool py_int(std::string_view text, std::int64_t& out) {
  std::string_view s = py_strip(text);
  bool neg = false;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    neg = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return false;
  std::int64_t v = 0;
  bool prev_digit = false;
  bool too_big = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c >= '0' && c <= '9') {
      if (v > (k_max_index_value - (c - '0')) / 10)
        too_big = true;
      else
        v = v * 10 + (c - '0');
      prev_digit = true;
    } else if (c == '_' && prev_digit && i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '9') {
      prev_digit = false;
    } else {
      return false;
    }
  }
  if (too_big) fail(text, "number too large (indexes are limited to 18 digits)");
  out = neg ? -v : v;
  return true;
}

void append_index_text(std::string& out, int band, std::int64_t value) {
  char buf[24];
  int n = 0;
  bool neg = value < 0;
  std::uint64_t u = neg ? static_cast<std::uint64_t>(-(value + 1)) + 1 : static_cast<std::uint64_t>(value);
  do {
    buf[n++] = static_cast<char>('0' + u % 10);
    u /= 10;
  } while (u);
  if (neg) {
    out.push_back('-');
  } else {
    for (int pad = band - n; pad > 0; --pad) out.push_back('0');
  }
  while (n) out.push_back(buf[--n]);
}

std::string index_text(int band, std::int64_t value) {
  std::string s;
  append_index_text(s, band, value);
  return s;
}

bool parse_index_text(std::string_view text, int& band, std::int64_t& value) {
  if (text.empty() || text.size() > static_cast<std::size_t>(k_max_index_chars)) return false;
  std::int64_t v = 0;
  int significant = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    if (v != 0 || c != '0') ++significant;
    if (significant > 18) return false;
    v = v * 10 + (c - '0');
  }
  band = static_cast<int>(text.size());
  value = v;
  return true;
}

// ---------------------------------------------------------------------------
// RangeSet
// ---------------------------------------------------------------------------

RangeSet RangeSet::single(int band, std::int64_t value) {
  RangeSet rs;
  rs.m_iv.push_back({band, value, value});
  return rs;
}

RangeSet RangeSet::from_digits(std::string_view digits) {
  int band = 0;
  std::int64_t v = 0;
  if (!parse_index_text(digits, band, v)) {
    if (digits.size() > static_cast<std::size_t>(k_max_index_chars))
      fail(digits, "index too long (at most 64 digits)");
    fail(digits, "invalid rangeset index (indexes are limited to 18 significant digits)");
  }
  RangeSet rs;
  rs.m_iv.push_back({band, v, v});
  return rs;
}

void RangeSet::normalize() {
  if (m_iv.size() < 2) return;
  if (!std::is_sorted(m_iv.begin(), m_iv.end(), before)) std::sort(m_iv.begin(), m_iv.end(), before);
  std::size_t w = 0;
  for (std::size_t r = 1; r < m_iv.size(); ++r) {
    Interval& cur = m_iv[w];
    const Interval& nx = m_iv[r];
    if (nx.band == cur.band && nx.lo <= cur.hi + 1) {
      cur.hi = std::max(cur.hi, nx.hi);
    } else {
      m_iv[++w] = nx;
    }
  }
  m_iv.resize(w + 1);
}

namespace {

// Appends the intervals of "%0*d" % (pad, i) for i in [start, stop) to out.
void push_contiguous(std::vector<Interval>& out, std::int64_t start, std::int64_t stop, int pad) {
  if (start < 0) {
    std::int64_t hi = std::min<std::int64_t>(stop, 0) - 1;
    out.push_back({0, start, hi});
    start = 0;
  }
  if (start >= stop) return;
  int p = std::max(pad, 1);
  // Band p holds every value with at most p digits.
  std::int64_t band_end = pow10_cap(p);
  if (start < band_end) {
    out.push_back({p, start, std::min(stop, band_end) - 1});
    start = std::min(stop, band_end);
  }
  for (int len = p + 1; start < stop && len <= 19; ++len) {
    std::int64_t lo = pow10_cap(len - 1), hi_excl = pow10_cap(len);
    if (start >= hi_excl) continue;
    std::int64_t a = std::max(start, lo), b = std::min(stop, hi_excl);
    if (a < b) out.push_back({len, a, b - 1});
    start = b;
  }
}

}  // namespace

void RangeSet::add_range(std::int64_t start, std::int64_t stop, std::int64_t step, int pad) {
  if (start >= stop) fail("", "please provide ordered node index ranges");
  if (step < 1) fail("", "invalid step");
  if (pad > k_max_index_chars) fail("", "padding too long (at most 64 digits)");
  if (stop - 1 > k_max_index_value || start < -k_max_index_value)
    fail("", "index too large (indexes are limited to 18 digits)");
  if (stop - start >= 1'000'000'000LL) fail("", "range too large");
  if (step == 1) {
    push_contiguous(m_iv, start, stop, pad);
  } else {
    std::uint64_t count = static_cast<std::uint64_t>((stop - start + step - 1) / step);
    if (count > k_max_stepped_indexes) fail("", "stepped range too large");
    m_iv.reserve(m_iv.size() + count);
    for (std::int64_t i = start; i < stop; i += step) push_contiguous(m_iv, i, i + 1, pad);
  }
  normalize();
}

RangeSet RangeSet::parse(std::string_view pattern) {
  RangeSet rs;
  std::uint64_t stepped = 0;
  for (std::string_view sub_raw : py_split(pattern, ',')) {
    std::string_view subrange = py_strip(sub_raw);
    std::string_view baserange = subrange;
    std::int64_t step = 1;
    if (auto slash = subrange.find('/'); slash != std::string_view::npos) {
      baserange = subrange.substr(0, slash);
      if (!py_int(subrange.substr(slash + 1), step)) fail(subrange, "cannot convert string to integer");
    }
    int begin_sign = 1, end_sign = 1;
    std::string_view begin, end;
    if (baserange.find('-') == std::string_view::npos) {
      if (step != 1) fail(subrange, "invalid step usage");
      begin = end = baserange;
    } else {
      auto parts = py_split(baserange, '-');
      for (auto& p : parts) p = py_strip(p);
      if (parts.size() == 2) {
        begin = parts[0];
        end = parts[1];
        if (begin.empty()) {  // single negative number "-5"
          begin = end;
          begin_sign = end_sign = -1;
        }
      } else if (parts.size() == 3) {  // "-0-3"
        begin = parts[1];
        end = parts[2];
        begin_sign = -1;
      } else if (parts.size() == 4) {  // "-8--4"
        begin = parts[1];
        end = parts[3];
        begin_sign = end_sign = -1;
      } else {
        fail(subrange, "too many '-' in range");
      }
    }
    int pad = 0, endpad = 0;
    std::int64_t start = 0, stop = 0, bi = 0, ei = 0;
    const char* convert_msg = subrange.empty() ? "empty range" : "cannot convert string to integer";
    if (!py_int(begin, bi)) fail(subrange, convert_msg);
    if (bi != 0) {
      std::string_view begins = lstrip_zeros(begin);
      if (begin.size() > begins.size()) pad = static_cast<int>(begin.size());
      if (!py_int(begins, start)) fail(subrange, convert_msg);
    } else {
      if (begin.size() > 1) pad = static_cast<int>(begin.size());
      start = 0;
    }
    if (!py_int(end, ei)) fail(subrange, convert_msg);
    std::string_view ends = ei != 0 ? lstrip_zeros(end) : end;
    if (end.size() > ends.size()) endpad = static_cast<int>(end.size());
    if ((pad > 0 || endpad > 0) && begin.size() != end.size()) fail(subrange, "padding length mismatch");
    if (!py_int(ends, stop)) fail(subrange, convert_msg);
    if (pad > 0 && begin_sign < 0) fail(subrange, "padding not supported in negative ranges");
    if (start * begin_sign > stop * end_sign || step < 1) fail(subrange, "invalid values in range");
    std::int64_t a = start * begin_sign, b = stop * end_sign + 1;
    if (b - 1 > k_max_index_value || a < -k_max_index_value)
      fail(subrange, "index too large (indexes are limited to 18 digits)");
    if (b - a >= 1'000'000'000LL) fail(subrange, "range too large");
    if (pad > k_max_index_chars) fail(subrange, "padding too long (at most 64 digits)");
    if (step == 1) {
      push_contiguous(rs.m_iv, a, b, pad);
    } else {
      stepped += static_cast<std::uint64_t>((b - a + step - 1) / step);
      if (stepped > k_max_stepped_indexes) fail(subrange, "stepped range too large");
      for (std::int64_t i = a; i < b; i += step) push_contiguous(rs.m_iv, i, i + 1, pad);
    }
  }
  rs.normalize();
  return rs;
}

std::uint64_t RangeSet::size() const {
  std::uint64_t n = 0;
  for (const auto& iv : m_iv) {
    std::uint64_t k = static_cast<std::uint64_t>(iv.hi - iv.lo) + 1;
    if (n > std::numeric_limits<std::uint64_t>::max() - k) return std::numeric_limits<std::uint64_t>::max();
    n += k;
  }
  return n;
}

void RangeSet::update(const RangeSet& other) {
  if (other.m_iv.empty()) return;
  if (m_iv.empty()) {
    m_iv = other.m_iv;
    return;
  }
  // Fast path: other lies after everything we hold (names added in order).
  const Interval& last = m_iv.back();
  const Interval& first = other.m_iv.front();
  if (last.band < first.band || (last.band == first.band && last.hi < first.lo)) {
    std::size_t from = 0;
    if (last.band == first.band && first.lo == last.hi + 1) {
      m_iv.back().hi = first.hi;
      from = 1;
    }
    m_iv.insert(m_iv.end(), other.m_iv.begin() + static_cast<std::ptrdiff_t>(from), other.m_iv.end());
    return;
  }
  std::vector<Interval> merged;
  merged.reserve(m_iv.size() + other.m_iv.size());
  std::merge(m_iv.begin(), m_iv.end(), other.m_iv.begin(), other.m_iv.end(), std::back_inserter(merged), before);
  m_iv = std::move(merged);
  normalize();
}

namespace {

std::vector<Interval> subtract(const std::vector<Interval>& a, const std::vector<Interval>& b) {
  std::vector<Interval> out;
  out.reserve(a.size());
  std::size_t j = 0;
  for (const Interval& iv : a) {
    while (j < b.size() && (b[j].band < iv.band || (b[j].band == iv.band && b[j].hi < iv.lo))) ++j;
    std::int64_t cur = iv.lo;
    bool done = false;
    for (std::size_t k = j; k < b.size() && b[k].band == iv.band && b[k].lo <= iv.hi; ++k) {
      if (b[k].lo > cur) out.push_back({iv.band, cur, b[k].lo - 1});
      if (b[k].hi >= iv.hi) {
        done = true;
        break;
      }
      cur = std::max(cur, b[k].hi + 1);
    }
    if (!done && cur <= iv.hi) out.push_back({iv.band, cur, iv.hi});
  }
  return out;
}

std::vector<Interval> intersect(const std::vector<Interval>& a, const std::vector<Interval>& b) {
  std::vector<Interval> out;
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i].band != b[j].band) {
      (a[i].band < b[j].band ? i : j)++;
      continue;
    }
    std::int64_t lo = std::max(a[i].lo, b[j].lo), hi = std::min(a[i].hi, b[j].hi);
    if (lo <= hi) out.push_back({a[i].band, lo, hi});
    if (a[i].hi < b[j].hi)
      ++i;
    else
      ++j;
  }
  return out;
}

}  // namespace

void RangeSet::intersection_update(const RangeSet& other) { m_iv = intersect(m_iv, other.m_iv); }
void RangeSet::difference_update(const RangeSet& other) {
  if (!other.m_iv.empty()) m_iv = subtract(m_iv, other.m_iv);
}
void RangeSet::symmetric_difference_update(const RangeSet& other) {
  RangeSet only_other;
  only_other.m_iv = subtract(other.m_iv, m_iv);
  difference_update(other);
  update(only_other);
}
RangeSet RangeSet::intersection(const RangeSet& other) const {
  RangeSet r;
  r.m_iv = intersect(m_iv, other.m_iv);
  return r;
}
RangeSet RangeSet::difference(const RangeSet& other) const {
  RangeSet r;
  r.m_iv = subtract(m_iv, other.m_iv);
  return r;
}

bool RangeSet::intersects(const RangeSet& other) const {
  const auto& a = m_iv;
  const auto& b = other.m_iv;
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i].band != b[j].band) {
      (a[i].band < b[j].band ? i : j)++;
      continue;
    }
    if (std::max(a[i].lo, b[j].lo) <= std::min(a[i].hi, b[j].hi)) return true;
    if (a[i].hi < b[j].hi)
      ++i;
    else
      ++j;
  }
  return false;
}

bool RangeSet::is_subset_of(const RangeSet& other) const {
  // Intervals are maximal, so each of ours must sit inside one of theirs.
  std::size_t j = 0;
  const auto& b = other.m_iv;
  for (const Interval& iv : m_iv) {
    while (j < b.size() && (b[j].band < iv.band || (b[j].band == iv.band && b[j].hi < iv.lo))) ++j;
    if (j == b.size() || b[j].band != iv.band || b[j].lo > iv.lo || b[j].hi < iv.hi) return false;
  }
  return true;
}

bool RangeSet::contains(int band, std::int64_t value) const {
  auto it = std::upper_bound(m_iv.begin(), m_iv.end(), Interval{band, value, value}, before);
  if (it == m_iv.begin()) return false;
  --it;
  return it->band == band && it->lo <= value && value <= it->hi;
}

std::string RangeSet::first_text() const {
  return m_iv.empty() ? std::string() : index_text(m_iv.front().band, m_iv.front().lo);
}
std::string RangeSet::last_text() const {
  return m_iv.empty() ? std::string() : index_text(m_iv.back().band, m_iv.back().hi);
}

std::vector<std::string> RangeSet::runs() const {
  // Maximal runs of consecutive values (RangeSet._slices_padding with
  // autostep disabled). A run that starts with a zero-padded index keeps its
  // length; an unpadded run may grow from 9 to 10 or from -1 to 0, but never
  // into a padded index.
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < m_iv.size()) {
    int start_band = m_iv[i].band;
    std::int64_t start = m_iv[i].lo;
    int end_band = m_iv[i].band;
    std::int64_t end = m_iv[i].hi;
    bool padded = is_padded(start_band, start);
    ++i;
    while (!padded && i < m_iv.size() && m_iv[i].lo == end + 1 && !is_padded(m_iv[i].band, m_iv[i].lo)) {
      end_band = m_iv[i].band;
      end = m_iv[i].hi;
      ++i;
    }
    std::string s;
    append_index_text(s, start_band, start);
    if (end_band != start_band || end != start) {
      s.push_back('-');
      append_index_text(s, end_band, end);
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::string RangeSet::str() const {
  std::string out;
  for (const auto& r : runs()) {
    if (!out.empty()) out.push_back(',');
    out += r;
  }
  return out;
}

// ---------------------------------------------------------------------------
// RangeSetND: a port of ClusterShell's RangeSetND (veclist of RangeSet
// vectors, lazy folding flagged by m_dirty, m_multivar_hint).
// ---------------------------------------------------------------------------

namespace {

std::uint64_t sat_mul(std::uint64_t a, std::uint64_t b) {
  if (a != 0 && b > std::numeric_limits<std::uint64_t>::max() / a) return std::numeric_limits<std::uint64_t>::max();
  return a * b;
}
std::uint64_t sat_add(std::uint64_t a, std::uint64_t b) {
  return a > std::numeric_limits<std::uint64_t>::max() - b ? std::numeric_limits<std::uint64_t>::max() : a + b;
}

std::uint64_t vec_product(const RangeVec& vec) {
  std::uint64_t p = 1;
  for (const auto& rg : vec) p = sat_mul(p, rg.size());
  return p;
}

constexpr std::size_t k_max_difference_pieces = 1'000'000;
std::uint64_t g_max_fold_points = 1'000'000ULL;

}  // namespace

std::uint64_t max_fold_points() { return g_max_fold_points; }
void set_max_fold_points(std::uint64_t n) { g_max_fold_points = n; }

const std::vector<RangeVec>& RangeSetND::veclist() {
  fold();
  return m_veclist;
}

std::uint64_t RangeSetND::size() {
  fold();
  std::uint64_t n = 0;
  for (const auto& vec : m_veclist) n = sat_add(n, vec_product(vec));
  return n;
}

RangeSetND RangeSetND::copy() {
  fold();
  RangeSetND c;
  c.m_veclist = m_veclist;
  c.m_dirty = m_dirty;
  c.m_multivar_hint = false;
  return c;
}

void RangeSetND::do_fold() {
  if (m_veclist.size() > 1) {
    if (!fold_univariate()) fold_multivariate();
  } else {
    m_dirty = false;
  }
}

bool RangeSetND::fold_univariate() {
  std::size_t d = dim();
  std::size_t vardim = 0;
  int dimdiff = 0;
  if (d > 1) {
    for (std::size_t i = 0; i < d; ++i) {
      const RangeSet& first = m_veclist[0][i];
      bool same = true;
      for (std::size_t k = 1; k < m_veclist.size() && same; ++k) same = m_veclist[k][i] == first;
      if (!same) {
        ++dimdiff;
        if (dimdiff > 1) break;
        vardim = i;
      }
    }
  }
  bool univar = d == 1 || dimdiff == 1;
  if (univar) {
    for (std::size_t k = 1; k < m_veclist.size(); ++k) m_veclist[0][vardim].update(m_veclist[k][vardim]);
    m_veclist.resize(1);
    m_dirty = false;
  }
  m_multivar_hint = !univar;
  return univar;
}

void RangeSetND::sort_veclist() {
  // Key (RangeSetND._sort): larger vectors first, then per dimension larger
  // range sets first, then lower first index, then lower last index, where
  // indexes compare as strings. Python's sort is stable; so is this one.
  struct DimKey {
    std::uint64_t len;
    std::string first, last;
  };
  struct Key {
    std::uint64_t product;
    std::vector<DimKey> dims;
  };
  std::vector<Key> keys(m_veclist.size());
  for (std::size_t i = 0; i < m_veclist.size(); ++i) {
    keys[i].product = vec_product(m_veclist[i]);
    for (const auto& rg : m_veclist[i]) keys[i].dims.push_back({rg.size(), rg.first_text(), rg.last_text()});
  }
  std::vector<std::size_t> order(m_veclist.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const Key& ka = keys[a];
    const Key& kb = keys[b];
    if (ka.product != kb.product) return ka.product > kb.product;
    for (std::size_t d = 0; d < ka.dims.size() && d < kb.dims.size(); ++d) {
      const DimKey& x = ka.dims[d];
      const DimKey& y = kb.dims[d];
      if (x.len != y.len) return x.len > y.len;
      if (int c = x.first.compare(y.first); c != 0) return c < 0;
      if (int c = x.last.compare(y.last); c != 0) return c < 0;
    }
    return ka.dims.size() < kb.dims.size();
  });
  std::vector<RangeVec> sorted;
  sorted.reserve(m_veclist.size());
  for (std::size_t i : order) sorted.push_back(std::move(m_veclist[i]));
  m_veclist = std::move(sorted);
}

void RangeSetND::fold_multivariate() {
  // Phase 1: expand to unique points.
  std::uint64_t total = 0;
  for (const auto& vec : m_veclist) total = sat_add(total, vec_product(vec));
  if (total > g_max_fold_points)
    throw RangeError{"node set too complex to fold (" + std::to_string(total) +
                     " names varying in several dimensions)"};
  std::size_t d = dim();
  using Point = std::vector<std::pair<int, std::int64_t>>;
  std::vector<Point> points;
  points.reserve(static_cast<std::size_t>(total));
  for (const auto& vec : m_veclist) {
    // Iterate the cartesian product of vec.
    std::vector<std::vector<std::pair<int, std::int64_t>>> axes(d);
    bool empty = false;
    for (std::size_t i = 0; i < d; ++i) {
      vec[i].for_each([&](int band, std::int64_t v) { axes[i].push_back({band, v}); });
      empty = empty || axes[i].empty();
    }
    if (empty) continue;
    std::vector<std::size_t> idx(d, 0);
    bool done = d == 0;
    while (!done) {
      Point p(d);
      for (std::size_t i = 0; i < d; ++i) p[i] = axes[i][idx[i]];
      points.push_back(std::move(p));
      std::size_t k = d;
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
  std::sort(points.begin(), points.end());
  points.erase(std::unique(points.begin(), points.end()), points.end());
  m_veclist.clear();
  m_veclist.reserve(points.size());
  for (const auto& p : points) {
    RangeVec vec;
    vec.reserve(d);
    for (const auto& [band, v] : p) {
      vec.push_back(RangeSet::single(band, v));
    }
    m_veclist.push_back(std::move(vec));
  }

  // Phase 2: merge vectors that differ in one dimension only. Python pops
  // merged vectors from its list; a linked list over the vector gives the
  // same visiting order without the quadratic shifting.
  constexpr std::size_t k_end = static_cast<std::size_t>(-1);
  bool full = false;
  bool chg = true;
  std::vector<std::size_t> next, prev;
  while (chg) {
    chg = false;
    sort_veclist();
    const std::size_t n = m_veclist.size();
    next.resize(n);
    prev.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      next[i] = i + 1 < n ? i + 1 : k_end;
      prev[i] = i == 0 ? k_end : i - 1;
    }
    std::vector<bool> dead(n, false);
    std::size_t item1 = n ? 0 : k_end;
    while (item1 != k_end && next[item1] != k_end) {
      std::size_t index2 = next[item1];
      while (index2 != k_end) {
        RangeVec& a = m_veclist[item1];
        const RangeVec& b = m_veclist[index2];
        std::size_t following = next[index2];
        int nb_diff = 0;
        std::size_t diff_pos = 0;
        int how = 0;  // 1: union of disjoint sets, 2: keep a's, 3: take b's
        for (std::size_t pos = 0; pos < a.size() && pos < b.size(); ++pos) {
          const RangeSet& rg1 = a[pos];
          const RangeSet& rg2 = b[pos];
          if (rg1 == rg2) continue;
          if (!rg1.intersects(rg2)) {
            if (++nb_diff > 1) break;
            diff_pos = pos;
            how = 1;
          } else if (rg2.is_subset_of(rg1)) {
            if (++nb_diff > 1) break;
            diff_pos = pos;
            how = 2;
          } else if (rg1.is_subset_of(rg2)) {
            if (++nb_diff > 1) break;
            diff_pos = pos;
            how = 3;
          } else {
            nb_diff = 2;
            break;
          }
        }
        if (nb_diff <= 1) {
          chg = true;
          if (nb_diff == 1) {
            if (how == 1)
              a[diff_pos].update(b[diff_pos]);
            else if (how == 3)
              a[diff_pos] = b[diff_pos];
          }
          // Unlink index2 (Python: veclist.pop(index2)).
          dead[index2] = true;
          if (prev[index2] != k_end) next[prev[index2]] = following;
          if (following != k_end) prev[following] = prev[index2];
          index2 = following;
        } else if (!full) {
          break;
        } else {
          index2 = following;
        }
      }
      item1 = next[item1];
    }
    std::size_t w = 0;
    for (std::size_t i = 0; i < n; ++i)
      if (!dead[i]) {
        if (w != i) m_veclist[w] = std::move(m_veclist[i]);
        ++w;
      }
    m_veclist.resize(w);
    if (!chg && !full) chg = full = true;
  }
  m_dirty = false;
}

void RangeSetND::update(const std::vector<RangeVec>& vecs) {
  m_veclist.insert(m_veclist.end(), vecs.begin(), vecs.end());
  m_dirty = true;
  if (!m_multivar_hint) fold_univariate();
}

void RangeSetND::difference_update(const RangeSetND& other) {
  const auto& ergvx = other.m_veclist;
  std::vector<RangeVec> rgnd_new;
  std::size_t pieces = 0;
  for (const RangeVec& rgvec1 : m_veclist) {
    std::vector<RangeVec> procvx1{rgvec1};
    std::vector<RangeVec> nextvx1;
    for (const RangeVec& rgvec2 : ergvx) {
      for (RangeVec& rgproc1 : procvx1) {
        std::vector<RangeVec> tmpvx;
        for (std::size_t pos = 0; pos < rgproc1.size() && pos < rgvec2.size(); ++pos) {
          const RangeSet& rg1 = rgproc1[pos];
          const RangeSet& rg2 = rgvec2[pos];
          if (rg1.is_subset_of(rg2)) continue;
          if (rg1.intersects(rg2)) {
            RangeVec tmpvec = rgproc1;
            tmpvec[pos] = rg1.difference(rg2);
            tmpvx.push_back(std::move(tmpvec));
          } else {
            tmpvx.clear();
            tmpvx.push_back(rgproc1);
            break;
          }
        }
        pieces += tmpvx.size();
        if (pieces > k_max_difference_pieces) throw RangeError{"node set operation too complex"};
        for (auto& t : tmpvx) nextvx1.push_back(std::move(t));
      }
      procvx1.clear();
      if (!nextvx1.empty()) {
        procvx1 = std::move(nextvx1);
        nextvx1.clear();
      }
    }
    for (auto& p : procvx1) rgnd_new.push_back(std::move(p));
  }
  set_veclist(std::move(rgnd_new));
}

void RangeSetND::intersection_update(const RangeSetND& other) {
  if (&other == this) return;
  RangeSetND tmp;
  for (const RangeVec& rgvec : m_veclist) {
    for (const RangeVec& ergvec : other.m_veclist) {
      RangeVec irgvec;
      bool any_empty = false;
      for (std::size_t i = 0; i < rgvec.size() && i < ergvec.size(); ++i) {
        irgvec.push_back(rgvec[i].intersection(ergvec[i]));
        any_empty = any_empty || irgvec.back().empty();
      }
      if (!any_empty) tmp.update(std::vector<RangeVec>{std::move(irgvec)});
    }
  }
  set_veclist(tmp.veclist());
}

RangeSetND RangeSetND::intersection(const RangeSetND& other) {
  RangeSetND c = copy();
  c.intersection_update(other);
  return c;
}

void RangeSetND::symmetric_difference_update(RangeSetND& other) {
  RangeSetND diff2 = other.copy();
  diff2.difference_update(*this);
  difference_update(other);
  update(diff2);
}

bool RangeSetND::contains(const std::vector<std::pair<int, std::int64_t>>& point) const {
  for (const auto& vec : m_veclist) {
    if (vec.size() != point.size()) continue;
    bool all = true;
    for (std::size_t i = 0; i < vec.size() && all; ++i) all = vec[i].contains(point[i].first, point[i].second);
    if (all) return true;
  }
  return false;
}

}  // namespace aicloud::inventory::detail
