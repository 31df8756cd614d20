#include "notifiers/dispatcher.h"

#include <atomic>
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
                  "Notification deliveries by notifier and outcome (sent, retry, failed, dropped, "
                  "expired, superseded)")
              .Register(r)),
      depth(prometheus::BuildGauge()
                .Name("podmedic_notification_queue_depth")
                .Help("Messages waiting for delivery, by notifier")
                .Register(r)),
      outbox_write_errors(incidents::state_write_errors(r, "outbox")),
      slack_threads_write_errors(incidents::state_write_errors(r, "slack_threads")) {}

namespace {
// How often a worker retries a state write that failed.
constexpr auto kSaveRetry = std::chrono::seconds(1);

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

  Worker(Notifier& n, const DispatcherSettings& s, NotifyMetrics* m, PeerErrors* pe, const Clock& c,
         GroupCommit* w)
      : notifier(n),
        settings(s),
        outbox(s.state_dir, "outbox-" + n.name() + ".json"),
        metrics(m),
        peer_errors(pe),
        backoff(s.backoff),
        clock(c),
        writer(w) {
    if (m) {
      outbox.count_errors(&m->outbox_write_errors);
      if (auto* f = n.state_file()) f->count_errors(&m->slack_threads_write_errors);
    }
    if (writer) {
      // Order 0: in a batch the outboxes are written before the incident state.
      slot = writer->add({"outbox-" + n.name(), 0, [this](const json& j) { return outbox.save(j); },
                          [this] { return pull(); },
                          [this](std::uint64_t, const Result<Ok>& r) { sealed(r); }});
    }
  }

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
  http::Cancel cancel;          // stop() aborts the delivery in flight
  bool dirty = false;           // the last outbox write failed: retried every kSaveRetry
  bool notifier_dirty = false;  // the notifier's own state write failed (save_state())
  Steady::time_point next_retry{};
  std::thread thread;
  log::RateLimited logs;
  const Clock& clock;
  // Group commit (null: the outbox is written synchronously by whoever changes the queue).
  GroupCommit* writer;
  GroupCommit::SlotId slot = 0;
  bool detached = false;  // stop() removed the slot
  // start() restored the outbox: before that, writing it would overwrite the previous run's.
  std::atomic<bool> started{false};
  // Enqueued, not yet durable: invisible to the worker until the batch holding them is written.
  // Guarded by in_mu alone, so the pipeline thread never takes mu (which the worker holds).
  // Lock order: mu before in_mu. Bounded by max_queue (the oldest go first).
  struct Unsealed {
    std::uint64_t seq;
    Entry entry;
  };
  mutable std::mutex in_mu;
  std::deque<Unsealed> unsealed;
  std::uint64_t intake_seq = 0;      // under in_mu
  std::uint64_t pulled_upto = 0;     // writer thread: the last unsealed seq in the pulled snapshot
  Steady::time_point next_resend{};  // pipeline thread (resend()): the first call re-posts

  // Coalescing (Payload::key): drops the undelivered message with `key` from `q`, if any, so the
  // newer state queued behind replaces it (counted "superseded"). A message in flight may be the
  // one dropped: its send completes, and the newer one follows it. Caller holds the lock of `q`.
  template <class Q, class Get>
  void supersede(Q& q, const std::string& key, Get entry_of) {
    if (key.empty()) return;
    for (auto it = q.begin(); it != q.end(); ++it) {
      if (entry_of(*it).payload.key == key) {
        q.erase(it);
        count("superseded");
        return;  // at most one per key: every insertion went through here
      }
    }
  }
  static Entry& self(Entry& e) { return e; }

