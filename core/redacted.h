#pragma once
// Redacted: text that has passed the redactor. Only diagnosis::Redactor and RedactionSession
// (their seal()) can make one from cluster text, so a field of this type — an incident's state
// message, key evidence and diagnosis, and everything rendered, served, persisted or mirrored
// from them — cannot be filled with a raw string by mistake: it does not compile. The one other
// way in is from_state(), for text podmedic itself wrote from Redacted values (its own state
// files) and for tests. Immutable; thread-safe like std::string.
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace podmedic {

namespace diagnosis {
class Redactor;
class RedactionSession;
}  // namespace diagnosis

class Redacted {
 public:
  Redacted() = default;
  // Text read back from podmedic's own persisted state, which only ever held Redacted text
  // (incidents.json, the HA state ConfigMap). Tests use it to build incidents.
  static Redacted from_state(std::string text) { return Redacted(std::move(text)); }

  const std::string& str() const { return text_; }
  operator const std::string&() const { return text_; }  // NOLINT: reading is always fine
  const char* c_str() const { return text_.c_str(); }
  bool empty() const { return text_.empty(); }
  std::size_t size() const { return text_.size(); }
  friend bool operator==(const Redacted& a, std::string_view b) { return a.text_ == b; }
  friend bool operator==(const Redacted& a, const Redacted& b) { return a.text_ == b.text_; }

 private:
  friend class diagnosis::Redactor;
  friend class diagnosis::RedactionSession;
  explicit Redacted(std::string text) : text_(std::move(text)) {}
  std::string text_;
};

inline void to_json(nlohmann::json& j, const Redacted& r) {
  j = r.str();
}

}  // namespace podmedic
