#include "diagnosis/redact.h"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>

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

std::string replace_all_longest_first(std::string_view text,
                                      std::vector<std::pair<std::string, std::string>> pairs) {
  std::erase_if(pairs, [](const auto& p) { return p.first.empty(); });
  std::stable_sort(pairs.begin(), pairs.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  // Whole names only: "app" is not masked inside "application" or "app-v2".
  auto name_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  };
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    bool hit = false;
    const bool starts = i == 0 || !name_char(text[i - 1]);
    for (const auto& [from, to] : pairs) {
      if (!starts) break;
      const std::size_t end = i + from.size();
      if (text.compare(i, from.size(), from) == 0 &&
          (end >= text.size() || !name_char(text[end]))) {
        out += to;
        i += from.size();
        hit = true;
        break;
      }
    }
    if (!hit) out += text[i++];
  }
  return out;
}

std::string NameMasker::add(const std::string& name, const std::string& kind) {
  if (name.empty()) return name;
  std::size_t n = 1;
  for (const auto& [existing, placeholder] : pairs_) {
    if (existing == name) return placeholder;
    if (placeholder.rfind(kind + "-", 0) == 0) ++n;
  }
  pairs_.emplace_back(name, kind + "-" + std::to_string(n));
  return pairs_.back().second;
}

std::string NameMasker::mask(std::string_view text) const {
  return replace_all_longest_first(text, pairs_);
}

std::string NameMasker::unmask(std::string_view text) const {
  std::vector<std::pair<std::string, std::string>> back;
  for (const auto& [name, placeholder] : pairs_) back.emplace_back(placeholder, name);
  return replace_all_longest_first(text, back);
}

}  // namespace podmedic::diagnosis
