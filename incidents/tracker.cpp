#include "incidents/tracker.h"

#include "core/parse.h"

#include <algorithm>
#include <cassert>
#include <limits>

#include "core/log.h"

namespace podmedic::incidents {

const char* to_string(EventType t) {
  switch (t) {
    case EventType::kOpened:
      return "incident.opened";
    case EventType::kReminder:
      return "incident.reminder";
    case EventType::kResolved:
      return "incident.resolved";
    case EventType::kDigest:
      return "incident.digest";
    case EventType::kDiagnosed:
      return "incident.diagnosed";
  }
  return "";
}

IncidentMetrics::IncidentMetrics(prometheus::Registry& r)
    : total(prometheus::BuildCounter()
                .Name("podmedic_incidents_total")
                .Help("Incidents opened, by reason")
                .Register(r)),
      open(prometheus::BuildGauge()
               .Name("podmedic_incidents_open")
               .Help("Incidents currently open, by reason")
               .Register(r)),
      detection_latency(
          prometheus::BuildHistogram()
              .Name("podmedic_detection_latency_seconds")
              .Help("Watch event received to incident opened")
              .Register(r)
              .Add({}, prometheus::Histogram::BucketBoundaries{0.00005, 0.0001, 0.00025, 0.0005,
                                                               0.001, 0.002, 0.005, 0.01, 0.025,
                                                               0.05, 0.1, 0.25, 0.5, 1})),
      state_write_errors(incidents::state_write_errors(r, "incidents")) {}

IncidentTracker::IncidentTracker(IncidentSettings settings, const Clock& clock, IncidentSink& sink,
                                 StateFile* state, IncidentMetrics* metrics)
    : s_(std::move(settings)), clock_(clock), sink_(sink), state_(state), metrics_(metrics) {
  if (state_ && metrics_) state_->count_errors(&metrics_->state_write_errors);
}

IncidentTracker::~IncidentTracker() {
  if (writer_) writer_->remove(slot_);  // no completion reaches a destroyed tracker
}

void IncidentTracker::use_group_commit(GroupCommit& writer, Post post, int order) {
  assert(state_ && post && !writer_);
  writer_ = &writer;
  post_ = std::move(post);
  std::weak_ptr<IncidentTracker*> alive = alive_;
  slot_ = writer.add({"incidents", order,
                      [state = state_](const nlohmann::json& j) { return state->save(j); }, nullptr,
                      // Writer thread: hop back to the tracker's thread with the result.
                      [alive, post = post_](std::uint64_t seq, const Result<Ok>& r) {
                        std::string error = r.ok() ? std::string() : r.error().message;
                        post([alive, seq, error = std::move(error)] {
                          if (auto t = alive.lock()) (*t)->on_saved(seq, error);
                        });
                      }});
}

namespace {
std::string pod_key(const std::string& ns, const std::string& pod) {
  return ns + "/" + pod;
}
constexpr std::size_t kMaxPodNames = 100;
}  // namespace

void IncidentTracker::update_gauge() {
  if (!metrics_) return;
  // Every reason's series, those that dropped to zero included. Bounded by the reasons.
  std::map<std::string, std::size_t> by_reason;
  for (const auto& r : metrics_->open_reasons) by_reason[r] = 0;
  for (const auto& [fp, inc] : open_) ++by_reason[inc.reason];
  for (const auto& [reason, n] : by_reason)
    metrics_->open_reason(reason).Set(static_cast<double>(n));
}

void IncidentTracker::clear() {
  open_.clear();
  resolved_.clear();
  pod_index_.clear();
  recent_openings_.clear();
  digest_.clear();
  unsent_.clear();
  digest_started_ = 0;
  dirty_ = false;
  held_.clear();
  joins_held_.clear();
  unsaved_since_ = 0;
  inflight_seq_ = 0;  // a completion still on its way is ignored
  inflight_snap_.reset();
  update_gauge();
}

std::map<std::string, std::string> default_severity() {
  return {
      {"CrashLoopBackOff", "warning"}, {"ImagePullBackOff", "warning"}, {"OOMKilled", "critical"}};
}

void IncidentTracker::classify(Incident& inc) const {
  auto sev = s_.severity.find(inc.reason);
  inc.severity = sev == s_.severity.end() ? "warning" : sev->second;
  auto rb = s_.runbooks.find(inc.reason);
  inc.runbook_url = rb == s_.runbooks.end() ? "" : expand_runbook(rb->second, inc);
}

void IncidentTracker::load() {
  if (!state_) return;
  auto j = state_->load();
  if (!j) return;
  std::size_t n = 0, refused = 0;
  std::string first_error;
  for (const char* list : {"open", "resolved"}) {
    const nlohmann::json* items = parse::get_array(*j, list);
    if (!items) {
      if (parse::member(*j, list) && first_error.empty())
        first_error = std::string("\"") + list + "\" is not an array";
      refused += parse::member(*j, list) ? 1 : 0;
      continue;
    }
    for (const auto& item : *items) {
      auto parsed = from_json(item);
      if (!parsed.ok()) {
        if (first_error.empty()) first_error = parsed.error().message;
        ++refused;
        continue;
      }
      Incident inc = std::move(parsed).value();
      classify(inc);
      ++n;
      if (inc.open()) {
        for (const auto& [pod, rec] : inc.pods)
          pod_index_[pod_key(inc.ns, pod)].insert(inc.fingerprint);
        open_[inc.fingerprint] = std::move(inc);
      } else {
        resolved_[inc.fingerprint] = std::move(inc);
      }
    }
  }
  // Incidents opened during a storm but not yet sent in a digest: send them in the next one.
  for (const auto& [fp, inc] : open_) {
    if (inc.last_notified == 0) digest_.push_back(fp);
    if (inc.last_notified != 0 && inc.pending_alert) unsent_.push_back(fp);
  }
  if (!digest_.empty()) digest_started_ = clock_.unix_seconds();
  if (refused > 0) {
    // Keep the damaged file for a human and write what was readable at the next flush.
    state_->set_aside("partly unreadable (" + std::to_string(refused) +
                      " entries refused, first: " + first_error + ")");
    dirty_ = true;
  }
  update_gauge();
  log::info("incidents", "restored state", {{"incidents", n}, {"open", open_.size()}});
}

bool IncidentTracker::join(Incident& inc, const k8s::PodView& pod, const rules::Finding& f,
                           std::int64_t now) {
  const bool is_new = inc.pods.find(pod.name) == inc.pods.end();
  auto& rec = inc.pods[pod.name];
  rec.restarts = std::max(rec.restarts, f.restarts);
  rec.healthy_since = 0;
  if (std::find(inc.all_pods.begin(), inc.all_pods.end(), pod.name) == inc.all_pods.end() &&
      inc.all_pods.size() < kMaxPodNames) {
    inc.all_pods.push_back(pod.name);
    dirty_ = true;
  }
  if (f.restarts > inc.restarts) {
    inc.restarts = f.restarts;
    dirty_ = true;
  }
  if (f.exit_code != 0) inc.exit_code = f.exit_code;
  inc.last_seen = now;
  for (const auto& c : pod.containers) {
    if (c.name == f.container && c.init == f.init && !c.message.empty() && s_.redact) {
      // Redacted here, once: everything downstream (notifiers, /api/incidents, the state file,
      // the HA mirror) only ever sees this.
      inc.message = s_.redact(c.message);
    }
  }
  pod_index_[pod_key(inc.ns, pod.name)].insert(inc.fingerprint);
  return is_new;
}

void IncidentTracker::announce(Incident& inc, std::int64_t now) {
  // Storm control: the first storm_threshold openings of a window go out one by one, the rest
  // wait for one digest.
  while (!recent_openings_.empty() && now - recent_openings_.front() >= s_.storm_window.count()) {
    recent_openings_.pop_front();
  }
  if (recent_openings_.size() >= s_.storm_threshold) {
    if (digest_.empty()) digest_started_ = now;
    digest_.push_back(inc.fingerprint);
    return;
  }
  recent_openings_.push_back(now);
  inc.last_notified = now;
  inc.pending_alert = s_.sink_confirms_alerts;
  dirty_ = true;
  bool saved = commit();  // before the announcement: a restart must not announce it again
  deliver({EventType::kOpened, {inc.fingerprint}}, saved);
}

void IncidentTracker::observe(const k8s::PodView& pod, const std::vector<rules::Finding>& current,
                              const Interner& in, std::chrono::steady_clock::time_point received) {
  const std::int64_t now = clock_.unix_seconds();
  const std::string ns(in.view(pod.ns));
  std::set<std::string> failing;
  Workload workload;
  bool have_workload = false;
  for (const auto& f : current) {
    if (!have_workload) {
      workload = resolve_workload(pod, in);
      have_workload = true;
    }
    const std::string container(in.view(f.container));
    const std::string fp = fingerprint(s_.cluster, ns, workload, container, f.reason);
    failing.insert(fp);
    if (auto it = open_.find(fp); it != open_.end()) {
      // A replica joins, or restarts climb: no message.
      if (join(it->second, pod, f, now) && it->second.last_notified != 0) {
        if (auto h = joins_held_.find(fp); h != joins_held_.end()) {
          // Its announcement is held: the sink hears of the pod after it (as it always did).
          if (h->second.size() < kMaxPodNames) h->second.push_back(pod.name);
        } else {
          sink_.on_pod_joined(it->second, pod.name);
        }
      }
      continue;
    }
    if (auto r = resolved_.find(fp);
        r != resolved_.end() && now - r->second.resolved_at < s_.flap_hold_down.count()) {
      // Flapping: reopen the same incident without a new announcement.
      Incident inc = std::move(r->second);
      resolved_.erase(r);
      inc.state = Incident::State::kOpen;
      // Its resolution was announced: the reopening is not, and neither will be the next
      // resolution (quiet). A reminder, renotify_after from now, says it is broken again.
      if (inc.last_notified != 0) {
        inc.quiet = true;
        inc.last_notified = now;
      }
      inc.resolved_at = 0;
      ++inc.flaps;
      auto& slot = open_[fp] = std::move(inc);
      join(slot, pod, f, now);
      dirty_ = true;
      update_gauge();
      log::info("incidents", "incident reopened within the flap hold-down",
                {{"id", slot.id}, {"flaps", slot.flaps}});
      continue;
    }
    Incident inc;
    inc.fingerprint = fp;
    inc.id = incident_id(fp, now);
    inc.cluster = s_.cluster;
    inc.ns = ns;
    inc.reason = f.reason;
    inc.workload = workload;
    inc.container = container;
    inc.first_seen = now;
    classify(inc);
    auto& slot = open_[fp] = std::move(inc);
    join(slot, pod, f, now);
    update_gauge();
    if (metrics_) {
      metrics_->total.Add({{"reason", f.reason}}).Increment();
      if (received != std::chrono::steady_clock::time_point{}) {
        double secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - received).count();
        metrics_->detection_latency.Observe(secs);
        if (metrics_->latency_samples) metrics_->latency_samples(secs);
      }
    }
    announce(slot, now);
  }
  // Incidents this pod belongs to that it is not failing now: is it healthy?
  // Called for every pod event: the key is built in a reused buffer (no allocation per event).
  if (pod_index_.empty()) return;
  key_scratch_.assign(ns).append(1, '/').append(pod.name);
  auto idx = pod_index_.find(key_scratch_);
  if (idx == pod_index_.end()) return;
  for (const auto& fp : idx->second) {
    if (failing.count(fp)) continue;
    auto it = open_.find(fp);
    if (it == open_.end()) continue;
    auto& rec = it->second.pods[pod.name];
    const k8s::ContainerView* c = nullptr;
    for (const auto& cv : pod.containers) {
      if (in.view(cv.name) == it->second.container) c = &cv;
    }
    bool running = c && c->state.kind == k8s::ContainerState::kRunning && (c->ready || c->init);
    if (!running) {
      rec.healthy_since = 0;
    } else if (c->restart_count > rec.restarts) {
      rec.restarts = c->restart_count;  // it restarted again: healthy only from now on
      rec.healthy_since = now;
    } else if (rec.healthy_since == 0) {
      rec.healthy_since = now;
    }
  }
}

