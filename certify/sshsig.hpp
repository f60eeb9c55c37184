// Report signatures in OpenSSH's SSHSIG format (PROTOCOL.sshsig), the one
// `ssh-keygen -Y sign` writes, so that a tenant checks a certificate with
// stock OpenSSH:
//   ssh-keygen -Y verify -f allowed_signers -I ops@example.com
//              -n aicloudctl-report -s report.json.sig < report.json
// Implemented on OpenSSL (linked statically): Ed25519, ECDSA P-256/384/521
// and RSA (rsa-sha2-512). Private keys are read from unencrypted OpenSSH
// ("openssh-key-v1") or PEM/PKCS#8 files; a passphrase-protected key is used
// through ssh-agent when the agent holds it (SSH_AUTH_SOCK), and is otherwise
// refused with a message saying so. Allowed-signers files follow
// ssh-keygen(1): principals patterns, namespaces=, valid-after=,
// valid-before=; cert-authority lines are not supported and are ignored.
#pragma once

#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aicloud::certify::sshsig {

constexpr const char* k_namespace = "aicloudctl-report";

struct PublicKey {
  std::string type;  // "ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa", ...
  std::string blob;  // SSH wire encoding (RFC 4253 / 5656 / 8709)

  std::string fingerprint() const;  // "SHA256:..." as ssh-keygen -l prints it
  std::string openssh() const;      // "ssh-ed25519 AAAA..."
  std::string kind() const;         // "ED25519", "ECDSA", "RSA"
};

// Parses "TYPE BASE64 [comment]" (an authorized_keys / .pub line).
std::optional<PublicKey> parse_public_key(std::string_view line);

// A key that can sign: a private key file, or a key held by ssh-agent.
class SigningKey {
 public:
  // Loads KEY (private key file, or a .pub file whose key ssh-agent holds).
  // Throws Error with a clear reason (unreadable, unsupported type,
  // encrypted and not in the agent, ...).
  static SigningKey load(const std::string& path);
  ~SigningKey();
  SigningKey(SigningKey&&) noexcept;
  SigningKey& operator=(SigningKey&&) noexcept;

  const PublicKey& public_key() const;
  bool via_agent() const;
  // The SSH signature blob (string algorithm, string signature) over data.
  std::string sign_blob(std::string_view data) const;

  struct Impl;

 private:
  explicit SigningKey(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m;
};

// Signs `message`, returning the armored signature ("-----BEGIN SSH
// SIGNATURE-----" ...). hash: "sha512" (ssh-keygen's default) or "sha256".
std::string sign(const SigningKey& key, std::string_view message, std::string_view ns = k_namespace,
                 std::string_view hash = "sha512");

struct Verification {
  bool ok = false;
  std::string message;                  // ssh-keygen style: Good "ns" signature for ID with ED25519 key SHA256:...
  std::optional<PublicKey> key;         // the key inside the signature
  std::vector<std::string> principals;  // allowed-signers principals that accept it
};

// Verifies `armored` over `message` for namespace `ns` against the text of
// an allowed-signers file. With `identity` empty, any principal whose line
// accepts the key counts (like `ssh-keygen -Y find-principals`). `now` is
// the time valid-after/valid-before are checked against.
Verification verify(std::string_view armored, std::string_view message, std::string_view ns,
                    const std::string& allowed_signers, const std::string& identity, std::time_t now);

// OpenSSH pattern lists: "a*,b?,!c" (used for principals and namespaces).
bool match_pattern_list(std::string_view value, std::string_view patterns);

}  // namespace aicloud::certify::sshsig
