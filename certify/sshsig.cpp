// SSHSIG on OpenSSL 3. The file has four parts: the SSH wire format (string,
// uint32, mpint), keys (OpenSSH private key container, PEM, public blobs ->
// EVP_PKEY), the ssh-agent client (for passphrase-protected keys), and the
// SSHSIG sign/verify plus the allowed-signers file.
#include "certify/sshsig.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "common/base64.hpp"
#include "common/error.hpp"
#include "common/files.hpp"
#include "common/sha256.hpp"
#include "common/strings.hpp"

namespace aicloud::certify::sshsig {

namespace {

// ---------------------------------------------------------------------------
// Wire format
// ---------------------------------------------------------------------------

struct Writer {
  std::string buf;
  void u32(std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) buf += static_cast<char>((v >> s) & 0xff);
  }
  void str(std::string_view s) {
    u32(static_cast<std::uint32_t>(s.size()));
    buf.append(s);
  }
  void raw(std::string_view s) { buf.append(s); }
  // Two's complement, big-endian, minimal; positive values only.
  void mpint(const BIGNUM* bn) {
    std::string mag(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(mag.data()));
    if (!mag.empty() && (static_cast<unsigned char>(mag[0]) & 0x80)) mag.insert(mag.begin(), '\0');
    str(mag);
  }
};

struct Reader {
  std::string_view d;
  std::size_t pos = 0;
  bool u32(std::uint32_t& v) {
    if (d.size() - pos < 4) return false;
    v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(d[pos + i]);
    pos += 4;
    return true;
  }
  bool str(std::string_view& out) {
    std::uint32_t n;
    if (!u32(n) || d.size() - pos < n) return false;
    out = d.substr(pos, n);
    pos += n;
    return true;
  }
  bool raw(std::size_t n, std::string_view& out) {
    if (d.size() - pos < n) return false;
    out = d.substr(pos, n);
    pos += n;
    return true;
  }
  bool done() const { return pos == d.size(); }
};

struct BnFree {
  void operator()(BIGNUM* b) const { BN_clear_free(b); }
};
using Bn = std::unique_ptr<BIGNUM, BnFree>;
struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

Bn bn_from_mpint(std::string_view s) {
  if (!s.empty() && (static_cast<unsigned char>(s[0]) & 0x80)) throw std::runtime_error("negative mpint");
  return Bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()), nullptr));
}

std::string openssl_error() {
  unsigned long e = ERR_get_error();
  if (!e) return "OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

[[noreturn]] void fail(const std::string& msg) { throw std::runtime_error(msg); }

// ---------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------

struct Curve {
  const char* ssh_name;   // "nistp256"
  const char* ossl_name;  // "P-256"
  const EVP_MD* (*md)();
};
const Curve k_curves[] = {{"nistp256", "P-256", EVP_sha256}, {"nistp384", "P-384", EVP_sha384}, {"nistp521", "P-521", EVP_sha512}};

const Curve* curve_by_ssh(std::string_view name) {
  for (const auto& c : k_curves)
    if (name == c.ssh_name) return &c;
  return nullptr;
}

Pkey fromdata(const char* alg, OSSL_PARAM_BLD* bld, int selection) {
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, alg, nullptr);
  EVP_PKEY* pkey = nullptr;
  bool ok = params && ctx && EVP_PKEY_fromdata_init(ctx) > 0 && EVP_PKEY_fromdata(ctx, &pkey, selection, params) > 0;
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  if (!ok) fail("cannot build the " + std::string(alg) + " key: " + openssl_error());
  return Pkey(pkey);
}