void IncidentTracker::pod_gone(const std::string& ns, const std::string& pod) {
  auto idx = pod_index_.find(pod_key(ns, pod));
  if (idx == pod_index_.end()) return;
  auto fps = idx->second;
  pod_index_.erase(idx);
  const std::int64_t now = clock_.unix_seconds();
  for (const auto& fp : fps) {
    auto it = open_.find(fp);
    if (it == open_.end()) continue;
    it->second.pods.erase(pod);
    dirty_ = true;
    if (it->second.pods.empty()) resolve(fp, now);  // every pod of it is gone
  }
}

void IncidentTracker::reconcile(
    const std::function<bool(const std::string&, const std::string&)>& exists) {
  std::vector<std::pair<std::string, std::string>> gone;
  for (const auto& [key, fps] : pod_index_) {
    auto slash = key.find('/');
    std::string ns = key.substr(0, slash), pod = key.substr(slash + 1);
    if (!exists(ns, pod)) gone.emplace_back(ns, pod);
  }
  for (const auto& [ns, pod] : gone) pod_gone(ns, pod);
  if (writer_) {
    if (dirty_) schedule();
  } else {
    flush();
  }
}

void IncidentTracker::resolve(const std::string& fp, std::int64_t now) {
  auto it = open_.find(fp);
  if (it == open_.end()) return;
  Incident inc = std::move(it->second);
  open_.erase(it);
  for (const auto& [pod, rec] : inc.pods) {
    auto idx = pod_index_.find(pod_key(inc.ns, pod));
    if (idx == pod_index_.end()) continue;
    idx->second.erase(fp);
    if (idx->second.empty()) pod_index_.erase(idx);
  }
  std::erase(digest_, fp);
  inc.state = Incident::State::kResolved;
  inc.resolved_at = now;
  inc.pods.clear();
  bool announced = inc.last_notified != 0 && !inc.quiet;
  inc.quiet = false;
  auto& slot = resolved_[fp] = std::move(inc);
  while (resolved_.size() > s_.max_resolved_kept) {
    auto oldest = std::min_element(
        resolved_.begin(), resolved_.end(),
        [](const auto& a, const auto& b) { return a.second.resolved_at < b.second.resolved_at; });
    resolved_.erase(oldest);
  }
  update_gauge();
  dirty_ = true;
  bool saved = commit();
  if (announced) deliver({EventType::kResolved, {slot.fingerprint}}, saved);
}

