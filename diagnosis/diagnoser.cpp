#include "diagnosis/diagnoser.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace podmedic::diagnosis {

namespace net = boost::asio;

namespace {
bool is_hex(char c) {
  return std::isxdigit(static_cast<unsigned char>(c)) != 0;
}

std::uint64_t fnv1a(std::uint64_t h, char c) {
  h ^= static_cast<unsigned char>(c);
  return h * 1099511628211ULL;
}
// Length of a UUID (8-4-4-4-12 hex digits) starting at i, or 0.
std::size_t uuid_at(std::string_view s, std::size_t i) {
  static constexpr int kGroups[] = {8, 4, 4, 4, 12};
  std::size_t j = i;
  for (int g = 0; g < 5; ++g) {
    if (g > 0) {
      if (j >= s.size() || s[j] != '-') return 0;
      ++j;
    }
    for (int k = 0; k < kGroups[g]; ++k, ++j) {
      if (j >= s.size() || !is_hex(s[j])) return 0;
    }
  }
  return j - i;
}
}  // namespace

std::uint64_t evidence_hash(std::string_view evidence, const std::vector<std::string>& names) {
  // Words are maximal runs of letters and digits. A word with a digit in it (a count, a time,
  // an IP, a version, an id) or a hex run of 8+ characters (a uid group, a trace id) hashes
  // as '#'; the given names as '*'; everything else as itself.
  auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  std::uint64_t h = 14695981039346656037ULL;
  std::size_t i = 0;
  while (i < evidence.size()) {
    bool replaced = false;
    for (const auto& n : names) {
      if (!n.empty() && evidence.compare(i, n.size(), n) == 0) {
        h = fnv1a(h, '*');
        i += n.size();
        replaced = true;
        break;
      }
    }
    if (replaced) continue;
    if (!alnum(evidence[i])) {
      h = fnv1a(h, evidence[i++]);
      continue;
    }
    if (auto n = uuid_at(evidence, i); n > 0) {
      h = fnv1a(h, '#');
      i += n;
      continue;
    }
    std::size_t j = i;
    bool digit = false, hex = true;
    while (j < evidence.size() && alnum(evidence[j])) {
      digit = digit || std::isdigit(static_cast<unsigned char>(evidence[j]));
      hex = hex && is_hex(evidence[j]);
      ++j;
    }
    if (digit || (hex && j - i >= 8)) {
      h = fnv1a(h, '#');
    } else {
      for (std::size_t k = i; k < j; ++k) h = fnv1a(h, evidence[k]);
    }
    i = j;
  }
  return h;
}

Diagnoser::Diagnoser(TaskGroup& tasks, std::string model, DiagnoserSettings s, Gather gather,
                     Ask ask, Deliver deliver)
    : tasks_(tasks),
      model_(std::move(model)),
      s_(s),
      gather_(std::move(gather)),
      ask_(std::move(ask)),
      deliver_(std::move(deliver)) {
  s_.gather_concurrency = std::max<std::size_t>(1, s_.gather_concurrency);
  s_.llm_concurrency = std::max<std::size_t>(1, s_.llm_concurrency);
  s_.queue_capacity = std::max<std::size_t>(1, s_.queue_capacity);
}

bool Diagnoser::submit(DiagnosisRequest r) {
  ++stats_.requests;
  // Openings first (newest first), then joins (newest first).
  auto first_join = std::find_if(queue_.begin(), queue_.end(),
                                 [](const DiagnosisRequest& q) { return !q.opening; });
  const bool opening = r.opening;
  const std::string fp = r.fingerprint;
  queue_.insert(r.opening ? queue_.begin() : first_join, std::move(r));
  bool kept = true;
  if (queue_.size() > s_.queue_capacity) {
    DiagnosisRequest dropped = std::move(queue_.back());
    queue_.pop_back();
    ++stats_.dropped;
    kept = !(dropped.fingerprint == fp && dropped.opening == opening);
    DiagnosisOutcome out;
    out.fingerprint = dropped.fingerprint;
    out.pod = dropped.pod;
    out.answer = Error{"diagnosis queue full; request dropped"};
    out.outcome = "dropped";
    deliver_(out);
  }
  pump();
  return kept;
}

