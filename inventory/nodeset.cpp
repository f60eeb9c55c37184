// The public node-set API on top of the ClusterShell port in
// nodeset_engine.cpp: errors become NodeSetError (an InputError), and the
// command-line forms union several patterns as `nodeset` does.
#include "inventory/nodeset.hpp"

#include <memory>

#include "inventory/nodeset_engine.hpp"

namespace aicloud::inventory {

using detail::NodeSetBase;
using detail::ParseError;
using detail::RangeError;

NodeSetError::NodeSetError(std::string pattern, std::size_t column, std::string reason)
    : InputError(SourceLocation{"node set '" + pattern + "'", 1, static_cast<int>(column)}, reason),
      m_pattern(std::move(pattern)),
      m_column(column),
      m_reason(std::move(reason)) {}

namespace {

// Runs f(bad) and turns the engine's errors into a NodeSetError naming the
// pattern that failed (f sets bad to its index).
template <class F>
auto with_pattern_errors(const std::vector<std::string>& patterns, F&& f) {
  std::size_t bad = 0;
  auto name = [&] { return bad < patterns.size() ? patterns[bad] : std::string(); };
  try {
    return f(bad);
  } catch (const ParseError& e) {
    throw NodeSetError(name(), e.column, e.message);
  } catch (const RangeError& e) {
    throw NodeSetError(name(), 1, e.message);
  }
}

}  // namespace

std::string fold_nodeset_args(const std::vector<std::string>& patterns) {
  return with_pattern_errors(patterns, [&](std::size_t& bad) {
    return detail::parse_nodeset_args(patterns, &bad).str();
  });
}

std::uint64_t count_nodeset_args(const std::vector<std::string>& patterns) {
  return with_pattern_errors(patterns, [&](std::size_t& bad) {
    return detail::parse_nodeset_args(patterns, &bad).size();
  });
}

void expand_nodeset_args(const std::vector<std::string>& patterns,
                         const std::function<void(std::string_view)>& sink) {
  with_pattern_errors(patterns, [&](std::size_t& bad) {
    NodeSetBase ns = detail::parse_nodeset_args(patterns, &bad);
    bad = patterns.size();
    ns.for_each(sink);
    return 0;
  });
}

std::vector<std::string> expand_nodeset(std::string_view pattern) {
  std::vector<std::string> args{std::string(pattern)};
  return with_pattern_errors(args, [&](std::size_t& bad) {
    NodeSetBase ns = detail::parse_nodeset_args(args, &bad);
    std::uint64_t n = ns.size();
    if (n > k_max_expand)
      throw NodeSetError(args[0], 1,
                         "node set too large to expand (" + std::to_string(n) + " names, limit " +
                             std::to_string(k_max_expand) + ")");
    std::vector<std::string> out;
    out.reserve(static_cast<std::size_t>(n));
    ns.for_each([&out](std::string_view name) { out.emplace_back(name); });
    return out;
  });
}

std::size_t count_nodeset(std::string_view pattern) {
  return static_cast<std::size_t>(count_nodeset_args({std::string(pattern)}));
}

std::string fold_nodeset(const std::vector<std::string>& names) {
  // The same steps as `nodeset -f name1 name2 ...`: each name is scanned as a
  // single node (_scan_string_single) and added in turn.
  NodeSetBase ns;
  std::string pat;
  std::vector<detail::RangeSet> rsets;
  for (const auto& raw : names) {
    pat.clear();
    rsets.clear();
    try {
      detail::scan_single(detail::py_strip(raw), pat, rsets);
      NodeSetBase one;
      one.add(pat, detail::entry_from(std::move(rsets)), false);
      ns.update(one);
    } catch (const RangeError& e) {
      throw NodeSetError(raw, 1, e.message);
    }
  }
  try {
    return ns.str();
  } catch (const RangeError& e) {
    throw NodeSetError(names.empty() ? "" : names.front(), 1, e.message);
  }
}

struct NodeSetMatcher::Impl {
  NodeSetBase ns;
};

NodeSetMatcher::NodeSetMatcher(std::string_view pattern) {
  std::vector<std::string> args{std::string(pattern)};
  auto impl = std::make_unique<Impl>();
  with_pattern_errors(args, [&](std::size_t& bad) {
    impl->ns = detail::parse_nodeset_args(args, &bad);
    return impl->ns.size();  // folds now, so later const lookups see a settled set
  });
  m_impl = impl.release();
}
NodeSetMatcher::~NodeSetMatcher() { delete m_impl; }
NodeSetMatcher::NodeSetMatcher(NodeSetMatcher&& o) noexcept : m_impl(o.m_impl) { o.m_impl = nullptr; }
NodeSetMatcher& NodeSetMatcher::operator=(NodeSetMatcher&& o) noexcept {
  if (this != &o) {
    delete m_impl;
    m_impl = o.m_impl;
    o.m_impl = nullptr;
  }
  return *this;
}
bool NodeSetMatcher::contains(std::string_view name) const { return m_impl && m_impl->ns.contains(name); }
std::uint64_t NodeSetMatcher::size() const { return m_impl ? m_impl->ns.size() : 0; }

}  // namespace aicloud::inventory
