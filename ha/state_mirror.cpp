#include "ha/state_mirror.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/parse.h"

namespace podmedic::ha {

namespace net = boost::asio;

namespace {

// metadata.resourceVersion of an object the API server returned; empty when unreadable.
std::string resource_version(const std::string& body) {
  auto j = parse::json_text(body, "object");
  const nlohmann::json* meta = j.ok() ? parse::get_object(*j, "metadata") : nullptr;
  return meta ? parse::string_or(*meta, "resourceVersion") : std::string();
}

// Reads of the ConfigMap: its whole body (two data keys of at most max_bytes together, and
// whatever else another writer added) within 4 MiB.
constexpr std::size_t kMaxRead = 4u << 20;
// The answer to a write echoes the ConfigMap.
constexpr std::size_t kMaxWriteAnswer = 1 << 20;
constexpr std::chrono::seconds kTimeout{10};

}  // namespace

MirrorSettings mirror_settings(const LeaderSettings& lease) {
  MirrorSettings s;
  s.ns = lease.ns;
  s.configmap = lease.name + "-state";
  return s;
}

std::string state_configmap(const MirrorSettings& s, const std::string& state_text,
                            const std::string& outbox_text, const std::string& resource_version) {
  nlohmann::json cm = {{"apiVersion", "v1"},
                       {"kind", "ConfigMap"},
                       {"metadata", {{"name", s.configmap}, {"namespace", s.ns}}},
                       {"data", nlohmann::json::object()}};
  if (!state_text.empty()) cm["data"]["incidents.json"] = state_text;
  if (!outbox_text.empty()) cm["data"]["outbox.json"] = outbox_text;
  if (!resource_version.empty()) cm["metadata"]["resourceVersion"] = resource_version;
  return parse::dump(cm);
}

std::string StateMirror::path(bool item) const {
  std::string p = "/api/v1/namespaces/" + k8s::url_encode(s_.ns) + "/configmaps";
  if (item) p += "/" + k8s::url_encode(s_.configmap);
  return p;
}

void StateMirror::state_saved(const nlohmann::json& state) {
  text_ = parse::dump(state);
  dirty_ = true;
}

net::awaitable<void> StateMirror::take_over() {
  auto get_op = client_.get(path(true), kMaxRead, kTimeout);
  auto got = co_await std::move(get_op);
  if (got.ok() && got->status == 200) {
    // Written by another replica: every member is checked (a damaged ConfigMap means we start
    // from the local state, never an abort).
    auto cm = parse::json_text(got->body, "state ConfigMap");
    const nlohmann::json* data = cm.ok() ? parse::get_object(*cm, "data") : nullptr;
    if (!data) {
      if (peer_errors_) peer_errors_->count(Peer::kApiServer, PeerFault::kMalformed);
      log::warn("leader",
                "the state ConfigMap has no readable data; continuing with the local state");
    }
    std::string text = data ? parse::string_or(*data, "incidents.json") : std::string();
    auto state = parse::json_text(text, "inherited state");
    if (state.ok() && state->is_object()) {
      if (hooks_.save_state) {
        if (auto r = hooks_.save_state(*state); !r.ok()) {
          log::error("leader", "cannot write the inherited state", {{"error", r.error().message}});
        }
      }
      text_ = text;
    }
    // Messages the previous leader had not delivered yet: delivered by us, same delivery ids.
    std::string outbox = data ? parse::string_or(*data, "outbox.json") : std::string();
    auto pending = parse::json_text(outbox, "inherited outbox");
    if (pending.ok() && pending->is_object() && hooks_.adopt_outbox) {
      auto n = hooks_.adopt_outbox(*pending);
      if (n > 0) log::info("leader", "adopted undelivered messages", {{"messages", n}});
    }
  } else if (!got.ok() || got->status != 404) {
    log::warn("leader", "cannot read the state ConfigMap; continuing with the local state",
              {{"error", got.ok() ? std::to_string(got->status) : got.error().message}});
  }
  active_ = true;
}

net::awaitable<void> StateMirror::run() {
  auto ex = co_await net::this_coro::executor;
  net::steady_timer timer(ex);
  log::RateLimited too_big;
  for (;;) {
    timer.expires_after(s_.interval);
    auto wait = timer.async_wait(net::as_tuple(net::use_awaitable));
    auto [ec] = co_await std::move(wait);
    if (ec) co_return;
    if (!active_) continue;
    std::string outbox =
        hooks_.outbox_snapshot ? parse::dump(hooks_.outbox_snapshot()) : std::string();
    if (outbox != mirrored_outbox_) dirty_ = true;
    if (!dirty_) continue;
    dirty_ = false;
    std::string text = text_;
    if (text.size() + outbox.size() > s_.max_bytes) {
      too_big.write(log::Level::kError, "leader", "mirror",
                    "incident state too large for a ConfigMap; a failover may repeat alerts",
                    {{"bytes", text.size()}});
      continue;
    }
    // The resourceVersion of our last write: no GET before each PUT. Unknown (first write, or
    // after a conflict): read it first, or create the ConfigMap.
    if (rv_.empty()) {
      auto get_op = client_.get(path(true), kMaxRead, kTimeout);
      auto got = co_await std::move(get_op);
      if (got.ok() && got->status == 200) {
        rv_ = resource_version(got->body);
      } else if (!got.ok() || got->status != 404) {
        dirty_ = true;
        continue;
      }
    }
    Result<k8s::HttpResponse> put = Error{"not sent"};
    if (rv_.empty()) {
      auto op = client_.send("POST", path(false), state_configmap(s_, text, outbox, ""),
                             kMaxWriteAnswer, kTimeout);
      put = co_await std::move(op);
    } else {
      auto op = client_.send("PUT", path(true), state_configmap(s_, text, outbox, rv_),
                             kMaxWriteAnswer, kTimeout);
      put = co_await std::move(op);
    }
    rv_.clear();
    if (put.ok() && (put->status == 200 || put->status == 201)) {
      rv_ = resource_version(put->body);
      mirrored_outbox_ = outbox;
    } else {
      dirty_ = true;  // try again (a newer state may replace it meanwhile)
      failed_.write(log::Level::kWarn, "leader", "mirror-failed",
                    "cannot mirror the incident state",
                    {{"error", put.ok() ? std::to_string(put->status) : put.error().message}});
    }
  }
}

}  // namespace podmedic::ha
