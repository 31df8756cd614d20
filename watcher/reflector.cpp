#include "watcher/reflector.h"

#include <optional>
#include <random>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace podmedic::watcher {

using namespace std::chrono_literals;

Reflector::Reflector(k8s::KubeClient& client, k8s::Resource resource, ReflectorOptions options,
                     ReflectorSink& sink, WatchMetrics& metrics)
    : client_(client),
      resource_(resource),
      opts_(std::move(options)),
      sink_(sink),
      metrics_(metrics),
      backoff_(opts_.backoff) {}

std::string Reflector::name() const {
  return std::string(k8s::resource_name(resource_)) + (opts_.ns.empty() ? "" : "@" + opts_.ns);
}

net::awaitable<void> Reflector::run() {
  auto ex = co_await net::this_coro::executor;
  net::steady_timer timer(ex);
  bool need_list = true;
  bool just_listed = false;  // the next watch is the first after a successful list
  for (;;) {
    Outcome o;
    if (need_list) {
      o = co_await list_all();
      if (o.end == End::kOk) {
        need_list = false;
        just_listed = true;
      }
    }
    if (!need_list) {
      o = co_await watch_once();
      const bool first_after_list = std::exchange(just_listed, false);
      // A watch that delivered objects proves the server serves us: earlier failures no longer
      // count towards the next delay (client-go resets its backoff the same way).
      if (o.delivered) backoff_.reset();
      if (o.end == End::kClean) continue;  // normal end of a watch: re-watch from the last RV
      if (o.end == End::kExpired || o.end == End::kShortWatch) need_list = true;
      // 410 Expired is the protocol asking for a relist, not a failure: relist at once, whatever
      // delay earlier failures built up. Only a 410 on the first watch after a relist that
      // delivered nothing is backed off, so a server answering every watch with 410 cannot make
      // us relist in a loop.
      if (o.end == End::kExpired && (!first_after_list || o.delivered)) continue;
    }
    // Failures wait a jittered, growing delay (at least the server's Retry-After).
    auto delay = backoff_.next(std::chrono::steady_clock::now(), o.retry_after);
    timer.expires_after(delay);
    co_await timer.async_wait(net::as_tuple(net::use_awaitable));
  }
}

void Reflector::count_peer(PeerFault fault) {
  if (auto* errors = client_.peer_errors()) errors->count(Peer::kApiServer, fault);
}

Reflector::Outcome Reflector::failure(const char* what, const k8s::Status& st,
                                      bool status_counted) {
  const bool expired = st.code == 410 || st.reason == "Expired" || st.reason == "Gone";
  const RestartReason reason = expired          ? RestartReason::kExpired
                               : st.code == 401 ? RestartReason::kUnauthorized
                               : st.code == 403 ? RestartReason::kForbidden
                               : st.code == 429 ? RestartReason::kThrottled
                               : st.code >= 500 ? RestartReason::kServerError
                                                : RestartReason::kClientError;
  // 410 is the protocol asking for a relist and 429 is flow control; anything else is the
  // server failing us (5xx over HTTP were already counted by the client).
  if (st.wrong_type) count_peer(PeerFault::kWrongType);
  if (!expired && st.code != 429 && !status_counted) count_peer(PeerFault::kStatus);
  metrics_.restart(resource_, reason).Increment();
  // The rate-limit key uses the reason class, not the peer's code: a server cycling through
  // codes must not grow the limiter's table.
  logs_.write(
      expired ? log::Level::kInfo : log::Level::kWarn, "watcher",
      name() + what + restart_reason_label(reason), std::string(what) + " failed",
      {{"resource", name()}, {"status", st.code}, {"reason", st.reason}, {"message", st.message}});
  Outcome o;
  o.end = expired ? End::kExpired : End::kRetry;
  // A server's hint raises the delay, up to max_retry_after (30 s), never beyond.
  if (st.retry_after_seconds > 0)
    o.retry_after = std::min<std::chrono::milliseconds>(
        std::chrono::seconds(std::min(st.retry_after_seconds, 86400)), opts_.max_retry_after);
  return o;
}

Reflector::Outcome Reflector::http_failure(const char* what, const k8s::HttpResponse& r) {
  auto st = k8s::parse_status(r.status, r.body);
  if (r.retry_after_seconds >= 0)
    st.retry_after_seconds = r.retry_after_seconds;  // the header wins
  return failure(what, st, /*status_counted=*/r.status >= 500);
}

