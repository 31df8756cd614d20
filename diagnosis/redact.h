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

}  // namespace podmedic::diagnosis