void Diagnoser::pump() {
  while (gathering_ < s_.gather_concurrency && !queue_.empty()) {
    DiagnosisRequest r = std::move(queue_.front());
    queue_.pop_front();
    ++gathering_;
    tasks_.spawn("diagnosis", process(std::move(r)));
  }
  while (calling_ < s_.llm_concurrency && !call_queue_.empty()) {
    auto [key, evidence] = std::move(call_queue_.front());
    call_queue_.pop_front();
    ++calling_;
    tasks_.spawn("llm call", call(std::move(key), std::move(evidence)));
  }
}

net::awaitable<void> Diagnoser::process(DiagnosisRequest r) {
  auto op = gather_(r.ns, r.pod);
  auto ev = co_await std::move(op);
  --gathering_;
  if (!ev.ok()) {
    ++stats_.gather_errors;
    DiagnosisOutcome out;
    out.fingerprint = r.fingerprint;
    out.pod = r.pod;
    out.answer = Error{"cannot gather evidence: " + ev.error().message};
    deliver_(out);
    pump();
    co_return;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx",
                static_cast<unsigned long long>(evidence_hash(ev->text, ev->volatile_names)));
  std::string key = r.fingerprint + "\n" + model_ + "\n" + hex;
  if (on_evidence_) on_evidence_(r, ev.value());
  if (!s_.ask_llm) {
    DiagnosisOutcome out{r.fingerprint, r.pod, Error{"LLM disabled"}, ev->text, "disabled"};
    deliver_(out);
  } else if (const auto* hit = cache_get(key)) {
    ++stats_.cache_hits;
    DiagnosisOutcome out{r.fingerprint, r.pod, *hit, ev->text, "cached"};
    deliver_(out);
  } else if (auto w = waiting_.find(key); w != waiting_.end()) {
    ++stats_.coalesced;
    w->second.push_back({std::move(r), ev->text});
  } else {
    waiting_[key].push_back({std::move(r), ev->text});
    call_queue_.emplace_back(key, std::move(ev.value()));
  }
  pump();
}

net::awaitable<void> Diagnoser::call(std::string key, GatheredEvidence evidence) {
  auto op = ask_(std::move(evidence));
  auto answer = co_await std::move(op);
  --calling_;
  ++stats_.llm_calls;
  if (answer.ok()) {
    cache_put(key, answer.value());
  } else {
    ++stats_.llm_errors;
  }
  finish(key, answer);
  pump();
}

void Diagnoser::finish(const std::string& key, const Result<LlmAnswer>& answer) {
  auto it = waiting_.find(key);
  if (it == waiting_.end()) return;
  auto waiters = std::move(it->second);
  waiting_.erase(it);
  const char* fresh = answer.ok() ? "ok" : "llm_error";
  for (auto& w : waiters) {
    DiagnosisOutcome out{w.request.fingerprint, w.request.pod, answer, std::move(w.evidence),
                         fresh};
    if (answer.ok()) fresh = "cached";  // the others were served by that one call
    deliver_(out);
  }
}

void Diagnoser::cache_put(const std::string& key, const LlmAnswer& a) {
  if (auto it = cache_.find(key); it != cache_.end()) {
    lru_.erase(it->second);
    cache_.erase(it);
  }
  lru_.emplace_front(key, a);
  cache_[key] = lru_.begin();
  while (cache_.size() > s_.cache_entries) {
    cache_.erase(lru_.back().first);
    lru_.pop_back();
  }
}

const LlmAnswer* Diagnoser::cache_get(const std::string& key) {
  auto it = cache_.find(key);
  if (it == cache_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return &it->second->second;
}

}  // namespace podmedic::diagnosis