// Public key blob -> EVP_PKEY (for verification).
Pkey pkey_from_public_blob(const std::string& blob, std::string& type) {
  Reader r{blob};
  std::string_view t;
  if (!r.str(t)) fail("truncated public key");
  type = std::string(t);
  if (type == "ssh-ed25519") {
    std::string_view pk;
    if (!r.str(pk) || pk.size() != 32 || !r.done()) fail("malformed Ed25519 public key");
    EVP_PKEY* p = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                              reinterpret_cast<const unsigned char*>(pk.data()), pk.size());
    if (!p) fail("bad Ed25519 public key: " + openssl_error());
    return Pkey(p);
  }
  if (starts_with(type, "ecdsa-sha2-")) {
    std::string_view curve, q;
    if (!r.str(curve) || !r.str(q) || !r.done()) fail("malformed ECDSA public key");
    const Curve* c = curve_by_ssh(curve);
    if (!c || type != "ecdsa-sha2-" + std::string(curve)) fail("unsupported ECDSA curve " + std::string(curve));
    OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, c->ossl_name, 0);
    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, q.data(), q.size());
    return fromdata("EC", bld, EVP_PKEY_PUBLIC_KEY);
  }
  if (type == "ssh-rsa") {
    std::string_view e, n;
    if (!r.str(e) || !r.str(n) || !r.done()) fail("malformed RSA public key");
    Bn be = bn_from_mpint(e), bnn = bn_from_mpint(n);
    if (BN_num_bits(bnn.get()) < 1024) fail("RSA key too small (" + std::to_string(BN_num_bits(bnn.get())) + " bits)");
    OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bnn.get());
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be.get());
    return fromdata("RSA", bld, EVP_PKEY_PUBLIC_KEY);
  }
  fail("unsupported key type " + type);
}

// EVP_PKEY -> public blob (for PEM private keys).
PublicKey public_from_pkey(EVP_PKEY* p) {
  Writer w;
  PublicKey k;
  int id = EVP_PKEY_get_base_id(p);
  if (id == EVP_PKEY_ED25519) {
    unsigned char pk[32];
    std::size_t n = sizeof pk;
    if (EVP_PKEY_get_raw_public_key(p, pk, &n) <= 0 || n != 32) fail("cannot read the Ed25519 public key");
    k.type = "ssh-ed25519";
    w.str(k.type);
    w.str(std::string_view(reinterpret_cast<char*>(pk), n));
  } else if (id == EVP_PKEY_EC) {
    char group[64] = {0};
    std::size_t glen = 0;
    if (EVP_PKEY_get_utf8_string_param(p, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &glen) <= 0)
      fail("cannot read the EC curve");
    std::string g = group;
    std::string ssh = g == "prime256v1" || g == "P-256" ? "nistp256"
                      : g == "secp384r1" || g == "P-384" ? "nistp384"
                      : g == "secp521r1" || g == "P-521" ? "nistp521"
                                                         : "";
    if (ssh.empty()) fail("unsupported EC curve " + g + " (SSH signs with P-256, P-384 or P-521)");
    unsigned char q[256];
    std::size_t qlen = 0;
    if (EVP_PKEY_get_octet_string_param(p, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, q, sizeof q, &qlen) <= 0)
      fail("cannot read the EC public point");
    k.type = "ecdsa-sha2-" + ssh;
    w.str(k.type);
    w.str(ssh);
    w.str(std::string_view(reinterpret_cast<char*>(q), qlen));
  } else if (id == EVP_PKEY_RSA) {
    BIGNUM *n = nullptr, *e = nullptr;
    if (EVP_PKEY_get_bn_param(p, OSSL_PKEY_PARAM_RSA_N, &n) <= 0 || EVP_PKEY_get_bn_param(p, OSSL_PKEY_PARAM_RSA_E, &e) <= 0)
      fail("cannot read the RSA public key");
    Bn bn(n), be(e);
    k.type = "ssh-rsa";
    w.str(k.type);
    w.mpint(be.get());
    w.mpint(bn.get());
  } else {
    fail("unsupported key type (Ed25519, ECDSA and RSA are supported)");
  }
  k.blob = w.buf;
  return k;
}

