#pragma once
// Redactor: removes secrets from text before it leaves the process (LLM prompt, Slack,
// webhooks, HTTP, terminal). Linear-time RE2 patterns, since logs are hostile input:
// PEM private keys, Authorization/Bearer/Basic credentials, JWTs, AWS/GCP/Slack/GitHub tokens,
// credentials in URLs, and key=value / key: value / "key":"value" pairs whose key names a
// secret (password, passwd, pwd, secret, token, api_key, access_key, private_key, credentials…).
// Immutable after construction; thread-safe.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace podmedic::diagnosis {

class Redactor {
 public:
  // `extra` are additional RE2 patterns whose whole match is replaced with [REDACTED].
  static Result<Redactor> create(const std::vector<std::string>& extra = {});
  Redactor(Redactor&&) noexcept;
  ~Redactor();
  std::string redact(std::string_view text) const;

 private:
  struct Rule;
  Redactor();
  std::vector<std::unique_ptr<Rule>> rules_;
};

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