void IncidentTracker::tick() {
  const std::int64_t now = clock_.unix_seconds();
  if (!unsent_.empty()) {
    // Announced before a restart but never handed to the notifiers: announce them now.
    auto unsent = std::move(unsent_);
    unsent_.clear();
    for (const auto& fp : unsent) {
      auto it = open_.find(fp);
      if (it == open_.end() || !it->second.pending_alert) continue;
      log::info("incidents", "announcing an alert that was held when podmedic stopped",
                {{"id", it->second.id}});
      sink_.on_incident_event({EventType::kOpened, {&it->second}});
    }
  }
  std::vector<std::string> to_resolve;
  for (auto& [fp, inc] : open_) {
    bool all_healthy = !inc.pods.empty();
    for (const auto& [pod, rec] : inc.pods) {
      if (rec.healthy_since == 0 || now - rec.healthy_since < s_.resolve_after.count())
        all_healthy = false;
    }
    if (all_healthy) to_resolve.push_back(fp);
  }
  for (const auto& fp : to_resolve) resolve(fp, now);

  if (!digest_.empty() && now - digest_started_ >= s_.digest_delay.count()) {
    Held digest{EventType::kDigest, {}};
    for (const auto& fp : digest_) {
      if (auto it = open_.find(fp); it != open_.end()) {
        it->second.last_notified = now;
        digest.fingerprints.push_back(fp);
      }
    }
    digest_.clear();
    dirty_ = true;
    bool saved = commit();
    if (!digest.fingerprints.empty()) deliver(std::move(digest), saved);
  }

  if (s_.renotify_after.count() > 0) {
    for (auto& [fp, inc] : open_) {
      if (inc.last_notified != 0 && now - inc.last_notified >= s_.renotify_after.count()) {
        // Every pod healthy again, only waiting out resolve_after: not "still broken".
        bool recovering = !inc.pods.empty();
        for (const auto& [pod, rec] : inc.pods)
          if (rec.healthy_since == 0) recovering = false;
        if (recovering) continue;
        inc.last_notified = now;
        inc.quiet = false;
        dirty_ = true;
        bool saved = commit();  // group commit: one write for all reminders of this tick
        deliver({EventType::kReminder, {fp}}, saved);
      }
    }
  }
  if (writer_) {
    // Group commit: whatever changed without a seal on its way (evidence, a write that failed)
    // is sealed here, once a tick; held announcements go out when their batch is written, or
    // unsaved once saving has been failing for hold_unsaved.
    if (dirty_ && !seal_posted_ && inflight_seq_ == 0) seal();
    if (!held_.empty() && failing_too_long(now)) release_held(false);
    return;
  }
  flush();  // a save that failed earlier is retried here, once a tick
  // Held announcements go out once the state is saved, or unsaved when saving has been failing
  // for hold_unsaved.
  if (!held_.empty() && (!dirty_ || now - unsaved_since_ >= s_.hold_unsaved.count()))
    release_held(!dirty_);
}