net::awaitable<Reflector::Outcome> Reflector::list_all() {
  k8s::ListOptions lo;
  lo.label_selector = opts_.label_selector;
  lo.field_selector = opts_.field_selector;
  lo.limit = opts_.page_size;
  sink_.begin_list();
  std::string list_rv;
  int restarts = 0;
  std::size_t pages = 0, items = 0;
  for (;;) {
    auto r =
        co_await client_.get(k8s::list_target(resource_, opts_.ns, lo), opts_.max_list_bytes, 120s);
    if (!r.ok()) {
      metrics_.restart(resource_, RestartReason::kConnection).Increment();
      logs_.write(log::Level::kWarn, "watcher", name() + "list-transport", "list failed",
                  {{"resource", name()}, {"error", r.error().message}});
      co_return Outcome{End::kRetry, {}};
    }
    if (r->status == 410 && !lo.continue_token.empty() && restarts < 3) {
      // The continue token expired (compaction): redo the whole list from the start, as
      // client-go's pager does.
      ++restarts;
      log::info("watcher", "continue token expired; restarting the list", {{"resource", name()}});
      lo.continue_token.clear();
      sink_.begin_list();
      continue;
    }
    if (r->status != 200) co_return http_failure("list", *r);
    r->body.reserve(r->body.size() + k8s::kJsonPadding);
    sink_.received_at = std::chrono::steady_clock::now();
    auto meta = sink_.apply_list_page(r->body, r->body.capacity());
    if (!meta.ok()) {
      count_peer(PeerFault::kMalformed);
      metrics_.decode_error(resource_, DecodeErrorKind::kList).Increment();
      logs_.write(log::Level::kError, "watcher", name() + "list-decode", "list response unusable",
                  {{"resource", name()}, {"error", meta.error().message}});
      co_return Outcome{End::kRetry, {}};
    }
    ++pages;
    items += meta->items;
    if (meta->resource_version.size() > kMaxResourceVersionBytes ||
        meta->continue_token.size() > kMaxContinueBytes) {
      // They go back into our request URLs: a peer must not make those unbounded.
      count_peer(PeerFault::kOversized);
      metrics_.decode_error(resource_, DecodeErrorKind::kList).Increment();
      logs_.write(log::Level::kError, "watcher", name() + "list-token", "list response unusable",
                  {{"resource", name()}, {"error", "resourceVersion or continue token too long"}});
      co_return Outcome{End::kRetry, {}};
    }
    if (lo.continue_token.empty()) list_rv = meta->resource_version;
    if (meta->continue_token.empty()) break;
    lo.continue_token = meta->continue_token;
  }
  sink_.end_list();
  rv_ = list_rv;
  synced_ = true;
  ++lists_;
  metrics_.relist(resource_).Increment();
  log::info("watcher", "listed",
            {{"resource", name()}, {"items", items}, {"pages", pages}, {"resourceVersion", rv_}});
  co_return Outcome{End::kOk, {}};
}