// The private part of an unencrypted "openssh-key-v1" container.
Pkey private_from_openssh(std::string_view priv, const std::string& expect_type) {
  Reader r{priv};
  std::uint32_t c1, c2;
  std::string_view type;
  if (!r.u32(c1) || !r.u32(c2) || c1 != c2) fail("the private key is corrupt (check values differ)");
  if (!r.str(type)) fail("truncated private key");
  if (type != expect_type) fail("private and public key types differ");
  if (type == "ssh-ed25519") {
    std::string_view pk, sk;
    if (!r.str(pk) || !r.str(sk) || pk.size() != 32 || sk.size() != 64) fail("malformed Ed25519 private key");
    EVP_PKEY* p = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr,
                                               reinterpret_cast<const unsigned char*>(sk.data()), 32);
    if (!p) fail("bad Ed25519 private key: " + openssl_error());
    return Pkey(p);
  }
  if (starts_with(type, "ecdsa-sha2-")) {
    std::string_view curve, q, d;
    if (!r.str(curve) || !r.str(q) || !r.str(d)) fail("malformed ECDSA private key");
    const Curve* c = curve_by_ssh(curve);
    if (!c) fail("unsupported ECDSA curve " + std::string(curve));
    Bn bd = bn_from_mpint(d);
    OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, c->ossl_name, 0);
    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, q.data(), q.size());
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, bd.get());
    return fromdata("EC", bld, EVP_PKEY_KEYPAIR);
  }
  if (type == "ssh-rsa") {
    std::string_view n, e, d, iqmp, p, q;
    if (!r.str(n) || !r.str(e) || !r.str(d) || !r.str(iqmp) || !r.str(p) || !r.str(q)) fail("malformed RSA private key");
    Bn bn = bn_from_mpint(n), be = bn_from_mpint(e), bd = bn_from_mpint(d), bi = bn_from_mpint(iqmp),
       bp = bn_from_mpint(p), bq = bn_from_mpint(q);
    // CRT exponents d mod (p-1), d mod (q-1), which the container omits.
    BN_CTX* ctx = BN_CTX_new();
    Bn pm1(BN_dup(bp.get())), qm1(BN_dup(bq.get())), dmp1(BN_new()), dmq1(BN_new());
    BN_sub_word(pm1.get(), 1);
    BN_sub_word(qm1.get(), 1);
    BN_mod(dmp1.get(), bd.get(), pm1.get(), ctx);
    BN_mod(dmq1.get(), bd.get(), qm1.get(), ctx);
    BN_CTX_free(ctx);
    OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn.get());
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be.get());
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_D, bd.get());
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR1, bp.get());
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR2, bq.get());
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT1, dmp1.get());
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT2, dmq1.get());
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, bi.get());
    return fromdata("RSA", bld, EVP_PKEY_KEYPAIR);
  }
  if (starts_with(type, "sk-")) fail("FIDO security-key types (" + std::string(type) + ") are not supported; use ssh-agent");
  fail("unsupported key type " + std::string(type));
}

std::string armored_body(std::string_view text, std::string_view begin, std::string_view end) {
  auto b = text.find(begin);
  auto e = text.find(end);
  if (b == std::string_view::npos || e == std::string_view::npos || e < b) return "";
  auto decoded = base64_decode(text.substr(b + begin.size(), e - b - begin.size()));
  return decoded ? *decoded : "";
}

// ---------------------------------------------------------------------------
// ssh-agent client (draft-miller-ssh-agent)
// ---------------------------------------------------------------------------

constexpr unsigned char k_agent_failure = 5, k_agentc_request_identities = 11, k_agent_identities_answer = 12,
                        k_agentc_sign_request = 13, k_agent_sign_response = 14;
constexpr std::uint32_t k_agent_rsa_sha2_512 = 4;

