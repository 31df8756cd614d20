#include "diagnosis/redact.h"

#include <re2/re2.h>

namespace podmedic::diagnosis {

struct Redactor::Rule {
  std::unique_ptr<RE2> re;
  std::string rewrite;
};

Redactor::Redactor() = default;
Redactor::Redactor(Redactor&&) noexcept = default;
Redactor::~Redactor() = default;

Result<Redactor> Redactor::create(const std::vector<std::string>& extra) {
  // Order matters: whole blocks and structured tokens first, then generic key=value pairs.
  static const std::vector<std::pair<std::string, std::string>> builtin = {
      {R"(-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----)",
       "[REDACTED PRIVATE KEY]"},
      {R"(\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,})", "[REDACTED JWT]"},
      {R"((?i)(authorization\s*[:=]\s*"?)(?:bearer|basic|token)?\s*[A-Za-z0-9._~+/=:-]{6,})",
       "\\1[REDACTED]"},
      {R"((?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,})", "\\1 [REDACTED]"},
      {R"(\b(?:AKIA|ASIA)[0-9A-Z]{16}\b)", "[REDACTED AWS KEY]"},
      {R"(\bAIza[0-9A-Za-z_-]{35}\b)", "[REDACTED GCP KEY]"},
      {R"(\bxox[abprs]-[0-9A-Za-z-]{10,})", "[REDACTED SLACK TOKEN]"},
      {R"(\bgh[pousr]_[A-Za-z0-9]{36,})", "[REDACTED GITHUB TOKEN]"},
      {R"(\b([a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@"']+):[^\s@/"']+@)", "\\1:[REDACTED]@"},
      {R"((?i)\b([a-z0-9_.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|client[_-]?secret|credentials?)(?:[_-][a-z0-9]+)*)(['"]?\s*[:=]\s*['"]?)([^\s"',;&]+))",
       "\\1\\2[REDACTED]"},
  };
  Redactor r;
  RE2::Options opts;
  opts.set_log_errors(false);
  for (const auto& [pattern, rewrite] : builtin) {
    auto re = std::make_unique<RE2>(pattern, opts);
    if (!re->ok()) return Error{"built-in redaction pattern failed: " + re->error()};
    r.rules_.push_back(std::make_unique<Rule>(Rule{std::move(re), rewrite}));
  }
  for (const auto& pattern : extra) {
    auto re = std::make_unique<RE2>(pattern, opts);
    if (!re->ok()) return Error{"redaction pattern \"" + pattern + "\": " + re->error()};
    r.rules_.push_back(std::make_unique<Rule>(Rule{std::move(re), "[REDACTED]"}));
  }
  return r;
}

std::string Redactor::redact(std::string_view text) const {
  std::string out(text);
  for (const auto& rule : rules_) RE2::GlobalReplace(&out, *rule->re, rule->rewrite);
  return out;
}

}  // namespace podmedic::diagnosis