net::awaitable<Reflector::Outcome> Reflector::watch_once() {
  k8s::WatchOptions wo;
  wo.label_selector = opts_.label_selector;
  wo.field_selector = opts_.field_selector;
  wo.resource_version = rv_;
  wo.bookmarks = true;
  static thread_local std::mt19937 rng{std::random_device{}()};
  auto lo = opts_.min_watch_timeout.count(), hi = std::max(lo + 1, opts_.max_watch_timeout.count());
  wo.timeout_seconds = static_cast<int>(std::uniform_int_distribution<long long>(lo, hi - 1)(rng));
  ++watches_;

  std::string buf;
  std::size_t events = 0;
  bool skipping = false;  // inside an oversized line: drop bytes until its newline
  Outcome stop;           // set when a line ends the watch (ERROR)
  bool stopped = false;
  auto start = std::chrono::steady_clock::now();

  // Decodes one complete line; false when it ends the watch. `capacity` counts the readable
  // bytes from the line's start (simdjson reads up to kJsonPadding past its end).
  auto on_line = [&](std::string_view line, std::size_t capacity) -> bool {
    if (line.empty() || line == "\r") return true;
    auto hdr = sink_.apply_watch_line(line, capacity);
    if (!hdr.ok()) {
      count_peer(PeerFault::kMalformed);
      metrics_.decode_error(resource_, DecodeErrorKind::kMalformed).Increment();
      logs_.write(log::Level::kWarn, "watcher", name() + "malformed",
                  "skipped a malformed watch line",
                  {{"resource", name()}, {"error", hdr.error().message}, {"bytes", line.size()}});
      return true;
    }
    // The label is one of our fixed names ("other" for unknown types): a peer's made-up types
    // must neither add series nor put its bytes into the exposition.
    metrics_.event(resource_, hdr->type).Increment();
    if (hdr->resource_version.size() > kMaxResourceVersionBytes) {
      count_peer(PeerFault::kOversized);
      metrics_.decode_error(resource_, DecodeErrorKind::kOversized).Increment();
      hdr->resource_version.clear();  // applied, but we never watch from such an RV
    }
    switch (hdr->type) {
      case k8s::WatchType::kAdded:
      case k8s::WatchType::kModified:
      case k8s::WatchType::kDeleted:
        ++events;
        if (!hdr->resource_version.empty()) rv_ = hdr->resource_version;
        break;
      case k8s::WatchType::kBookmark:
        if (!hdr->resource_version.empty()) rv_ = hdr->resource_version;
        break;
      case k8s::WatchType::kError:
        // The server ends the stream after an ERROR event; 410 Expired/Gone means relist.
        stop = failure("watch", hdr->status);
        stopped = true;
        return false;
      case k8s::WatchType::kUnknown:
        count_peer(PeerFault::kWrongType);
        metrics_.decode_error(resource_, DecodeErrorKind::kUnknownType).Increment();
        logs_.write(log::Level::kWarn, "watcher", name() + "unknown",
                    "ignored a watch event of unknown type",
                    {{"resource", name()}, {"type", hdr->type_name}});
        break;
    }
    return true;
  };
  // Called with the body as it arrives (up to 64 KiB per read; kJsonPadding readable bytes follow
  // each view, see k8s::BodySink). Lines that lie inside one read are decoded in place; only a
  // line that spans reads is copied into `buf`, and each byte is scanned for '\n' once.
  // `ended`: the line's newline was seen (nothing left to drop); else drop until it comes.
  auto on_oversized = [&](bool ended = false) {
    count_peer(PeerFault::kOversized);
    metrics_.decode_error(resource_, DecodeErrorKind::kOversized).Increment();
    logs_.write(log::Level::kWarn, "watcher", name() + "oversized",
                "skipped an oversized watch line",
                {{"resource", name()}, {"limit", opts_.max_line_bytes}});
    buf.clear();
    skipping = !ended;
  };
  auto on_bytes = [&](std::string_view data) -> bool {
    sink_.received_at = std::chrono::steady_clock::now();
    if (skipping) {
      // Still inside an oversized line: drop bytes until its newline.
      auto nl = data.find('\n');
      if (nl == std::string_view::npos) return true;
      data.remove_prefix(nl + 1);
      skipping = false;
    }
    if (!buf.empty()) {
      // The rest of the line carried over from the previous read (buf holds no newline).
      auto nl = data.find('\n');
      if (nl == std::string_view::npos) {
        buf.append(data);
        if (buf.size() > opts_.max_line_bytes) on_oversized();
        return true;
      }
      buf.append(data.substr(0, nl));
      data.remove_prefix(nl + 1);
      if (buf.size() > opts_.max_line_bytes) {
        on_oversized(true);
      } else {
        buf.reserve(buf.size() + k8s::kJsonPadding);
        if (!on_line(buf, buf.capacity())) return false;
        buf.clear();
      }
    }
    const char* readable_end = data.data() + data.size() + k8s::kJsonPadding;
    for (auto nl = data.find('\n'); nl != std::string_view::npos; nl = data.find('\n')) {
      std::string_view line = data.substr(0, nl);
      data.remove_prefix(nl + 1);
      if (line.size() > opts_.max_line_bytes) {
        on_oversized(true);
        continue;
      }
      if (!on_line(line, static_cast<std::size_t>(readable_end - line.data()))) return false;
    }
    if (data.size() > opts_.max_line_bytes) {
      on_oversized();
      return true;
    }
    buf.assign(data);  // a line that continues in the next read
    return true;
  };
  // Connected while the stream is open (a cancelled watch returns here too). Not a destructor
  // guard: a coroutine frame destroyed at shutdown without resuming may outlive the registry
  // the gauge lives in, and must not touch it.
  auto& connected = metrics_.watch_connected(resource_);
  connected.Increment();
  auto r = co_await client_.stream(k8s::watch_target(resource_, opts_.ns, wo), on_bytes,
                                   std::chrono::seconds(wo.timeout_seconds) + 30s);
  connected.Decrement();
  const bool delivered = events > 0;
  if (stopped) {
    stop.delivered = delivered;
    co_return stop;
  }
  if (!r.ok()) {
    metrics_.restart(resource_, RestartReason::kConnection).Increment();
    logs_.write(log::Level::kWarn, "watcher", name() + "watch-transport", "watch interrupted",
                {{"resource", name()}, {"error", r.error().message}, {"events", events}});
    co_return Outcome{End::kRetry, {}, delivered};
  }
  if (r->status != 200) co_return http_failure("watch", *r);
  if (!buf.empty()) {
    count_peer(PeerFault::kMalformed);
    metrics_.decode_error(resource_, DecodeErrorKind::kTruncated).Increment();
  }
  if (events == 0 && std::chrono::steady_clock::now() - start < 1s) {
    // client-go treats a watch that ends within a second without events as an error.
    metrics_.restart(resource_, RestartReason::kShortWatch).Increment();
    co_return Outcome{End::kShortWatch, {}};
  }
  metrics_.restart(resource_, RestartReason::kTimeout).Increment();
  co_return Outcome{End::kClean, {}, delivered};
}

}  // namespace podmedic::watcher
