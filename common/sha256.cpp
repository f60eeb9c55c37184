#include "common/sha256.hpp"

#include <openssl/evp.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>

#include "common/error.hpp"
#include "common/strings.hpp"

namespace aicloud {

namespace {
struct Ctx {
  EVP_MD_CTX* p = EVP_MD_CTX_new();
  ~Ctx() { EVP_MD_CTX_free(p); }
};
}  // namespace

std::string sha256_raw(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  Ctx c;
  if (!c.p || EVP_DigestInit_ex(c.p, EVP_sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(c.p, data.data(), data.size()) != 1 || EVP_DigestFinal_ex(c.p, md, &len) != 1)
    throw Error("SHA-256 failed");
  return std::string(reinterpret_cast<char*>(md), len);
}

std::string sha256_hex(std::string_view data) {
  std::string raw = sha256_raw(data);
  return to_hex(reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
}

std::string sha256_file_hex(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read " + path + ": " + std::strerror(errno));
  Ctx c;
  if (!c.p || EVP_DigestInit_ex(c.p, EVP_sha256(), nullptr) != 1) throw Error("SHA-256 failed");
  std::unique_ptr<char[]> buf(new char[1 << 20]);
  while (in) {
    in.read(buf.get(), 1 << 20);
    std::streamsize n = in.gcount();
    if (n > 0 && EVP_DigestUpdate(c.p, buf.get(), static_cast<std::size_t>(n)) != 1) throw Error("SHA-256 failed");
  }
  if (in.bad()) throw Error("cannot read " + path);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(c.p, md, &len) != 1) throw Error("SHA-256 failed");
  return to_hex(md, len);
}

}  // namespace aicloud
