#include "notifiers/dispatcher.h"

#include <ctime>
#include <random>

#include "core/log.h"
#include "core/parse.h"
#include "notifiers/state.h"

namespace podmedic::notifiers {

using json = nlohmann::json;
using Steady = std::chrono::steady_clock;

NotifyMetrics::NotifyMetrics(prometheus::Registry& r)
    : total(
          prometheus::BuildCounter()
              .Name("podmedic_notifications_total")
              .Help(
                  "Notification deliveries by notifier and outcome (sent, retry, failed, dropped)")
              .Register(r)),
      depth(prometheus::BuildGauge()
                .Name("podmedic_notification_queue_depth")
                .Help("Messages waiting for delivery, by notifier")
                .Register(r)) {}

namespace {
std::string new_delivery_id() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* hex = "0123456789abcdef";
  std::string id;
  for (int i = 0; i < 2; ++i) {
    auto v = rng();
    for (int b = 0; b < 16; ++b) id.push_back(hex[(v >> (b * 4)) & 15]);
  }
  return id;
}
}  // namespace

struct Dispatcher::Worker {
  using Entry = OutboxMessage;

  Worker(Notifier& n, const DispatcherSettings& s, NotifyMetrics* m, PeerErrors* pe)
      : notifier(n),
        settings(s),
        outbox(s.state_dir, "outbox-" + n.name() + ".json"),
        metrics(m),
        peer_errors(pe),
        backoff(s.backoff) {}

  Notifier& notifier;
  const DispatcherSettings& settings;
  incidents::StateFile outbox;
  NotifyMetrics* metrics;
  PeerErrors* peer_errors;
  Backoff backoff;
  mutable std::mutex mu;
  std::condition_variable cv;
  std::deque<Entry> queue;
  bool stopping = false;
  std::thread thread;
  log::RateLimited logs;

  void count(const char* outcome) {
    if (metrics)
      metrics->total.Add({{"notifier", notifier.name()}, {"outcome", outcome}}).Increment();
  }
  void gauge() {
    if (metrics)
      metrics->depth.Add({{"notifier", notifier.name()}}).Set(static_cast<double>(queue.size()));
  }
  // Caller holds mu.
  json messages() const {
    json msgs = json::array();
    for (const auto& e : queue) msgs.push_back(outbox_message_json(e));
    return msgs;
  }
  // Appends messages whose delivery id is not queued yet, keeping at most max_queue (the oldest
  // go first); returns how many were added. Caller holds mu.
  std::size_t add(std::vector<OutboxMessage> msgs) {
    std::size_t n = 0;
    for (auto& m : msgs) {
      bool known = false;
      for (const auto& e : queue) known = known || e.id == m.id;
      if (known) continue;
      queue.push_back(std::move(m));
      ++n;
    }
    while (queue.size() > settings.max_queue) {
      queue.pop_front();
      count("dropped");
    }
    return n;
  }
  // The same from JSON that came from elsewhere (an HA predecessor's mirror): messages that do
  // not parse are skipped and logged. Caller holds mu.
  std::size_t add(const json& msgs) {
    std::vector<OutboxMessage> valid;
    std::size_t i = 0;
    for (const auto& m : msgs) {
      auto msg = parse_outbox_message(m);
      if (msg.ok()) {
        valid.push_back(std::move(msg).value());
      } else {
        logs.write(log::Level::kWarn, "notifiers", notifier.name() + "adopt",
                   "skipped an adopted message that does not parse",
                   {{"notifier", notifier.name()}, {"index", i}, {"error", msg.error().message}});
      }
      ++i;
    }
    return add(std::move(valid));
  }

  void save() {
    json msgs = messages();
    if (auto r = outbox.save({{"version", 1}, {"notifier", notifier.name()}, {"messages", msgs}});
        !r.ok()) {
      logs.write(log::Level::kError, "notifiers", "outbox-save", "cannot persist the outbox",
                 {{"notifier", notifier.name()}, {"error", r.error().message}});
    }
    gauge();
  }

  // Loads the outbox left by the previous run. A file that does not load is set aside (and the
  // queue starts empty); one with some bad messages is set aside too, and the valid ones are
  // queued and written back at once.
  void restore() {
    const std::string path = outbox.path();
    auto text = read_state_text(path, kMaxOutboxFile);
    if (!text.ok()) {
      set_aside(path, text.error().message);
      return;
    }
    if (!*text) return;  // first start
    auto loaded = parse_outbox(**text);
    if (!loaded.ok()) {
      set_aside(path, loaded.error().message);
      return;
    }
    std::lock_guard lock(mu);
    add(std::move(loaded->items));
    if (loaded->skipped > 0) {
      set_aside(path, std::to_string(loaded->skipped) +
                          " messages skipped, first: " + loaded->first_skip);
      save();
    }
    gauge();
    if (!queue.empty()) {
      log::info("notifiers", "restored undelivered messages",
                {{"notifier", notifier.name()}, {"messages", queue.size()}});
    }
  }

  void enqueue(Payload p) {
    std::lock_guard lock(mu);
    if (queue.size() >= settings.max_queue) {
      queue.pop_front();
      count("dropped");
      logs.write(log::Level::kWarn, "notifiers", notifier.name() + "full",
                 "queue full: dropped the oldest message",
                 {{"notifier", notifier.name()}, {"limit", settings.max_queue}});
    }
    queue.push_back(
        {new_delivery_id(), std::move(p), 0, static_cast<std::int64_t>(std::time(nullptr))});
    save();  // persisted before the pipeline moves on
    cv.notify_one();
  }

