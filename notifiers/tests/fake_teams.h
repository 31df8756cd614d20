#pragma once
// A strict fake of a Teams Workflows "When a Teams webhook request is received" trigger, for
// HttpMock. Like the real one it answers 400 only for a body that is not JSON, and 202 to
// anything else: the card is checked later, by the flow run, where a failure never reaches the
// sender. So this fake records each failure of that later check in `rejected` (tests assert it
// stays empty): a body over Teams' 28 KB message limit (28 × 1024 bytes), not a `message` with
// attachments, an attachment that is not application/vnd.microsoft.card.adaptive, a card that is
// not an AdaptiveCard of version ≤ 1.4, an element type Adaptive Cards 1.4 does not have, a
// TextBlock without a text string, a FactSet fact without title and value strings, an action
// other than Action.OpenUrl with a url. Our own contract on top: every TextBlock wraps.
// Thread-safe (HttpMock calls handle() on its thread).
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/http_mock.h"

namespace podmedic::test {

class FakeTeams {
 public:
  static constexpr std::size_t kMaxMessage = 28 * 1024;

  MockResponse handle(const MockRequest& r) {
    using json = nlohmann::json;
    json j = json::parse(r.body, nullptr, false);
    if (j.is_discarded()) {
      std::lock_guard l(mu);
      ++bad_json;
      return {400, R"({"error":{"code":"InvalidRequestContent"}})", {}};
    }
    std::vector<std::string> why;
    if (r.body.size() > kMaxMessage)
      why.push_back("message larger than 28 KB: " + std::to_string(r.body.size()));
    check_message(j, why);
    std::lock_guard l(mu);
    if (why.empty()) {
      cards.push_back(j["attachments"][0]["content"]);
    } else {
      for (auto& w : why) rejected.push_back(std::move(w));
    }
    return {202, "", {}};
  }

  std::mutex mu;
  std::vector<nlohmann::json> cards;  // the AdaptiveCards that would be posted
  std::vector<std::string> rejected;  // why a flow run failed after the 202
  int bad_json = 0;

 private:
  static void check_message(const nlohmann::json& j, std::vector<std::string>& why) {
    if (!j.is_object() || j.value("type", "") != "message") return why.push_back("not a message");
    auto a = j.find("attachments");
    if (a == j.end() || !a->is_array() || a->empty()) return why.push_back("no attachments");
    for (const auto& att : *a) {
      if (!att.is_object() ||
          att.value("contentType", "") != "application/vnd.microsoft.card.adaptive") {
        why.push_back("attachment is not an Adaptive Card");
        continue;
      }
      auto c = att.find("content");
      if (c == att.end() || !c->is_object() || c->value("type", "") != "AdaptiveCard") {
        why.push_back("content is not an AdaptiveCard");
        continue;
      }
      std::string v = c->value("version", "");
      auto dot = v.find('.');
      int major = dot == std::string::npos ? -1 : std::atoi(v.substr(0, dot).c_str());
      int minor = dot == std::string::npos ? -1 : std::atoi(v.substr(dot + 1).c_str());
      if (major != 1 || minor < 0 || minor > 4) why.push_back("card version " + v + " > 1.4");
      auto body = c->find("body");
      if (body == c->end() || !body->is_array()) {
        why.push_back("card without a body");
      } else {
        for (const auto& e : *body) check_element(e, why);
      }
      if (auto acts = c->find("actions"); acts != c->end()) {
        for (const auto& act : *acts) {
          if (!act.is_object() || act.value("type", "") != "Action.OpenUrl" ||
              !act.contains("url") || !act["url"].is_string())
            why.push_back("unsupported action");
        }
      }
    }
  }
  static void check_element(const nlohmann::json& e, std::vector<std::string>& why) {
    static const std::set<std::string> known = {"TextBlock",     "FactSet",   "Container",
                                                "ColumnSet",     "Image",     "ImageSet",
                                                "RichTextBlock", "ActionSet", "Media"};
    std::string type = e.is_object() ? e.value("type", "") : "";
    if (!known.count(type)) return why.push_back("unknown element type \"" + type + "\"");
    if (type == "TextBlock") {
      if (!e.contains("text") || !e["text"].is_string()) why.push_back("TextBlock without text");
      if (!e.contains("wrap") || e["wrap"] != true) why.push_back("TextBlock without wrap");
    } else if (type == "FactSet") {
      for (const auto& f : e.value("facts", nlohmann::json::array())) {
        if (!f.is_object() || !f.contains("title") || !f["title"].is_string() ||
            !f.contains("value") || !f["value"].is_string())
          why.push_back("bad fact");
      }
    } else if (type == "Container") {
      for (const auto& item : e.value("items", nlohmann::json::array())) check_element(item, why);
    }
  }
};

}  // namespace podmedic::test
