#include "ha/leader.h"

#include <cstdlib>
#include <limits>
#include <random>

#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "core/log.h"
#include "core/parse.h"
#include "core/units.h"

namespace podmedic::ha {

namespace net = boost::asio;
using json = nlohmann::json;
using Steady = std::chrono::steady_clock;

std::string micro_time_now() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(now);
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now - secs).count();
  std::string base = format_rfc3339(secs.count());  // ...Z
  char frac[16];
  std::snprintf(frac, sizeof frac, ".%06lldZ", static_cast<long long>(micros));
  return base.substr(0, base.size() - 1) + frac;
}

std::string LeaderElector::path(bool item) const {
  std::string p = "/apis/coordination.k8s.io/v1/namespaces/" + k8s::url_encode(s_.ns) + "/leases";
  if (item) p += "/" + k8s::url_encode(s_.name);
  return p;
}

net::awaitable<bool> LeaderElector::try_acquire_or_renew() {
  const auto timeout = std::max(s_.retry_period, std::chrono::milliseconds(1000));
  const std::string now = micro_time_now();
  const int duration_s = static_cast<int>(std::max<long long>(
      1, std::chrono::duration_cast<std::chrono::seconds>(s_.lease_duration).count()));
  auto get_op = client_.get(path(true), 64 * 1024, timeout);
  auto got = co_await std::move(get_op);
  if (!got.ok()) co_return false;
  if (got->status == 404) {
    json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                  {"kind", "Lease"},
                  {"metadata", {{"name", s_.name}, {"namespace", s_.ns}}},
                  {"spec",
                   {{"holderIdentity", s_.identity},
                    {"leaseDurationSeconds", duration_s},
                    {"acquireTime", now},
                    {"renewTime", now},
                    {"leaseTransitions", 0}}}};
    auto create_op = client_.send("POST", path(false), parse::dump(lease), 64 * 1024, timeout);
    auto created = co_await std::move(create_op);
    if (created.ok() && created->status == 201) {
      observed_holder_ = s_.identity;
      observed_renew_ = now;
      observed_at_ = Steady::now();
      co_return true;
    }
    co_return false;
  }
  if (got->status != 200) co_return false;
  // Written by another replica (or anyone with the write permission): every member checked.
  auto parsed = parse::json_text(got->body, "Lease");
  if (!parsed.ok() || !parse::get_object(*parsed, "spec")) {
    if (peer_errors_) peer_errors_->count(Peer::kApiServer, PeerFault::kMalformed);
    co_return false;
  }
  json lease = std::move(parsed).value();
  auto& spec = lease["spec"];  // an object: checked above
  const std::string holder = parse::string_or(spec, "holderIdentity");
  const std::string renew = parse::string_or(spec, "renewTime");
  if (holder != observed_holder_ || renew != observed_renew_) {
    // The record changed: the clock for its expiry starts now, on our side.
    observed_holder_ = holder;
    observed_renew_ = renew;
    observed_at_ = Steady::now();
  }
  const bool mine = holder == s_.identity;
  if (!holder.empty() && !mine && Steady::now() < observed_at_ + s_.lease_duration) {
    co_return false;  // held by another replica that is still renewing
  }
  if (!mine) {
    spec["acquireTime"] = now;
    // A negative, huge or wrong-typed count restarts at 1 instead of overflowing.
    auto transitions = parse::get_integer<std::int32_t>(spec, "leaseTransitions").value_or(0);
    spec["leaseTransitions"] =
        transitions >= 0 && transitions < std::numeric_limits<std::int32_t>::max() ? transitions + 1
                                                                                   : 1;
  }
  spec["holderIdentity"] = s_.identity;
  spec["leaseDurationSeconds"] = duration_s;
  spec["renewTime"] = now;
  // metadata.resourceVersion stays as read: a concurrent writer makes this PUT fail with 409.
  auto put_op = client_.send("PUT", path(true), parse::dump(lease), 64 * 1024, timeout);
  auto put = co_await std::move(put_op);
  if (!put.ok() || put->status != 200) co_return false;
  observed_holder_ = s_.identity;
  observed_renew_ = now;
  observed_at_ = Steady::now();
  co_return true;
}

net::awaitable<void> LeaderElector::run() {
  auto ex = co_await net::this_coro::executor;
  net::steady_timer timer(ex);
  std::mt19937 rng{std::random_device{}()};
  std::uniform_real_distribution<double> jitter(1.0, 1.2);
  log::info("leader", "campaigning for the lease",
            {{"lease", s_.ns + "/" + s_.name}, {"identity", s_.identity}});
  for (;;) {
    auto op = try_acquire_or_renew();
    if (co_await std::move(op)) break;
    timer.expires_after(
        std::chrono::duration_cast<std::chrono::milliseconds>(s_.retry_period * jitter(rng)));
    auto wait = timer.async_wait(net::as_tuple(net::use_awaitable));
    auto [ec] = co_await std::move(wait);
    if (ec) co_return;
  }
  leading_ = true;
  log::info("leader", "elected: this replica notifies", {{"identity", s_.identity}});
  if (on_started_) on_started_();
  auto last_renew = Steady::now();
  for (;;) {
    timer.expires_after(s_.retry_period);
    auto wait = timer.async_wait(net::as_tuple(net::use_awaitable));
    auto [ec] = co_await std::move(wait);
    if (ec) co_return;
    auto op = try_acquire_or_renew();
    if (co_await std::move(op)) {
      last_renew = Steady::now();
    } else if (Steady::now() - last_renew > s_.renew_deadline) {
      leading_ = false;
      lost_ = true;
      log::error("leader", "lost the lease (renewals failed past the renew deadline); stopping",
                 {{"identity", s_.identity}});
      if (on_stopped_) on_stopped_();
      co_return;
    }
  }
}

Environment process_environment() {
  auto env = [](const char* name) {
    const char* v = std::getenv(name);
    return std::string(v ? v : "");
  };
  Environment e;
  e.pod_namespace = env("POD_NAMESPACE");
  e.pod_name = env("POD_NAME");
  char host[256] = {};
  gethostname(host, sizeof host - 1);  // on failure: stays empty
  e.host_name = host;
  return e;
}

LeaderSettings leader_settings(const HaConfig& c, const Environment& env) {
  LeaderSettings ls;
  ls.name = c.lease_name;
  ls.ns = !c.lease_namespace.empty()   ? c.lease_namespace
          : !env.pod_namespace.empty() ? env.pod_namespace
                                       : "default";
  ls.identity = c.identity;
  if (ls.identity.empty()) ls.identity = env.pod_name;
  if (ls.identity.empty()) ls.identity = env.host_name;
  ls.lease_duration = c.lease_duration;
  ls.renew_deadline = c.renew_deadline;
  ls.retry_period = c.retry_period;
  return ls;
}

}  // namespace podmedic::ha