  // Sleeps until `until` or stop; returns false when stopping.
  bool wait_until(std::unique_lock<std::mutex>& lock, Steady::time_point until) {
    cv.wait_until(lock, until, [&] { return stopping; });
    return !stopping;
  }

  void run() {
    Steady::time_point last_post{};
    int consecutive_failures = 0;
    std::unique_lock lock(mu);
    for (;;) {
      cv.wait(lock, [&] { return stopping || !queue.empty(); });
      if (stopping) return;
      if (!wait_until(lock, last_post + notifier.min_interval())) return;
      Entry e = queue.front();
      if (std::time(nullptr) - e.created >
          std::chrono::duration_cast<std::chrono::seconds>(settings.max_age).count()) {
        queue.pop_front();
        count("dropped");
        save();
        continue;
      }
      lock.unlock();
      SendResult r = notifier.send(e.payload, e.id);  // blocking, without the lock
      lock.lock();
      last_post = Steady::now();
      if (!r.faults.empty()) {
        for (PeerFault f : r.faults) {
          if (peer_errors) peer_errors->count(notifier.peer(), f);
        }
        logs.write(log::Level::kWarn, "notifiers", notifier.name() + "peer",
                   "the receiver's answer was not usable",
                   {{"notifier", notifier.name()},
                    {"status", r.status},
                    {"fault", fault_label(r.faults.front())},
                    {"error", r.detail}});
      }
      auto front_is = [&] { return !queue.empty() && queue.front().id == e.id; };
      if (r.outcome == Outcome::kOk) {
        if (front_is()) queue.pop_front();
        count("sent");
        consecutive_failures = 0;
        backoff.reset();
        save();
        continue;
      }
      if (r.outcome == Outcome::kPermanent) {
        if (front_is()) queue.pop_front();
        count("failed");
        save();
        log::error("notifiers", "delivery failed permanently",
                   {{"notifier", notifier.name()},
                    {"status", r.status},
                    {"error", r.detail},
                    {"event", e.payload.event}});
        continue;
      }
      count("retry");
      if (front_is()) ++queue.front().attempts;
      ++consecutive_failures;
      // A server's Retry-After is honoured up to our own cap, never beyond (an hour-long hint
      // must not park the queue).
      auto hint = std::min(std::chrono::duration_cast<std::chrono::milliseconds>(r.retry_after),
                           settings.backoff.cap);
      auto delay = backoff.next(Steady::now(), hint);
      if (consecutive_failures >= settings.breaker_threshold) {
        delay =
            std::max(delay, settings.breaker_cooldown);  // breaker open: leave the endpoint alone
      }
      logs.write(log::Level::kWarn, "notifiers", notifier.name() + "retry",
                 "delivery will be retried",
                 {{"notifier", notifier.name()},
                  {"status", r.status},
                  {"error", r.detail},
                  {"delayMs", delay.count()},
                  {"consecutiveFailures", consecutive_failures}});
      if (!wait_until(lock, Steady::now() + delay)) return;
    }
  }
};

Dispatcher::Dispatcher(DispatcherSettings settings,
                       std::vector<std::unique_ptr<Notifier>> notifiers, Facts facts,
                       prometheus::Registry* registry)
    : s_(std::move(settings)), facts_(std::move(facts)), notifiers_(std::move(notifiers)) {
  if (registry) {
    metrics_ = std::make_unique<NotifyMetrics>(*registry);
    peer_errors_ = std::make_unique<PeerErrors>(*registry);
  }
  for (auto& n : notifiers_) {
    workers_.push_back(std::make_unique<Worker>(*n, s_, metrics_.get(), peer_errors_.get()));
    if (metrics_) {  // every notifier's series from the start, at zero
      for (const char* outcome : {"sent", "retry", "failed"})
        metrics_->total.Add({{"notifier", n->name()}, {"outcome", outcome}});
      metrics_->depth.Add({{"notifier", n->name()}}).Set(0);
    }
  }
}

Dispatcher::~Dispatcher() {
  stop();
}

Result<Ok> Dispatcher::start() {
  for (auto& w : workers_) {
    if (auto r = w->outbox.prepare(); !r.ok()) return r;
    w->restore();
    w->thread = std::thread([&w = *w] { w.run(); });
  }
  return Ok{};
}

void Dispatcher::on_incident_event(const incidents::IncidentEvent& e) {
  Rendering r{e.type, e.incidents, facts_};
  for (auto& w : workers_) {
    for (auto& p : w->notifier.render(r)) w->enqueue(std::move(p));
  }
}

void Dispatcher::stop() {
  for (auto& w : workers_) {
    {
      std::lock_guard lock(w->mu);
      w->stopping = true;
    }
    w->cv.notify_all();
  }
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
}

nlohmann::json Dispatcher::outbox_snapshot() const {
  json out = json::object();
  for (const auto& w : workers_) {
    std::lock_guard lock(w->mu);
    out[w->notifier.name()] = w->messages();
  }
  return out;
}

std::size_t Dispatcher::adopt(const nlohmann::json& snapshot) {
  if (!snapshot.is_object()) return 0;
  std::size_t n = 0;
  for (auto& w : workers_) {
    auto it = snapshot.find(w->notifier.name());
    if (it == snapshot.end() || !it->is_array()) continue;
    std::lock_guard lock(w->mu);
    std::size_t added = w->add(*it);
    if (added > 0) {
      w->save();
      w->cv.notify_one();
      n += added;
    }
  }
  return n;
}

std::size_t Dispatcher::pending() const {
  std::size_t n = 0;
  for (const auto& w : workers_) {
    std::lock_guard lock(w->mu);
    n += w->queue.size();
  }
  return n;
}

}  // namespace podmedic::notifiers