  void count(const char* outcome) {
    if (metrics)
      metrics->total.Add({{"notifier", notifier.name()}, {"outcome", outcome}}).Increment();
  }
  void gauge() {
    if (metrics)
      metrics->depth.Add({{"notifier", notifier.name()}}).Set(static_cast<double>(queue.size()));
  }
  // Every undelivered message, visible ones first, at most max_queue (the newest). Caller holds
  // mu (not in_mu).
  json messages() const {
    json msgs = json::array();
    for (const auto& e : queue) msgs.push_back(outbox_message_json(e));
    std::lock_guard in(in_mu);
    for (const auto& u : unsealed) msgs.push_back(outbox_message_json(u.entry));
    if (msgs.size() > settings.max_queue)
      msgs.erase(msgs.begin(),
                 msgs.begin() + static_cast<std::ptrdiff_t>(msgs.size() - settings.max_queue));
    return msgs;
  }
  std::size_t unsealed_count() const {
    std::lock_guard in(in_mu);
    return unsealed.size();
  }

  // Writer thread: the outbox as it is now, and which intake it covers.
  GroupCommit::Snapshot pull() {
    if (!started) return nullptr;  // start() touches again
    std::lock_guard lock(mu);
    {
      std::lock_guard in(in_mu);
      pulled_upto = intake_seq;
    }
    return std::make_shared<const json>(
        json{{"version", 1}, {"notifier", notifier.name()}, {"messages", messages()}});
  }
  // Writer thread, after the batch's outbox write: what it held is handed to the worker. A
  // failed write keeps today's semantics: delivered anyway, the write retried every kSaveRetry.
  void sealed(const Result<Ok>& r) {
    std::lock_guard lock(mu);
    const bool was_dirty = dirty;
    dirty = !r.ok();
    if (dirty) {
      next_retry = clock.now() + kSaveRetry;
      logs.write(log::Level::kError, "notifiers", notifier.name() + "outbox-save",
                 "cannot persist the outbox; retried every second",
                 {{"notifier", notifier.name()}, {"error", r.error().message}});
    } else if (was_dirty) {
      log::info("notifiers", "outbox saved again", {{"notifier", notifier.name()}});
    }
    {
      std::lock_guard in(in_mu);
      while (!unsealed.empty() && unsealed.front().seq <= pulled_upto) {
        supersede(queue, unsealed.front().entry.payload.key, self);
        queue.push_back(std::move(unsealed.front().entry));
        unsealed.pop_front();
      }
    }
    while (queue.size() > settings.max_queue) {
      queue.pop_front();
      count("dropped");
    }
    gauge();
    cv.notify_one();
  }
  // Appends messages whose delivery id is not queued yet, keeping at most max_queue (the oldest
  // go first); returns how many were added. Caller holds mu.
  std::size_t add(std::vector<OutboxMessage> msgs) {
    std::size_t n = 0;
    for (auto& m : msgs) {
      bool known = false;
      for (const auto& e : queue) known = known || e.id == m.id;
      if (known) continue;
      supersede(queue, m.payload.key, self);
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

  // Writes the outbox (group commit: in the next batch); on failure `dirty` stays set and the
  // worker retries. Caller holds mu.
  bool save() {
    if (writer) {
      if (!detached) writer->touch(slot);
      gauge();
      return true;
    }
    json msgs = messages();
    auto r = outbox.save({{"version", 1}, {"notifier", notifier.name()}, {"messages", msgs}});
    dirty = !r.ok();
    if (dirty) {
      logs.write(log::Level::kError, "notifiers", notifier.name() + "outbox-save",
                 "cannot persist the outbox; retried every second",
                 {{"notifier", notifier.name()}, {"error", r.error().message}});
    }
    gauge();
    return !dirty;
  }
  // Retries the writes that failed, at most once per kSaveRetry. Caller holds mu.
  void retry_saves() {
    if (!dirty && !notifier_dirty) return;
    auto now = clock.now();
    if (now < next_retry) return;
    next_retry = now + kSaveRetry;
    if (dirty && save() && !writer)
      log::info("notifiers", "outbox saved again", {{"notifier", notifier.name()}});
    if (notifier_dirty) notifier_dirty = !notifier.save_state();
  }
  bool state_ok() const {
    auto* f = notifier.state_file();
    return outbox.healthy() && (!f || f->healthy());
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
    if (writer) {
      // Pipeline thread: in_mu only, never a disk; visible to the worker once written.
      {
        std::lock_guard in(in_mu);
        supersede(unsealed, p.key, [](Unsealed& u) -> Entry& { return u.entry; });
        if (unsealed.size() >= settings.max_queue) {
          unsealed.pop_front();
          count("dropped");
          logs.write(log::Level::kWarn, "notifiers", notifier.name() + "full",
                     "queue full: dropped the oldest message",
                     {{"notifier", notifier.name()}, {"limit", settings.max_queue}});
        }
        unsealed.push_back(
            {++intake_seq, {new_delivery_id(), std::move(p), 0, clock.unix_seconds()}});
      }
      writer->touch(slot);
      return;
    }
    std::lock_guard lock(mu);
    supersede(queue, p.key, self);
    if (queue.size() >= settings.max_queue) {
      queue.pop_front();
      count("dropped");
      logs.write(log::Level::kWarn, "notifiers", notifier.name() + "full",
                 "queue full: dropped the oldest message",
                 {{"notifier", notifier.name()}, {"limit", settings.max_queue}});
    }
    queue.push_back({new_delivery_id(), std::move(p), 0, clock.unix_seconds()});
    save();  // persisted before the pipeline moves on
    cv.notify_one();
  }

  // Sleeps until `until`, or until ready() holds, or stop; meanwhile retries failed state writes
  // every kSaveRetry. Returns false when stopping. Caller holds mu (released while waiting).
  template <class Ready>
  bool sleep(std::unique_lock<std::mutex>& lock, Steady::time_point until, Ready ready) {
    for (;;) {
      if (stopping) return false;
      retry_saves();
      if (ready()) return true;
      auto now = clock.now();
      if (now >= until) return true;
      // Bounded waits: a finite deadline for the condition variable, and the next retry. The
      // clock may be a test's: wait for the duration (wake() re-reads it after an advance).
      auto wake = std::min(until, now + std::chrono::hours(1));
      if (dirty || notifier_dirty) wake = std::min(wake, next_retry);
      cv.wait_for(lock, wake - now);
    }
  }
  bool sleep(std::unique_lock<std::mutex>& lock, Steady::time_point until) {
    return sleep(lock, until, [] { return false; });
  }

  // Drops the message at the front when it is older than outbox_max_age. Caller holds mu.
  bool expire_front() {
    const Entry& e = queue.front();
    const auto age = clock.unix_seconds() - e.created;
    if (age <= std::chrono::duration_cast<std::chrono::seconds>(settings.outbox_max_age).count())
      return false;
    log::warn("notifiers", "dropped an undelivered message older than state.outboxMaxAge",
              {{"notifier", notifier.name()},
               {"incident", e.payload.thread},
               {"event", e.payload.event},
               {"deliveryId", e.id},
               {"ageSeconds", age},
               {"attempts", e.attempts}});
    queue.pop_front();
    count("expired");
    save();
    return true;
  }

  void run() {
    Steady::time_point last_post{};
    int consecutive_failures = 0;
    std::unique_lock lock(mu);
    for (;;) {
      if (!sleep(lock, Steady::time_point::max(), [&] { return !queue.empty(); })) return;
      if (!sleep(lock, last_post + notifier.min_interval())) return;
      if (queue.empty() || expire_front()) continue;
      Entry e = queue.front();
      lock.unlock();
      SendResult r = notifier.send(e.payload, e.id, &cancel);  // blocking, without the lock
      lock.lock();
      notifier_dirty = notifier_dirty || !notifier.save_state();
      if (r.outcome == Outcome::kCancelled) {
        // stop(): the message stays first in the outbox, this attempt not counted.
        log::info("notifiers", "delivery aborted by shutdown; kept in the outbox",
                  {{"notifier", notifier.name()}, {"deliveryId", e.id}});
        return;
      }
      last_post = clock.now();
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
      auto delay = backoff.next(clock.now(), hint);
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
      if (!sleep(lock, clock.now() + delay)) return;
    }
  }
};

Dispatcher::Dispatcher(DispatcherSettings settings,
                       std::vector<std::unique_ptr<Notifier>> notifiers, Facts facts,
                       prometheus::Registry* registry, const Clock& clock, GroupCommit* writer)
    : s_(std::move(settings)),
      facts_(std::move(facts)),
      clock_(clock),
      writer_(writer),
      notifiers_(std::move(notifiers)) {
  if (registry) {
    metrics_ = std::make_unique<NotifyMetrics>(*registry);
    peer_errors_ = std::make_unique<PeerErrors>(*registry);
  }
  for (auto& n : notifiers_) {
    workers_.push_back(
        std::make_unique<Worker>(*n, s_, metrics_.get(), peer_errors_.get(), clock_, writer_));
    if (metrics_) {  // every notifier's series from the start, at zero
      for (const char* outcome : {"sent", "retry", "failed", "dropped", "expired", "superseded"})
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
    w->started = true;
    if (w->writer && w->unsealed_count() > 0) w->writer->touch(w->slot);
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

void Dispatcher::resend(const std::vector<const incidents::Incident*>& incidents) {
  const auto now = clock_.now();
  for (auto& w : workers_) {
    const auto interval = w->notifier.resend_interval();
    if (interval.count() <= 0 || now < w->next_resend) continue;
    w->next_resend = now + interval;
    Rendering r{incidents::EventType::kReminder, {}, facts_, true};
    for (const auto* i : incidents) {
      // Announced ones only: the first post of an incident is its (held) opened event. A
      // quietly reopened one stays resolved for Alertmanager, as for every other channel.
      if (i->open() && !i->pending_alert && !i->quiet && i->last_notified != 0)
        r.incidents.push_back(i);
    }
    if (r.incidents.empty()) continue;
    for (auto& p : w->notifier.render(r)) w->enqueue(std::move(p));
  }
}

void Dispatcher::on_alert_diagnosed(const incidents::AlertDiagnosis& a) {
  for (auto& w : workers_) {
    for (auto& p : w->notifier.render_alert(a)) w->enqueue(std::move(p));
  }
}

void Dispatcher::stop() {
  for (auto& w : workers_) {
    {
      std::lock_guard lock(w->mu);
      w->stopping = true;
    }
    w->cancel.cancel();  // a delivery in flight returns within http::kCancelLatency
    w->cv.notify_all();
  }
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
    if (w->writer && !w->detached) {
      // What is pending (unsealed, or a change not written yet) goes to disk now, on this
      // thread, after the batch in progress; then no batch calls back into this worker.
      if (!w->started) {
        // Never restored: the file on disk is the previous run's; leave it as it is.
      } else if (auto r = w->writer->write_now(w->slot, nullptr); !r.ok()) {
        log::error("notifiers", "cannot persist the outbox at shutdown",
                   {{"notifier", w->notifier.name()}, {"error", r.error().message}});
      }
      w->writer->remove(w->slot);
      std::lock_guard lock(w->mu);
      w->detached = true;
    }
    std::lock_guard lock(w->mu);
    if (w->dirty && !w->writer) w->save();  // one last try: pending must be on disk at next start
    if (w->notifier_dirty) w->notifier_dirty = !w->notifier.save_state();
  }
}

void Dispatcher::wake() {
  for (auto& w : workers_) {
    std::lock_guard lock(w->mu);  // no lost wake-up between the worker's check and its wait
    w->cv.notify_all();
  }
}

bool Dispatcher::state_ok() const {
  for (const auto& w : workers_) {
    if (!w->state_ok()) return false;
  }
  return true;
}

std::string Dispatcher::state_error() const {
  for (const auto& w : workers_) {
    std::lock_guard lock(w->mu);
    if (!w->outbox.healthy()) return w->outbox.last_error();
    if (auto* f = w->notifier.state_file(); f && !f->healthy()) return "cannot write " + f->path();
  }
  return {};
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
    n += w->queue.size() + w->unsealed_count();
  }
  return n;
}

}  // namespace podmedic::notifiers
