#include "notifiers/state.h"

#include <ctime>
#include <filesystem>
#include <fstream>
#include <limits>

#include "core/log.h"
#include "core/parse.h"
#include "core/text.h"

namespace podmedic::notifiers {

using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

// An optional string member: absent or null → `fallback`; another type → error.
Result<std::string> optional_string(const json& obj, std::string_view key) {
  const json* v = parse::member(obj, key);
  if (!v || v->is_null()) return std::string();
  if (auto s = parse::get_string(obj, key)) return std::move(*s);
  return parse::field_error(obj, key, "a string");
}

// The top level every notifier file shares: an object with "version": 1 and an array `list`.
Result<const json*> versioned_list(const json& j, std::string_view list) {
  if (!j.is_object()) return Error{std::string("expected an object, got ") + parse::type_name(j)};
  auto version = parse::need_integer<int>(j, "version");
  if (!version.ok()) return version.error();
  if (*version != 1) return Error{"unsupported version " + std::to_string(*version)};
  const json* items = parse::get_array(j, list);
  if (!items) return parse::field_error(j, list, "an array");
  return items;
}

template <class T>
void skip(Loaded<T>& out, std::size_t index, const std::string& why) {
  if (out.skipped++ == 0) out.first_skip = "entry " + std::to_string(index) + ": " + why;
}

}  // namespace

Result<OutboxMessage> parse_outbox_message(const json& m) {
  if (!m.is_object()) return Error{std::string("expected an object, got ") + parse::type_name(m)};
  OutboxMessage out;
  auto id = parse::need_string(m, "id");
  if (!id.ok()) return id.error();
  if (id->empty()) return Error{"field \"id\": empty"};
  out.id = std::move(*id);
  auto body = parse::need_string(m, "body");
  if (!body.ok()) return body.error();
  out.payload.body = std::move(*body);
  auto event = optional_string(m, "event");
  if (!event.ok()) return event.error();
  out.payload.event = std::move(*event);
  auto thread = optional_string(m, "thread");
  if (!thread.ok()) return thread.error();
  out.payload.thread = std::move(*thread);
  auto key = optional_string(m, "key");
  if (!key.ok()) return key.error();
  out.payload.key = std::move(*key);
  auto present = [&](std::string_view key) {
    const json* v = parse::member(m, key);
    return v && !v->is_null();
  };
  if (present("root")) {
    auto root = parse::need_bool(m, "root");
    if (!root.ok()) return root.error();
    out.payload.root = *root;
  }
  if (present("attempts")) {
    auto attempts = parse::need_integer<int>(m, "attempts");
    if (!attempts.ok() || *attempts < 0) return parse::field_error(m, "attempts", "a count");
    out.attempts = *attempts;
  }
  if (present("created")) {
    auto created = parse::need_integer<std::int64_t>(m, "created");
    if (!created.ok()) return created.error();
    out.created = *created;
  }
  return out;
}

json outbox_message_json(const OutboxMessage& m) {
  json j = {{"id", m.id},
            {"event", m.payload.event},
            {"body", m.payload.body},
            {"thread", m.payload.thread},
            {"root", m.payload.root},
            {"attempts", m.attempts},
            {"created", m.created}};
  if (!m.payload.key.empty()) j["key"] = m.payload.key;
  return j;
}

Result<Loaded<OutboxMessage>> parse_outbox(std::string_view text) {
  auto j = parse::json_text(text, "outbox");
  if (!j.ok()) return j.error();
  auto list = versioned_list(*j, "messages");
  if (!list.ok()) return list.error();
  Loaded<OutboxMessage> out;
  std::size_t i = 0;
  for (const auto& m : **list) {
    auto msg = parse_outbox_message(m);
    if (msg.ok())
      out.items.push_back(std::move(msg).value());
    else
      skip(out, i, msg.error().message);
    ++i;
  }
  return out;
}

