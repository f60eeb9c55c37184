#include "common/dynlib.hpp"

#include <dlfcn.h>
#include <link.h>

#include <utility>

namespace aicloud {

DynLib::~DynLib() {
  // Libraries such as libcuda register process-wide state; unloading them at
  // exit is a common source of crashes, so handles stay open for the
  // lifetime of the process.
}

DynLib::DynLib(DynLib&& o) noexcept
    : m_handle(std::exchange(o.m_handle, nullptr)), m_name(std::move(o.m_name)), m_error(std::move(o.m_error)) {}

DynLib& DynLib::operator=(DynLib&& o) noexcept {
  m_handle = std::exchange(o.m_handle, nullptr);
  m_name = std::move(o.m_name);
  m_error = std::move(o.m_error);
  return *this;
}

bool DynLib::open(const std::vector<std::string>& sonames) {
  std::string reasons;
  for (const auto& name : sonames) {
    ::dlerror();
    void* h = ::dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (h) {
      m_handle = h;
      m_name = name;
      m_error.clear();
      return true;
    }
    const char* e = ::dlerror();
    if (!reasons.empty()) reasons += "; ";
    reasons += e ? e : (name + ": not found");
  }
  std::string names;
  for (const auto& n : sonames) names += (names.empty() ? "" : ", ") + n;
  m_error = "cannot load " + names + " (" + reasons + ")";
  return false;
}

std::string DynLib::loaded_path() const {
  if (!m_handle) return "";
  struct link_map* lm = nullptr;
  if (::dlinfo(m_handle, RTLD_DI_LINKMAP, &lm) == 0 && lm && lm->l_name) return lm->l_name;
  return m_name;
}

void* DynLib::symbol(const char* name) {
  if (!m_handle) {
    m_error = std::string("library not loaded, cannot resolve ") + name;
    return nullptr;
  }
  ::dlerror();
  void* p = ::dlsym(m_handle, name);
  if (!p) m_error = m_name + ": missing symbol " + name;
  return p;
}

}  // namespace aicloud