void IncidentTracker::flush() {
  if (!writer_) {
    if (dirty_) persist();
    return;
  }
  // Shutdown: write on this thread whatever is not durable yet (a batch in flight may never
  // report back: the executor is stopping), then hand on what was held for it.
  if (!dirty_ && inflight_seq_ == 0 && held_.empty()) return;
  if (persist()) release_upto(std::numeric_limits<std::uint64_t>::max());
}

bool IncidentTracker::failing_too_long(std::int64_t now) const {
  return unsaved_since_ != 0 && now - unsaved_since_ >= s_.hold_unsaved.count();
}

bool IncidentTracker::commit() {
  if (!writer_) return persist();
  schedule();
  return false;
}

void IncidentTracker::schedule() {
  // The first change of a burst posts one seal; the rest of the burst rides on it. While a
  // batch is in flight its completion seals instead.
  if (seal_posted_ || inflight_seq_ != 0) return;
  seal_posted_ = true;
  std::weak_ptr<IncidentTracker*> alive = alive_;
  post_([alive] {
    if (auto t = alive.lock()) {
      (*t)->seal_posted_ = false;
      (*t)->seal();
    }
  });
}

void IncidentTracker::seal() {
  if (!dirty_ || inflight_seq_ != 0) return;
  inflight_snap_ = std::make_shared<const nlohmann::json>(snapshot());
  dirty_ = false;
  inflight_seq_ = ++seal_seq_;
  writer_->submit(slot_, inflight_snap_, inflight_seq_);
}