Result<Loaded<SlackThread>> parse_slack_threads(std::string_view text, std::size_t max_entries) {
  auto j = parse::json_text(text, "Slack thread file");
  if (!j.ok()) return j.error();
  auto list = versioned_list(*j, "threads");
  if (!list.ok()) return list.error();
  Loaded<SlackThread> out;
  std::size_t i = 0;
  for (const auto& t : **list) {
    auto incident = parse::need_string(t, "incident");
    auto ts = parse::need_string(t, "ts");
    if (!incident.ok())
      skip(out, i, incident.error().message);
    else if (!ts.ok())
      skip(out, i, ts.error().message);
    else if (incident->empty() || ts->empty())
      skip(out, i, "empty incident or ts");
    else
      out.items.push_back({std::move(*incident), std::move(*ts)});
    ++i;
  }
  if (out.items.size() > max_entries)  // oldest first: keep the newest
    out.items.erase(out.items.begin(), out.items.end() - static_cast<std::ptrdiff_t>(max_entries));
  return out;
}

SlackReply parse_slack_reply(std::string_view body) {
  SlackReply r;
  auto j = parse::json_text(body, "Slack reply");
  if (!j.ok()) {
    r.fault = PeerFault::kMalformed;
    r.detail = "the reply is not JSON";
    return r;
  }
  if (!j->is_object()) {
    r.fault = PeerFault::kWrongType;
    r.detail = std::string("the reply is ") + parse::type_name(*j) + ", not an object";
    return r;
  }
  r.ts = parse::get_string(*j, "ts").value_or("");
  auto ok = parse::get_bool(*j, "ok");
  if (!ok) {
    r.fault = PeerFault::kWrongType;
    r.detail = parse::field_error(*j, "ok", "a boolean").message;
    return r;
  }
  if (!*ok) {
    r.kind = SlackReply::Kind::kError;
    r.ts.clear();
    if (auto e = parse::get_string(*j, "error")) {
      r.error = text::cut_utf8(*e, 100);
    } else {
      r.error = "unknown_error";
      r.fault = PeerFault::kWrongType;
      r.detail = parse::field_error(*j, "error", "a string").message;
    }
    return r;
  }
  r.kind = SlackReply::Kind::kOk;
  if (r.ts.empty()) {
    r.fault = PeerFault::kWrongType;
    r.detail = parse::field_error(*j, "ts", "a non-empty string").message;
  }
  return r;
}

Result<std::optional<std::string>> read_state_text(const std::string& path, std::size_t max_bytes) {
  std::error_code ec;
  auto status = fs::status(path, ec);
  if (ec || status.type() == fs::file_type::not_found) {
    if (status.type() == fs::file_type::not_found || ec == std::errc::no_such_file_or_directory)
      return std::optional<std::string>();
    return Error{"cannot read " + path + ": " + ec.message()};
  }
  if (status.type() != fs::file_type::regular) return Error{path + " is not a regular file"};
  auto size = fs::file_size(path, ec);
  if (ec) return Error{"cannot read " + path + ": " + ec.message()};
  if (size > max_bytes)
    return Error{path + " is larger than " + std::to_string(max_bytes >> 20) + " MiB"};
  std::ifstream f(path, std::ios::binary);
  if (!f) return Error{"cannot open " + path};
  std::string text(static_cast<std::size_t>(size), '\0');
  f.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(f.gcount()));
  return std::optional<std::string>(std::move(text));
}

std::string set_aside(const std::string& path, const std::string& why) {
  std::string aside = path + ".corrupt-" + std::to_string(std::time(nullptr));
  std::error_code ec;
  fs::rename(path, aside, ec);
  log::error("notifiers", "state file set aside",
             {{"path", path},
              {"why", why},
              {"movedTo", ec ? std::string("(not moved: ") + ec.message() + ")" : aside}});
  return aside;
}

}  // namespace podmedic::notifiers