class Agent {
 public:
  Agent() {
    const char* path = std::getenv("SSH_AUTH_SOCK");
    if (!path || !*path) return;
    m_fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (m_fd < 0 || std::strlen(path) >= sizeof addr.sun_path) {
      close();
      return;
    }
    std::strcpy(addr.sun_path, path);
    if (::connect(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      m_error = std::string("cannot connect to ssh-agent at ") + path + ": " + std::strerror(errno);
      close();
      return;
    }
  }
  ~Agent() { close(); }
  bool connected() const { return m_fd >= 0; }
  const std::string& error() const { return m_error; }

  // The message body of the reply (first byte: its type).
  std::string request(const std::string& body) {
    Writer w;
    w.str(body);
    if (!write_all(w.buf)) fail("ssh-agent: write failed: " + std::string(std::strerror(errno)));
    std::string len_bytes = read_n(4);
    Reader r{len_bytes};
    std::uint32_t n = 0;
    r.u32(n);
    if (n == 0 || n > (256u << 10)) fail("ssh-agent: bad reply length");
    return read_n(n);
  }

  bool holds(const std::string& blob) {
    std::string reply = request(std::string(1, static_cast<char>(k_agentc_request_identities)));
    if (static_cast<unsigned char>(reply[0]) != k_agent_identities_answer) return false;
    Reader r{std::string_view(reply).substr(1)};
    std::uint32_t count = 0;
    if (!r.u32(count)) return false;
    for (std::uint32_t i = 0; i < count; ++i) {
      std::string_view key, comment;
      if (!r.str(key) || !r.str(comment)) return false;
      if (key == blob) return true;
    }
    return false;
  }

  std::string sign(const PublicKey& key, std::string_view data) {
    Writer w;
    w.raw(std::string(1, static_cast<char>(k_agentc_sign_request)));
    w.str(key.blob);
    w.str(data);
    w.u32(key.type == "ssh-rsa" ? k_agent_rsa_sha2_512 : 0);
    std::string reply = request(w.buf);
    if (static_cast<unsigned char>(reply[0]) == k_agent_failure)
      fail("ssh-agent refused to sign (key not loaded, or confirmation declined)");
    if (static_cast<unsigned char>(reply[0]) != k_agent_sign_response) fail("ssh-agent: unexpected reply");
    Reader r{std::string_view(reply).substr(1)};
    std::string_view sig;
    if (!r.str(sig)) fail("ssh-agent: truncated signature");
    return std::string(sig);
  }

 private:
  void close() {
    if (m_fd >= 0) ::close(m_fd);
    m_fd = -1;
  }
  bool write_all(const std::string& s) {
    std::size_t off = 0;
    while (off < s.size()) {
      ssize_t n = ::write(m_fd, s.data() + off, s.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      off += static_cast<std::size_t>(n);
    }
    return true;
  }
  std::string read_n(std::size_t n) {
    std::string out(n, '\0');
    std::size_t off = 0;
    while (off < n) {
      ssize_t got = ::read(m_fd, out.data() + off, n - off);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) fail("ssh-agent closed the connection");
      off += static_cast<std::size_t>(got);
    }
    return out;
  }
  int m_fd = -1;
  std::string m_error;
};

// ---------------------------------------------------------------------------
// Raw signatures
// ---------------------------------------------------------------------------

const EVP_MD* md_for(const std::string& key_type) {
  if (key_type == "ssh-rsa") return EVP_sha512();
  if (starts_with(key_type, "ecdsa-sha2-"))
    if (const Curve* c = curve_by_ssh(key_type.substr(11))) return c->md();
  return nullptr;  // Ed25519: no separate digest
}

std::string evp_sign(EVP_PKEY* pkey, const EVP_MD* md, std::string_view data) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::size_t len = 0;
  std::string sig;
  bool ok = ctx && EVP_DigestSignInit(ctx, nullptr, md, nullptr, pkey) > 0 &&
            EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(data.data()), data.size()) > 0;
  if (ok) {
    sig.resize(len);
    ok = EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                        reinterpret_cast<const unsigned char*>(data.data()), data.size()) > 0;
    sig.resize(len);
  }
  EVP_MD_CTX_free(ctx);
  if (!ok) fail("signing failed: " + openssl_error());
  return sig;
}

bool evp_verify(EVP_PKEY* pkey, const EVP_MD* md, std::string_view data, std::string_view sig) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx && EVP_DigestVerifyInit(ctx, nullptr, md, nullptr, pkey) > 0 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                             reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  ERR_clear_error();
  return ok;
}

// ---------------------------------------------------------------------------
// Allowed signers
// ---------------------------------------------------------------------------

// Splits one allowed-signers line into words, keeping "quoted strings" (with
// commas and spaces) inside a word as ssh-keygen does.
std::vector<std::string> words_of(std::string_view line) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false, any = false;
  for (char c : line) {
    if (c == '"') {
      quoted = !quoted;
      cur += c;
      any = true;
    } else if (!quoted && (c == ' ' || c == '\t')) {
      if (any) out.push_back(cur);
      cur.clear();
      any = false;
    } else {
      cur += c;
      any = true;
    }
  }
  if (any) out.push_back(cur);
  return out;
}

std::string unquote(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
  return s;
}

bool is_key_type(std::string_view w) {
  return starts_with(w, "ssh-") || starts_with(w, "ecdsa-") || starts_with(w, "sk-") || starts_with(w, "rsa-");
}

