#pragma once
// A strict fake of PagerDuty's Events API v2 (POST /v2/enqueue), for HttpMock: it answers what
// PagerDuty answers and rejects (400 "invalid event", with the errors) what PagerDuty rejects: a
// body that is not a JSON object or larger than 512 KiB, a missing or wrong routing_key
// (PagerDuty's are 32 characters; this fake knows one), an event_action other than
// trigger|acknowledge|resolve, a dedup_key that is not a string of at most 255 characters (or is
// missing for resolve/acknowledge), and for a trigger: a payload without a summary (1..1024
// characters), a source, or a severity of critical|error|warning|info, a timestamp that is not
// a string, links/images that are not arrays of objects with an href string. Accepted events
// answer 202 {"status":"success","message":"Event processed","dedup_key":…} and update the
// alert kept per dedup_key (triggered, then resolved; later triggers append to its log).
// Thread-safe (HttpMock calls handle() on its thread).
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/http_mock.h"

namespace podmedic::test {

class FakePagerDuty {
 public:
  static constexpr const char* kKey = "0123456789abcdef0123456789ABCDEF";

  struct Alert {
    std::string status;               // "triggered" | "resolved"
    std::vector<nlohmann::json> log;  // every accepted event for this dedup_key, in order
  };

  explicit FakePagerDuty(std::string key = kKey) : key_(std::move(key)) {}

  MockResponse handle(const MockRequest& r) {
    using json = nlohmann::json;
    std::vector<std::string> errors;
    auto ct = r.headers.find("content-type");
    if (ct == r.headers.end() || ct->second.rfind("application/json", 0) != 0)
      errors.push_back("Content-Type must be application/json");
    json j = json::parse(r.body, nullptr, false);
    if (r.body.size() > 512 * 1024) errors.push_back("Event object is too large");
    if (!j.is_object()) {
      errors.push_back("Event object is not a JSON object");
      return reject(errors);
    }
    auto str = [&](const json& o, const char* k) -> const std::string* {
      auto it = o.find(k);
      return it != o.end() && it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
    };
    const std::string* key = str(j, "routing_key");
    if (!key || key->size() != 32)
      errors.push_back("Length of 'routing_key' is incorrect (should be 32 characters)");
    else if (*key != key_)
      errors.push_back("Invalid routing key");
    const std::string* action = str(j, "event_action");
    if (!action || (*action != "trigger" && *action != "acknowledge" && *action != "resolve"))
      errors.push_back("'event_action' is invalid (must be trigger, acknowledge or resolve)");
    const std::string* dedup = str(j, "dedup_key");
    if (j.contains("dedup_key") && (!dedup || utf8_chars(*dedup) > 255))
      errors.push_back("'dedup_key' must be a string of at most 255 characters");
    if (action && *action != "trigger" && !dedup)
      errors.push_back("'dedup_key' is required for " + *action);
    if (action && *action == "trigger") {
      auto p = j.find("payload");
      if (p == j.end() || !p->is_object()) {
        errors.push_back("'payload' is missing or not an object");
      } else {
        const std::string* summary = str(*p, "summary");
        if (!summary || summary->empty() || utf8_chars(*summary) > 1024)
          errors.push_back("'payload.summary' must be 1 to 1024 characters");
        const std::string* source = str(*p, "source");
        if (!source || source->empty()) errors.push_back("'payload.source' is missing");
        const std::string* sev = str(*p, "severity");
        if (!sev || (*sev != "critical" && *sev != "error" && *sev != "warning" && *sev != "info"))
          errors.push_back("'payload.severity' is invalid");
        if (p->contains("timestamp") && !str(*p, "timestamp"))
          errors.push_back("'payload.timestamp' must be a string");
      }
      for (const char* list : {"links", "images"}) {
        auto l = j.find(list);
        if (l == j.end()) continue;
        bool ok = l->is_array();
        for (const auto& e : ok ? *l : json::array()) ok = ok && e.is_object() && str(e, "href");
        if (!ok) errors.push_back(std::string("'") + list + "' must be a list of {href}");
      }
    }
    if (!errors.empty()) return reject(errors);
    std::lock_guard l(mu);
    std::string k = dedup ? *dedup : "generated-" + std::to_string(alerts.size());
    Alert& a = alerts[k];
    a.log.push_back(j);
    if (*action == "trigger" && a.status != "triggered") a.status = "triggered";
    if (*action == "resolve") a.status = "resolved";
    ++accepted;
    json reply = {{"status", "success"}, {"message", "Event processed"}, {"dedup_key", k}};
    return {202, reply.dump(), {{"Content-Type", "application/json"}}};
  }

  std::mutex mu;
  std::map<std::string, Alert> alerts;  // by dedup_key
  int accepted = 0;
  int invalid = 0;
  std::vector<std::string> last_errors;

 private:
  MockResponse reject(const std::vector<std::string>& errors) {
    std::lock_guard l(mu);
    ++invalid;
    last_errors = errors;
    nlohmann::json reply = {
        {"status", "invalid event"}, {"message", "Event object is invalid"}, {"errors", errors}};
    return {400, reply.dump(), {{"Content-Type", "application/json"}}};
  }
  static std::size_t utf8_chars(const std::string& s) {
    std::size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
  }
  std::string key_;
};

}  // namespace podmedic::test