void IncidentTracker::on_saved(std::uint64_t seq, const std::string& error) {
  if (seq != inflight_seq_) return;  // superseded by flush() or clear()
  inflight_seq_ = 0;
  auto snap = std::move(inflight_snap_);
  inflight_snap_.reset();
  if (!error.empty()) {
    dirty_ = true;  // retried by the next tick
    save_failed(error);
    return;
  }
  save_succeeded(*snap);
  release_upto(seq);
  if (dirty_) seal();  // what changed during the write: the next batch
}

void IncidentTracker::release_upto(std::uint64_t seq) {
  while (!held_.empty() && held_.front().seq <= seq) {
    Held h = std::move(held_.front());
    held_.pop_front();
    emit(h);
  }
}

const Incident* IncidentTracker::lookup(const std::string& fp, EventType type) const {
  // A resolution is about the resolved incident; anything else about the open one, or (when it
  // resolved while its announcement was held) the resolved one.
  if (type != EventType::kResolved) {
    if (auto it = open_.find(fp); it != open_.end()) return &it->second;
  }
  if (auto it = resolved_.find(fp); it != resolved_.end()) return &it->second;
  return nullptr;
}

void IncidentTracker::deliver(Held e, bool saved) {
  const std::int64_t now = clock_.unix_seconds();
  const bool hold =
      writer_ ? !failing_too_long(now) : !saved && now - unsaved_since_ < s_.hold_unsaved.count();
  if (hold) {
    // Group commit: recorded by the next seal (the state changed before this event was made).
    e.seq = seal_seq_ + 1;
    if (e.type == EventType::kOpened || e.type == EventType::kDigest)
      for (const auto& fp : e.fingerprints) joins_held_.try_emplace(fp);
    held_.push_back(std::move(e));
    if (held_.size() > kMaxHeld) {
      // Beyond the bound the oldest goes out unsaved rather than being dropped.
      Held oldest = std::move(held_.front());
      held_.pop_front();
      emit(oldest);
    }
    return;
  }
  release_held(saved);
  emit(e);
}

void IncidentTracker::emit(const Held& e) {
  IncidentEvent out{e.type, {}};
  for (const auto& fp : e.fingerprints)
    if (const Incident* inc = lookup(fp, e.type)) out.incidents.push_back(inc);
  if (!out.incidents.empty()) sink_.on_incident_event(out);
  for (const auto& fp : e.fingerprints) {
    auto h = joins_held_.find(fp);
    if (h == joins_held_.end()) continue;
    auto pods = std::move(h->second);
    joins_held_.erase(h);
    for (const auto& pod : pods)
      if (const Incident* inc = find_open(fp)) sink_.on_pod_joined(*inc, pod);
  }
}