// "YYYYMMDD[HHMM[SS]][Z]" -> time_t (local time unless Z).
std::optional<std::time_t> parse_time(std::string s) {
  bool utc = !s.empty() && (s.back() == 'Z' || s.back() == 'z');
  if (utc) s.pop_back();
  if (!std::all_of(s.begin(), s.end(), ::isdigit) || (s.size() != 8 && s.size() != 12 && s.size() != 14)) return std::nullopt;
  std::tm tm{};
  tm.tm_year = std::atoi(s.substr(0, 4).c_str()) - 1900;
  tm.tm_mon = std::atoi(s.substr(4, 2).c_str()) - 1;
  tm.tm_mday = std::atoi(s.substr(6, 2).c_str());
  if (s.size() >= 12) {
    tm.tm_hour = std::atoi(s.substr(8, 2).c_str());
    tm.tm_min = std::atoi(s.substr(10, 2).c_str());
  }
  if (s.size() == 14) tm.tm_sec = std::atoi(s.substr(12, 2).c_str());
  tm.tm_isdst = -1;
  return utc ? ::timegm(&tm) : std::mktime(&tm);
}

bool match_pattern(std::string_view s, std::string_view p) {
  // Glob with * and ?, iterative with backtracking.
  std::size_t si = 0, pi = 0, star = std::string_view::npos, mark = 0;
  while (si < s.size()) {
    if (pi < p.size() && (p[pi] == '?' || p[pi] == s[si])) {
      ++si;
      ++pi;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = si;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

}  // namespace

bool match_pattern_list(std::string_view value, std::string_view patterns) {
  bool matched = false;
  for (const auto& raw : split(patterns, ',', false)) {
    std::string_view pat = trim(raw);
    bool negate = !pat.empty() && pat[0] == '!';
    if (negate) pat.remove_prefix(1);
    if (match_pattern(value, pat)) {
      if (negate) return false;
      matched = true;
    }
  }
  return matched;
}

// ---------------------------------------------------------------------------
// PublicKey
// ---------------------------------------------------------------------------

std::string PublicKey::fingerprint() const {
  std::string b64 = base64_encode(sha256_raw(blob));
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  return "SHA256:" + b64;
}

std::string PublicKey::openssh() const { return type + " " + base64_encode(blob); }

std::string PublicKey::kind() const {
  if (type == "ssh-ed25519") return "ED25519";
  if (starts_with(type, "ecdsa-")) return "ECDSA";
  if (type == "ssh-rsa") return "RSA";
  return type;
}

std::optional<PublicKey> parse_public_key(std::string_view line) {
  auto words = split(trim(line), ' ', false);
  if (words.size() < 2) return std::nullopt;
  auto blob = base64_decode(words[1]);
  if (!blob) return std::nullopt;
  Reader r{*blob};
  std::string_view t;
  if (!r.str(t) || t != words[0]) return std::nullopt;
  return PublicKey{words[0], *blob};
}

// ---------------------------------------------------------------------------
// SigningKey
// ---------------------------------------------------------------------------

struct SigningKey::Impl {
  PublicKey pub;
  Pkey pkey;         // null when the agent signs
  bool agent = false;
};

SigningKey::SigningKey(std::unique_ptr<Impl> impl) : m(std::move(impl)) {}
SigningKey::~SigningKey() = default;
SigningKey::SigningKey(SigningKey&&) noexcept = default;
SigningKey& SigningKey::operator=(SigningKey&&) noexcept = default;
const PublicKey& SigningKey::public_key() const { return m->pub; }
bool SigningKey::via_agent() const { return m->agent; }

SigningKey SigningKey::load(const std::string& path) {
  std::string text;
  try {
    text = read_text_file(path, 1u << 20);
  } catch (const InputError& e) {
    throw Error("signing key " + format_diagnostic(e.diagnostics().front()));
  }
  auto impl = std::make_unique<Impl>();
  auto use_agent = [&](const PublicKey& pub, const std::string& why) {
    Agent agent;
    if (!agent.connected())
      throw Error(path + ": " + why + "; aicloudctl does not ask for passphrases: load the key into ssh-agent (ssh-add " +
                  path + ") and run again" +
                  (agent.error().empty() ? " (SSH_AUTH_SOCK is not set)" : " (" + agent.error() + ")"));
    try {
      if (!agent.holds(pub.blob))
        throw Error(path + ": " + why + ", and the running ssh-agent does not hold it (ssh-add " + path + ")");
    } catch (const std::runtime_error& e) {
      if (dynamic_cast<const Error*>(&e)) throw;
      throw Error(path + ": " + e.what());
    }
    impl->pub = pub;
    impl->agent = true;
  };
  try {
    if (text.find("-----BEGIN OPENSSH PRIVATE KEY-----") != std::string::npos) {
      std::string bin = armored_body(text, "-----BEGIN OPENSSH PRIVATE KEY-----", "-----END OPENSSH PRIVATE KEY-----");
      static const std::string magic("openssh-key-v1\0", 15);
      if (bin.compare(0, magic.size(), magic) != 0) fail("not an OpenSSH private key (bad magic)");
      Reader r{std::string_view(bin).substr(magic.size())};
      std::string_view cipher, kdf, kdfopts, pubblob, priv;
      std::uint32_t nkeys = 0;
      if (!r.str(cipher) || !r.str(kdf) || !r.str(kdfopts) || !r.u32(nkeys) || nkeys != 1 || !r.str(pubblob) || !r.str(priv))
        fail("malformed OpenSSH private key");
      Reader pr{pubblob};
      std::string_view ptype;
      if (!pr.str(ptype)) fail("malformed public key in the private key file");
      PublicKey pub{std::string(ptype), std::string(pubblob)};
      if (cipher != "none") {
        use_agent(pub, "the key is encrypted with a passphrase (" + std::string(cipher) + ", " + std::string(kdf) + ")");
      } else {
        impl->pkey = private_from_openssh(priv, pub.type);
        impl->pub = pub;
      }
    } else if (text.find("PRIVATE KEY-----") != std::string::npos) {
      bool encrypted = text.find("ENCRYPTED") != std::string::npos;
      BIO* bio = BIO_new_mem_buf(text.data(), static_cast<int>(text.size()));
      // A callback that gives no passphrase: encrypted PEM keys fail to load.
      EVP_PKEY* p = PEM_read_bio_PrivateKey(bio, nullptr, [](char*, int, int, void*) { return 0; }, nullptr);
      BIO_free(bio);
      if (!p) {
        ERR_clear_error();
        if (encrypted) {
          std::string pubtext;
          try {
            pubtext = read_text_file(path + ".pub");
          } catch (const InputError&) {
          }
          auto pub = parse_public_key(pubtext);
          if (!pub)
            throw Error(path + ": the PEM key is encrypted with a passphrase and " + path +
                        ".pub is missing; aicloudctl does not ask for passphrases: use ssh-agent (ssh-add " + path + ")");
          use_agent(*pub, "the PEM key is encrypted with a passphrase");
        } else {
          fail("cannot read the PEM private key");
        }
      } else {
        impl->pkey.reset(p);
        impl->pub = public_from_pkey(p);
      }
    } else if (auto pub = parse_public_key(text)) {
      use_agent(*pub, "this is a public key");
    } else {
      fail("not a private key (OpenSSH or PEM) or a public key");
    }
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(path + ": " + e.what());
  }
  return SigningKey(std::move(impl));
}

std::string SigningKey::sign_blob(std::string_view data) const {
  if (m->agent) {
    Agent agent;
    if (!agent.connected()) throw Error("ssh-agent went away: " + agent.error());
    try {
      return agent.sign(m->pub, data);
    } catch (const std::runtime_error& e) {
      throw Error(e.what());
    }
  }
  Writer w;
  const std::string& t = m->pub.type;
  try {
    if (t == "ssh-ed25519") {
      w.str(t);
      w.str(evp_sign(m->pkey.get(), nullptr, data));
    } else if (starts_with(t, "ecdsa-sha2-")) {
      std::string der = evp_sign(m->pkey.get(), md_for(t), data);
      const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
      ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
      if (!sig) fail("cannot decode the ECDSA signature");
      Writer inner;
      inner.mpint(ECDSA_SIG_get0_r(sig));
      inner.mpint(ECDSA_SIG_get0_s(sig));
      ECDSA_SIG_free(sig);
      w.str(t);
      w.str(inner.buf);
    } else if (t == "ssh-rsa") {
      w.str("rsa-sha2-512");
      w.str(evp_sign(m->pkey.get(), EVP_sha512(), data));
    } else {
      fail("cannot sign with " + t);
    }
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(e.what());
  }
  return w.buf;
}

// ---------------------------------------------------------------------------
// SSHSIG
// ---------------------------------------------------------------------------

namespace {

constexpr std::string_view k_magic = "SSHSIG";
constexpr std::string_view k_begin = "-----BEGIN SSH SIGNATURE-----";
constexpr std::string_view k_end = "-----END SSH SIGNATURE-----";

std::string digest(std::string_view hash, std::string_view message) {
  const EVP_MD* md = hash == "sha512" ? EVP_sha512() : hash == "sha256" ? EVP_sha256() : nullptr;
  if (!md) fail("unsupported hash algorithm '" + std::string(hash) + "' (sha256 or sha512)");
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(message.data(), message.size(), out, &len, md, nullptr) != 1) fail("digest failed");
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string signed_data(std::string_view ns, std::string_view reserved, std::string_view hash, std::string_view h) {
  Writer w;
  w.raw(k_magic);
  w.str(ns);
  w.str(reserved);
  w.str(hash);
  w.str(h);
  return w.buf;
}

}  // namespace

std::string sign(const SigningKey& key, std::string_view message, std::string_view ns, std::string_view hash) {
  if (ns.empty()) throw Error("the signature namespace must not be empty");
  std::string h;
  try {
    h = digest(hash, message);
  } catch (const std::runtime_error& e) {
    throw Error(e.what());
  }
  std::string sig = key.sign_blob(signed_data(ns, "", hash, h));
  Writer w;
  w.raw(k_magic);
  w.u32(1);
  w.str(key.public_key().blob);
  w.str(ns);
  w.str("");
  w.str(hash);
  w.str(sig);
  std::string b64 = base64_encode(w.buf);
  std::string out = std::string(k_begin) + "\n";
  for (std::size_t i = 0; i < b64.size(); i += 70) out += b64.substr(i, 70) + "\n";
  out += std::string(k_end) + "\n";
  return out;
}

Verification verify(std::string_view armored, std::string_view message, std::string_view ns,
                    const std::string& allowed_signers, const std::string& identity, std::time_t now) {
  Verification v;
  auto bad = [&](const std::string& why) {
    v.ok = false;
    v.message = why;
    return v;
  };
  auto b = armored.find(k_begin);
  auto e = armored.find(k_end);
  if (b == std::string_view::npos || e == std::string_view::npos || e < b)
    return bad("not an SSH signature (no -----BEGIN SSH SIGNATURE----- block)");
  auto blob = base64_decode(armored.substr(b + k_begin.size(), e - b - k_begin.size()));
  if (!blob) return bad("the signature is not valid base64");
  Reader r{*blob};
  std::string_view magic, pub, sig_ns, reserved, hash, sig;
  std::uint32_t version = 0;
  if (!r.raw(6, magic) || magic != k_magic) return bad("not an SSHSIG signature (bad magic)");
  if (!r.u32(version) || version != 1) return bad("unsupported SSHSIG version " + std::to_string(version));
  if (!r.str(pub) || !r.str(sig_ns) || !r.str(reserved) || !r.str(hash) || !r.str(sig) || !r.done())
    return bad("the signature is truncated or malformed");
  std::string key_type;
  Pkey pkey;
  try {
    pkey = pkey_from_public_blob(std::string(pub), key_type);
  } catch (const std::exception& ex) {
    return bad(std::string("signature key: ") + ex.what());
  }
  v.key = PublicKey{key_type, std::string(pub)};
  if (sig_ns != ns)
    return bad("signature namespace '" + std::string(sig_ns) + "' does not match the expected '" + std::string(ns) + "'");
  std::string h;
  try {
    h = digest(hash, message);
  } catch (const std::exception& ex) {
    return bad(ex.what());
  }
  // The signature blob: string algorithm, string signature.
  Reader sr{sig};
  std::string_view alg, raw;
  if (!sr.str(alg) || !sr.str(raw) || !sr.done()) return bad("malformed signature blob");
  std::string data = signed_data(sig_ns, reserved, hash, h);
  bool good = false;
  if (key_type == "ssh-ed25519") {
    if (alg != "ssh-ed25519") return bad("signature algorithm " + std::string(alg) + " does not match the Ed25519 key");
    good = evp_verify(pkey.get(), nullptr, data, raw);
  } else if (starts_with(key_type, "ecdsa-sha2-")) {
    if (alg != key_type) return bad("signature algorithm " + std::string(alg) + " does not match the " + key_type + " key");
    Reader er{raw};
    std::string_view rr, ss;
    if (!er.str(rr) || !er.str(ss) || !er.done()) return bad("malformed ECDSA signature");
    ECDSA_SIG* es = ECDSA_SIG_new();
    Bn br, bs;
    try {
      br = bn_from_mpint(rr);
      bs = bn_from_mpint(ss);
    } catch (const std::exception&) {
      ECDSA_SIG_free(es);
      return bad("malformed ECDSA signature");
    }
    ECDSA_SIG_set0(es, br.release(), bs.release());
    unsigned char* der = nullptr;
    int len = i2d_ECDSA_SIG(es, &der);
    ECDSA_SIG_free(es);
    if (len <= 0) return bad("cannot encode the ECDSA signature");
    good = evp_verify(pkey.get(), md_for(key_type), data, std::string_view(reinterpret_cast<char*>(der), static_cast<std::size_t>(len)));
    OPENSSL_free(der);
  } else if (key_type == "ssh-rsa") {
    const EVP_MD* md = alg == "rsa-sha2-512" ? EVP_sha512() : alg == "rsa-sha2-256" ? EVP_sha256() : nullptr;
    if (!md) return bad("RSA signature algorithm " + std::string(alg) + " is not allowed (rsa-sha2-256 or rsa-sha2-512)");
    good = evp_verify(pkey.get(), md, data, raw);
  }
  if (!good) return bad("signature verification failed: the report or the signature was modified, or the key differs");

  // The key must be allowed for this identity (or any principal) and namespace.
  int line_no = 0;
  for (const auto& raw_line : split(allowed_signers, '\n')) {
    ++line_no;
    std::string_view line = trim(raw_line);
    if (line.empty() || line[0] == '#') continue;
    auto w = words_of(line);
    if (w.size() < 3) continue;
    std::string principals = unquote(w[0]);
    std::size_t i = 1;
    std::string options;
    if (!is_key_type(w[1])) {
      options = w[1];
      i = 2;
    }
    if (w.size() < i + 2) continue;
    auto key = parse_public_key(w[i] + " " + w[i + 1]);
    if (!key || key->blob != v.key->blob) continue;
    bool ok = true, cert_authority = false;
    // Options: name[="value"], comma-separated outside quotes.
    std::vector<std::string> opts;
    {
      std::string cur;
      bool q = false;
      for (char c : options) {
        if (c == '"') q = !q;
        if (c == ',' && !q) {
          opts.push_back(cur);
          cur.clear();
        } else {
          cur += c;
        }
      }
      if (!cur.empty()) opts.push_back(cur);
    }
    for (const auto& o : opts) {
      auto eq = o.find('=');
      std::string name = to_lower(o.substr(0, eq));
      std::string val = eq == std::string::npos ? "" : unquote(o.substr(eq + 1));
      if (name == "cert-authority") cert_authority = true;
      else if (name == "namespaces") ok = ok && match_pattern_list(ns, val);
      else if (name == "valid-after") {
        auto t = parse_time(val);
        ok = ok && t && now >= *t;
      } else if (name == "valid-before") {
        auto t = parse_time(val);
        ok = ok && t && now <= *t;
      }
    }
    if (cert_authority || !ok) continue;
    if (!identity.empty() && !match_pattern_list(identity, principals)) continue;
    v.principals.push_back(identity.empty() ? principals : identity);
  }
  if (v.principals.empty()) {
    std::string who = identity.empty() ? "any principal" : "'" + identity + "'";
    return bad("the signature is valid but the " + v.key->kind() + " key " + v.key->fingerprint() +
               " is not an allowed signer for " + who + " and namespace '" + std::string(ns) + "'");
  }
  v.ok = true;
  v.message = "Good \"" + std::string(ns) + "\" signature for " + v.principals.front() + " with " + v.key->kind() +
              " key " + v.key->fingerprint();
  return v;
}

}  // namespace aicloud::certify::sshsig
