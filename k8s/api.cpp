#include "k8s/api.h"

#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace podmedic::k8s {

using namespace std::chrono_literals;

const char* resource_name(Resource r) {
  return r == Resource::kPods ? "pods" : "events";
}

std::string collection_path(Resource r, const std::string& ns) {
  std::string p = "/api/v1/";
  if (!ns.empty()) p += "namespaces/" + url_encode(ns) + "/";
  return p + resource_name(r);
}

namespace {
void add(std::string& q, const char* key, const std::string& value) {
  if (value.empty()) return;
  q += q.empty() ? '?' : '&';
  q += key;
  q += '=';
  q += url_encode(value);
}
}  // namespace

std::string list_target(Resource r, const std::string& ns, const ListOptions& o) {
  std::string q;
  add(q, "labelSelector", o.label_selector);
  add(q, "fieldSelector", o.field_selector);
  add(q, "resourceVersion", o.resource_version);
  add(q, "continue", o.continue_token);
  if (o.limit > 0) add(q, "limit", std::to_string(o.limit));
  return collection_path(r, ns) + q;
}

std::string watch_target(Resource r, const std::string& ns, const WatchOptions& o) {
  std::string q = "?watch=1";
  add(q, "labelSelector", o.label_selector);
  add(q, "fieldSelector", o.field_selector);
  add(q, "resourceVersion", o.resource_version);
  if (o.bookmarks) add(q, "allowWatchBookmarks", "true");
  if (o.timeout_seconds > 0) add(q, "timeoutSeconds", std::to_string(o.timeout_seconds));
  return collection_path(r, ns) + q;
}

std::string log_target(const std::string& ns, const std::string& pod, const LogOptions& o) {
  std::string q;
  add(q, "container", o.container);
  if (o.previous) add(q, "previous", "true");
  if (o.tail_lines >= 0) add(q, "tailLines", std::to_string(o.tail_lines));
  if (o.limit_bytes > 0) add(q, "limitBytes", std::to_string(o.limit_bytes));
  return "/api/v1/namespaces/" + url_encode(ns) + "/pods/" + url_encode(pod) + "/log" + q;
}

std::string describe(const Status& st) {
  return "HTTP " + std::to_string(st.code) + " " + st.reason +
         (st.message.empty() ? "" : ": " + st.message);
}

namespace {

// GET with the one-shot retry policy: 429/5xx carrying an integer Retry-After (≤ 10 s) are
// retried up to 3 times, as client-go's REST client does (it allows 10).
net::awaitable<Result<HttpResponse>> get_with_retry(KubeClient& client, std::string target,
                                                    std::size_t max_body) {
  for (int attempt = 0;; ++attempt) {
    auto r = co_await client.get(target, max_body, 30s);
    if (!r.ok()) co_return r;
    bool retryable = r->status == 429 || r->status >= 500;
    if (!retryable || r->retry_after_seconds < 0 || r->retry_after_seconds > 10 || attempt >= 3) {
      co_return r;
    }
    auto ex = co_await net::this_coro::executor;
    net::steady_timer timer(ex, std::chrono::seconds(r->retry_after_seconds));
    co_await timer.async_wait(net::as_tuple(net::use_awaitable));
  }
}

// Counts a non-2xx answer the caller did not expect: 5xx were counted by the client; a 4xx
// here (and a Status body with wrong-typed fields) is the API server's fault too.
void count_unexpected(KubeClient& client, const Status& st, int http_status) {
  PeerErrors* errors = client.peer_errors();
  if (!errors) return;
  if (st.wrong_type) errors->count(Peer::kApiServer, PeerFault::kWrongType);
  if (http_status >= 400 && http_status < 500 && http_status != 429)
    errors->count(Peer::kApiServer, PeerFault::kStatus);
}

}  // namespace

net::awaitable<Result<LogText>> fetch_logs(KubeClient& client, std::string ns, std::string pod,
                                           LogOptions options) {
  std::size_t max_body = options.limit_bytes > 0
                             ? static_cast<std::size_t>(options.limit_bytes) + 4096
                             : std::size_t(8) << 20;
  auto r = co_await get_with_retry(client, log_target(ns, pod, options), max_body);
  if (!r.ok()) co_return r.error();
  LogText out;
  if (r->status == 200) {
    out.available = true;
    out.text = std::move(r->body);
    co_return out;
  }
  Status st = parse_status(r->status, r->body);
  if (st.code == 400 && (st.message.find("is waiting to start") != std::string::npos ||
                         st.message.find("previous terminated container") != std::string::npos)) {
    out.unavailable_reason = st.message;
    co_return out;
  }
  count_unexpected(client, st, r->status);
  co_return Error{"logs of " + ns + "/" + pod + ": " + describe(st)};
}

net::awaitable<Result<std::vector<EventView>>> fetch_pod_events(KubeClient& client,
                                                                Decoder& decoder, std::string ns,
                                                                std::string pod, std::string uid,
                                                                std::size_t max) {
  ListOptions o;
  o.field_selector =
      "involvedObject.kind=Pod,involvedObject.name=" + pod + ",involvedObject.namespace=" + ns;
  if (!uid.empty()) o.field_selector += ",involvedObject.uid=" + uid;
  auto r = co_await get_with_retry(client, list_target(Resource::kEvents, ns, o), 16 << 20);
  if (!r.ok()) co_return r.error();
  if (r->status != 200) {
    Status st = parse_status(r->status, r->body);
    count_unexpected(client, st, r->status);
    co_return Error{"events of " + ns + "/" + pod + ": " + describe(st)};
  }
  std::vector<EventView> events;
  ListMeta meta;
  r->body.reserve(r->body.size() + kJsonPadding);
  auto d = decoder.event_list(r->body, r->body.capacity(), meta,
                              [&](EventView& e) { events.push_back(e); });
  if (!d.ok()) {
    if (auto* errors = client.peer_errors()) errors->count(Peer::kApiServer, PeerFault::kMalformed);
    co_return Error{"events of " + ns + "/" + pod + ": " + d.error().message};
  }
  std::sort(events.begin(), events.end(),
            [](const EventView& a, const EventView& b) { return a.last_seen > b.last_seen; });
  if (events.size() > max) events.resize(max);
  co_return events;
}

}  // namespace podmedic::k8s