void IncidentTracker::release_held(bool saved) {
  if (held_.empty()) return;
  if (!saved) {
    log::warn("incidents",
              "announcing without saved state: a restart before the state can be written may "
              "announce these again",
              {{"held", held_.size()},
               {"error", last_error_},
               {"failingForSeconds", clock_.unix_seconds() - unsaved_since_}});
  }
  auto held = std::move(held_);
  held_.clear();
  for (const auto& h : held) emit(h);
}

nlohmann::json IncidentTracker::snapshot() const {
  nlohmann::json open = nlohmann::json::array(), resolved = nlohmann::json::array();
  for (const auto& [fp, inc] : open_) open.push_back(to_json(inc));
  for (const auto& [fp, inc] : resolved_) resolved.push_back(to_json(inc));
  return {{"version", 1},
          {"cluster", s_.cluster},
          {"savedAt", clock_.unix_seconds()},
          {"open", open},
          {"resolved", resolved}};
}

bool IncidentTracker::persist() {
  if (!state_) {
    dirty_ = false;
    return true;
  }
  auto j = std::make_shared<const nlohmann::json>(snapshot());
  // With a group commit, through its writer (after the batch in progress, superseding it).
  auto r = writer_ ? writer_->write_now(slot_, j) : state_->save(*j);
  if (writer_) {
    inflight_seq_ = 0;  // whatever was in flight is older than this
    inflight_snap_.reset();
  }
  if (!r.ok()) {
    dirty_ = true;  // the next tick (or flush) tries again
    save_failed(r.error().message);
    return false;
  }
  dirty_ = false;
  save_succeeded(*j);
  return true;
}

void IncidentTracker::save_failed(const std::string& error) {
  if (unsaved_since_ == 0) unsaved_since_ = clock_.unix_seconds();
  last_error_ = error;
  static log::RateLimited rl;
  rl.write(log::Level::kError, "incidents", "save",
           "cannot persist incident state; retried every tick",
           {{"error", error}, {"path", state_->path()}});
}

void IncidentTracker::save_succeeded(const nlohmann::json& j) {
  if (unsaved_since_ != 0) {
    log::info("incidents", "incident state saved again",
              {{"failingForSeconds", clock_.unix_seconds() - unsaved_since_}});
    unsaved_since_ = 0;
  }
  last_error_.clear();
  if (on_persist) on_persist(j);
}

std::vector<const Incident*> IncidentTracker::incidents() const {
  std::vector<const Incident*> out;
  for (const auto& [fp, inc] : open_) out.push_back(&inc);
  std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->first_seen > b->first_seen; });
  std::vector<const Incident*> res;
  for (const auto& [fp, inc] : resolved_) res.push_back(&inc);
  std::sort(res.begin(), res.end(),
            [](auto* a, auto* b) { return a->resolved_at > b->resolved_at; });
  out.insert(out.end(), res.begin(), res.end());
  return out;
}

void IncidentTracker::set_evidence(const std::string& fp, Redacted evidence) {
  if (auto it = open_.find(fp); it != open_.end()) {
    it->second.evidence = std::move(evidence);
    dirty_ = true;
  }
}

void IncidentTracker::set_changes(const std::string& fp, std::vector<Change> changes) {
  if (auto it = open_.find(fp); it != open_.end()) {
    if (changes.size() > kMaxChanges) changes.resize(kMaxChanges);
    it->second.changes = std::move(changes);
    dirty_ = true;
  }
}

const Incident* IncidentTracker::set_diagnosis(const std::string& fp, Redacted text,
                                               std::string model, bool follow_up) {
  auto it = open_.find(fp);
  if (it == open_.end() || !it->second.diagnosis.empty() || text.empty()) return nullptr;
  it->second.diagnosis = std::move(text);
  it->second.diagnosis_model = std::move(model);
  dirty_ = true;
  bool saved = commit();
  if (follow_up) deliver({EventType::kDiagnosed, {fp}}, saved);
  return &it->second;
}

void IncidentTracker::mark_alerted(const std::string& fp) {
  if (auto it = open_.find(fp); it != open_.end() && it->second.pending_alert) {
    it->second.pending_alert = false;
    dirty_ = true;
    commit();  // now (or in the next batch): a restart must not announce it a second time
  }
}

const Incident* IncidentTracker::find_open(const std::string& fp) const {
  auto it = open_.find(fp);
  return it == open_.end() ? nullptr : &it->second;
}

}  // namespace podmedic::incidents
