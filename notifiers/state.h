#pragma once
// The notifiers' own files under state.dir (the outbox of each notifier, the Slack bot's thread
// timestamps) and the Slack Web API's reply, read without trusting them: a file may be truncated,
// hand-edited or written by another version, with any JSON type anywhere. The loaders are pure
// (text → Result, never throw; fuzz targets drive them): a file whose top level does not load is an
// error, an entry of the wrong type is skipped and named, and the caller sets such a file aside
// (<path>.corrupt-<unix>, as the incident state does) and carries on with what was valid.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/peer_errors.h"
#include "core/result.h"
#include "notifiers/notifier.h"

namespace podmedic::notifiers {

// One undelivered message, as kept in the outbox and mirrored for HA.
struct OutboxMessage {
  std::string id;  // the delivery id, stable across retries and restarts
  Payload payload;
  int attempts = 0;
  std::int64_t created = 0;  // unix seconds
};

// What a loader kept, and what it skipped (the count and the first reason, for one log line).
template <class T>
struct Loaded {
  std::vector<T> items;
  std::size_t skipped = 0;
  std::string first_skip;
};

// One message: id and body are required non-empty/strings; event, thread and key strings, root a
// bool, attempts and created integers, each optional (absent or null: the default) but never of
// another type. The error names the field.
Result<OutboxMessage> parse_outbox_message(const nlohmann::json& m);
nlohmann::json outbox_message_json(const OutboxMessage& m);
// An outbox file: {"version": 1, "notifier": …, "messages": [ … ]}.
Result<Loaded<OutboxMessage>> parse_outbox(std::string_view text);

// The Slack bot's thread file: {"version": 1, "threads": [{"incident": …, "ts": …}]}, oldest
// first; at most `max_entries` (the newest) are kept.
struct SlackThread {
  std::string incident;
  std::string ts;  // the alert's ts, an exact string ("1503435956.000247"), never a number
};
Result<Loaded<SlackThread>> parse_slack_threads(std::string_view text,
                                                std::size_t max_entries = 5000);

// A Slack Web API reply to chat.postMessage (HTTP 2xx). Unreadable covers a body that does not
// parse or whose "ok" is not a boolean: we cannot tell whether it failed, and the request did
// reach Slack with a 2xx, so the caller treats it as delivered (a retry could post it twice).
struct SlackReply {
  enum class Kind { kOk, kError, kUnreadable } kind = Kind::kUnreadable;
  std::string ts;                  // ok (or unreadable but carrying a string ts)
  std::string error;               // kError: Slack's error code ("channel_not_found")
  std::optional<PeerFault> fault;  // what to count, if the reply was not what the API promises
  std::string detail;              // why it was not, for the log
};
SlackReply parse_slack_reply(std::string_view body);

// Reads a state file of at most `max_bytes`: nullopt when it does not exist; an error when it
// cannot be read or is larger.
Result<std::optional<std::string>> read_state_text(const std::string& path, std::size_t max_bytes);
// Moves `path` aside to <path>.corrupt-<unix> for a human, with one error log line saying why;
// returns where it went.
std::string set_aside(const std::string& path, const std::string& why);

}  // namespace podmedic::notifiers
