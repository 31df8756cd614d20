#pragma once
// Redactor: removes secrets from text before it leaves the process (LLM prompt, Slack,
// webhooks, HTTP, terminal, logs, persisted state). What it masks is listed in
// docs/redaction.md; in short:
// - private key blocks (PEM, OpenSSH, PGP, PuTTY), to their END line or, when cut, to the end of
//   the text;
// - ~90 token formats of clouds and SaaS (AWS, GCP, Azure, GitHub, GitLab, Slack, Stripe,
//   OpenAI, Anthropic, Vault, npm, PyPI, Docker Hub, …), JWTs, webhook URLs;
// - credentials in URLs (with or without a user, '@' in the password, a token as the user);
// - Authorization/Bearer/Basic, Cookie/Set-Cookie, `--password x`, `mysql -pX`, redis `AUTH`;
// - key=value / key: value / "key":"value" / \"key\":\"value\" / <key>value</key> / YAML block
//   scalars whose key names a secret (password, passphrase, secret, token, api_key, …).
// Then *secret propagation*: every value recognised above that is ≥ 8 characters long and has
// at least two character classes is masked at every other verbatim occurrence, in the same
// text and — through a RedactionSession — in every text of the same incident.
//
// RE2 only (linear time on hostile logs). An RE2::Set of literal keywords (as gitleaks does)
// picks which rules can match at all, so a 2 MiB log pays one scan plus the rules whose
// keyword occurs. Immutable after construction; thread-safe (const use from any thread).
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/redacted.h"
#include "core/result.h"

namespace podmedic::diagnosis {

class RedactionSession;

class Redactor {
 public:
  // `extra` are additional RE2 patterns (diagnosis.redact.patterns): their whole match is
  // replaced with [REDACTED], or only their capture groups when they have any. Extra patterns
  // are not prefiltered: each one scans every text.
  static Result<Redactor> create(const std::vector<std::string>& extra = {});
  Redactor(Redactor&&) noexcept;
  Redactor& operator=(Redactor&&) noexcept;
  ~Redactor();

  // Redacts one text on its own (propagation within the text only).
  std::string redact(std::string_view text) const;
  // The same, as the type that incidents and notifiers require (core/redacted.h).
  Redacted seal(std::string_view text) const { return Redacted(redact(text)); }
  // Redacts several texts of one incident together: a secret found in any is masked in all.
  void redact_all(std::vector<std::string>& texts) const;

  std::size_t rule_count() const;

  // One masked range of a text; `block` marks a private key block.
  struct Span {
    std::size_t begin, end;
    bool block;
  };

 private:
  friend class RedactionSession;
  struct Rule;
  struct Impl;
  Redactor();
  // Appends the spans of `text` the rules mask, and the values worth propagating to `learned`.
  void find(std::string_view text, std::vector<Span>& spans,
            std::vector<std::string>& learned) const;
  std::unique_ptr<Impl> impl_;
};

// The secrets of one incident. Feed it every text of the incident (logs as fetched, before any
// selection; termination and waiting messages; event messages; the LLM's answer) and it masks
// each secret wherever it recurs. Owned by one incident's gathering; not thread-safe. The
// Redactor must outlive the session. At most kMaxSecrets values are remembered (the rules
// still mask every match past that bound; only propagation stops growing).
class RedactionSession {
 public:
  static constexpr std::size_t kMaxSecrets = 512;
  static constexpr std::size_t kMinPropagated = 8;    // shorter values are not propagated
  static constexpr std::size_t kMaxPropagated = 512;  // nor longer ones (rules catch those)

  explicit RedactionSession(const Redactor& redactor);
  RedactionSession(RedactionSession&&) noexcept;
  RedactionSession& operator=(RedactionSession&&) noexcept;
  ~RedactionSession();

  // Redacts `texts` in place together: first learns the secrets of all of them, then masks.
  // Secrets learned earlier in the session are masked too.
  void redact_all(std::vector<std::string>& texts);
  // Redacts one more text with everything learned so far (and learns from it). A secret first
  // seen here is not masked retroactively in texts already returned: pass texts that belong
  // together to redact_all.
  std::string redact(std::string_view text);
  Redacted seal(std::string_view text) { return Redacted(redact(text)); }
  // The values this session masks wherever they occur.
  const std::vector<std::string>& secrets() const { return secrets_; }

 private:
  void learn(std::vector<std::string>& values);
  std::string render(std::string_view text, std::vector<Redactor::Span>& spans) const;
  void propagate(std::string_view text, std::vector<Redactor::Span>& spans) const;

  const Redactor* redactor_;
  std::vector<std::string> secrets_;  // bounded by kMaxSecrets
  struct Matcher;
  std::unique_ptr<Matcher> matcher_;  // alternation of secrets_, rebuilt when it grows
};

// True if `value` qualifies for propagation: kMinPropagated..kMaxPropagated bytes, no line
// break, and at least two of {lower case, upper case, digit, other}.
bool propagatable_secret(std::string_view value);

// Masks names from the cluster (namespace, workload, pod, node…) with neutral placeholders such
// as "pod-1" before a prompt leaves, and restores them in the answer. Longest names first, so a
// pod name is not half-masked by its workload's prefix.
class NameMasker {
 public:
  // Returns the placeholder for `name` ("<kind>-<n>"), adding it if new. Empty names are ignored.
  std::string add(const std::string& name, const std::string& kind);
  std::string mask(std::string_view text) const;
  std::string unmask(std::string_view text) const;
  const std::vector<std::pair<std::string, std::string>>& pairs() const { return pairs_; }

 private:
  std::vector<std::pair<std::string, std::string>> pairs_;  // name → placeholder
};

// Replaces every occurrence of each pair's first with its second, longest first.
std::string replace_all_longest_first(std::string_view text,
                                      std::vector<std::pair<std::string, std::string>> pairs);

}  // namespace podmedic::diagnosis
