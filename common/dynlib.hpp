// Run-time loading of the GPU libraries (libcuda, libnvidia-ml, cuBLASLt,
// NCCL) so that one binary runs on machines with and without them and says
// exactly which library is missing. Entry points are declared by the caller
// with its own function-pointer types.
#pragma once

#include <string>
#include <vector>

namespace aicloud {

class DynLib {
 public:
  DynLib() = default;
  ~DynLib();
  DynLib(const DynLib&) = delete;
  DynLib& operator=(const DynLib&) = delete;
  DynLib(DynLib&& other) noexcept;
  DynLib& operator=(DynLib&& other) noexcept;

  // Tries each soname in order (e.g. {"libcublasLt.so.13", "libcublasLt.so.12"}).
  // On failure, error() names every soname tried and dlerror()'s reason.
  bool open(const std::vector<std::string>& sonames);
  bool is_open() const { return m_handle != nullptr; }
  const std::string& error() const { return m_error; }
  // The soname that loaded, and the file it resolved to (from dlinfo).
  const std::string& loaded_name() const { return m_name; }
  std::string loaded_path() const;

  // Looks up a symbol; nullptr (and error() set) when it is missing.
  void* symbol(const char* name);
  template <typename Fn>
  bool bind(Fn& fn, const char* name) {
    fn = reinterpret_cast<Fn>(symbol(name));
    return fn != nullptr;
  }

 private:
  void* m_handle = nullptr;
  std::string m_name;
  std::string m_error;
};

}  // namespace aicloud
