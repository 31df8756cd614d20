// Watch ingest benchmark (run on demand; not a test). Replays one recorded watch stream of
// ~10 KB pods (with managedFields, as the API server sends them: one HTTP chunk per event) from
// a server in a child process over loopback HTTP and HTTPS, through the real KubeClient,
// Reflector, PodStore and rules, and reports events per CPU-second of this process (the client
// side only). In the same run, on the same bytes: simdjson on-demand extracting the fields
// podmedic uses (the ratio's denominator), and per-stage costs from separate loops — read+split
// (the client with a sink that only finds newlines), decode alone, decode+store+rules — so no
// timer sits inside the measured hot loop.
//
//   build/release/bench/ingest_bench [--events 30000] [--corpus 2000] [--repeat 3]
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <simdjson.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>

#include "bench/proc_stats.h"
#include "k8s/client.h"
#include "k8s/cpu.h"
#include "rules/detect.h"
#include "sim/objects.h"
#include "sim/tls.h"
#include "watcher/pod_store.h"
#include "watcher/reflector.h"

using namespace podmedic;
using podmedic::bench::cpu_seconds;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

namespace {

// Distinct pods of ~10 KB (50 env vars, 5 managedFields entries), a quarter crash-looping and a
// quarter failing image pulls, as watch lines (each with kJsonPadding spare capacity).
std::vector<std::string> make_corpus(std::size_t count, bool go_order = true) {
  std::vector<std::string> lines;
  lines.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    sim::PodTemplate t;
    t.ns = "ns-" + std::to_string(i % 50);
    t.deployment = "app-" + std::to_string(i % 400);
    t.rs_hash = "5d8f7c6b9a";
    t.name = t.deployment + "-" + t.rs_hash + "-" + std::to_string(100000 + i);
    t.extra_env = 50;
    t.managed_field_entries = 5;
    t.image =
        "registry.example.com/team-" + std::to_string(i % 20) + "/svc:1." + std::to_string(i % 7);
    auto pod = sim::make_pod(t, 1'790'000'000);
    pod["metadata"]["uid"] = "0b4c1f43-6f1e-4b7e-9a55-" + std::to_string(100000000000 + i);
    pod["metadata"]["resourceVersion"] = std::to_string(5000 + i);
    if (i % 4 == 1) sim::set_crashloop(pod, "app", 137, "OOMKilled", 1'790'000'100);
    if (i % 4 == 2)
      sim::set_waiting(pod, "app", "ImagePullBackOff", "Back-off pulling image \"x\"");
    // As the API server writes it: managedFields is the last member of metadata (Go's field
    // order), right before "spec" (nlohmann sorts keys, which would put it first).
    std::string text;
    if (go_order) {
      const std::string managed = ",\"managedFields\":" + pod["metadata"]["managedFields"].dump();
      pod["metadata"].erase("managedFields");
      text = pod.dump();
      text.insert(text.find("},\"spec\":{"), managed);
    } else {
      text = pod.dump();
    }
    std::string line = "{\"type\":\"MODIFIED\",\"object\":" + text + "}";
    line.reserve(line.size() + k8s::kJsonPadding);
    lines.push_back(std::move(line));
  }
  return lines;
}

// The recorded stream as the API server writes it: chunked, one chunk (and one write) per event
// line; `events` of them, cycling through the corpus.
struct Stream {
  std::vector<std::string> chunks;
  std::size_t events = 0;
};

Stream chunked_stream(const std::vector<std::string>& lines, std::size_t events) {
  Stream out;
  out.events = events;
  char head[32];
  for (const auto& l : lines) {
    int n = std::snprintf(head, sizeof head, "%zx\r\n", l.size() + 1);
    out.chunks.push_back(std::string(head, static_cast<std::size_t>(n)) + l + "\n\r\n");
  }
  return out;
}

// Answers each request on one connection: a list gets an empty PodList, a watch the stream.
template <class S>
void serve_one(S& s, const Stream& stream) {
  std::string head;
  boost::system::error_code ec;
  net::read_until(s, net::dynamic_buffer(head), "\r\n\r\n", ec);
  if (ec) return;
  std::string resp;
  if (head.find("watch=1") != std::string::npos) {
    resp =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
        "Connection: close\r\n\r\n";
    net::write(s, net::buffer(resp), ec);
    for (std::size_t i = 0; i < stream.events && !ec; ++i)
      net::write(s, net::buffer(stream.chunks[i % stream.chunks.size()]), ec);
    if (!ec) net::write(s, net::buffer(std::string_view("0\r\n\r\n")), ec);
  } else {
    const std::string body =
        R"({"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":[]})";
    resp = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
    net::write(s, net::buffer(resp), ec);
  }
}

// The server in a child process, so getrusage of this process counts the client alone.
pid_t start_server(const Stream& stream, const sim::TestCert* cert, unsigned short& port) {
  int p[2];
  if (pipe(p) != 0) std::abort();
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    net::io_context ioc;
    tcp::acceptor acc(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
    unsigned short bound = acc.local_endpoint().port();
    if (write(p[1], &bound, sizeof bound) != sizeof bound) _exit(1);
    close(p[1]);
    ssl::context ctx(ssl::context::tls_server);
    if (cert) {
      ctx.use_certificate_chain(net::buffer(cert->cert_pem));
      ctx.use_private_key(net::buffer(cert->key_pem), ssl::context::pem);
    }
    for (;;) {
      tcp::socket sock(ioc);
      acc.accept(sock);
      boost::system::error_code ec;
      if (cert) {
        ssl::stream<tcp::socket> s(std::move(sock), ctx);
        s.handshake(ssl::stream_base::server, ec);
        if (!ec) serve_one(s, stream);
        s.shutdown(ec);
      } else {
        serve_one(sock, stream);
        sock.shutdown(tcp::socket::shutdown_both, ec);
      }
    }
  }
  close(p[1]);
  if (read(p[0], &port, sizeof port) != sizeof port) std::abort();
  close(p[0]);
  return pid;
}

void stop_server(pid_t pid) {
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

k8s::ClusterConnection connection(unsigned short port, const sim::TestCert* cert) {
  k8s::ClusterConnection c;
  const std::string url =
      std::string(cert ? "https" : "http") + "://127.0.0.1:" + std::to_string(port);
  if (!k8s::parse_server_url(url, c).ok()) std::abort();
  if (cert) c.ca_pem = cert->cert_pem;
  return c;
}

// The whole path: client → reflector → store → rules, until `events` watch events were applied.
double full_path(std::size_t events, const Stream& stream, const sim::TestCert* cert) {
  unsigned short port = 0;
  pid_t child = start_server(stream, cert, port);
  net::io_context ioc;
  k8s::KubeClient client(ioc.get_executor(), connection(port, cert));
  prometheus::Registry registry;
  watcher::WatchMetrics metrics(registry);
  Interner interner;
  watcher::PodStore store(interner, &metrics);
  rules::Detector detector(interner, rules::DetectSettings{});
  std::size_t seen = 0, findings = 0;
  store.set_listener([&](k8s::WatchType, const k8s::PodView* before, const k8s::PodView* after) {
    if (after) findings += detector.evaluate(before, *after).size();
    if (++seen == events) ioc.stop();
  });
  watcher::ReflectorOptions o;
  watcher::Reflector reflector(client, k8s::Resource::kPods, o, store, metrics);
  const double c0 = cpu_seconds();
  net::co_spawn(ioc, reflector.run(), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  ioc.run();
  const double cpu = cpu_seconds() - c0;
  stop_server(child);
  if (seen < events || findings == 0) std::abort();
  return static_cast<double>(events) / cpu;
}

// Read + split alone: the same client and stream, a sink that only finds the newlines.
double read_split(std::size_t events, const Stream& stream, const sim::TestCert* cert) {
  unsigned short port = 0;
  pid_t child = start_server(stream, cert, port);
  net::io_context ioc;
  k8s::KubeClient client(ioc.get_executor(), connection(port, cert));
  std::size_t lines = 0;
  k8s::BodySink sink = [&](std::string_view d) {
    for (auto nl = d.find('\n'); nl != std::string_view::npos; nl = d.find('\n', nl + 1)) ++lines;
    return true;
  };
  auto run = [&]() -> net::awaitable<void> {
    auto r = co_await client.stream("/api/v1/pods?watch=1", sink, std::chrono::minutes(5));
    if (!r.ok() || r->status != 200) std::abort();
  };
  const double c0 = cpu_seconds();
  net::co_spawn(ioc, run(), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  ioc.run();
  const double cpu = cpu_seconds() - c0;
  stop_server(child);
  if (lines != events) std::abort();
  return static_cast<double>(events) / cpu;
}

volatile std::size_t g_sink = 0;

// Runs f over every line `rounds` times after a warm-up; events per CPU-second.
template <class F>
double in_memory(const std::vector<std::string>& lines, std::size_t events, F&& f) {
  for (const auto& l : lines) f(l);
  const double c0 = cpu_seconds();
  for (std::size_t i = 0; i < events; ++i) f(lines[i % lines.size()]);
  return static_cast<double>(events) / (cpu_seconds() - c0);
}

namespace od = simdjson::ondemand;

// simdjson on-demand extracting what podmedic's decoder reads from a pod watch line: type;
// metadata name, namespace, uid, resourceVersion, creationTimestamp, deletionTimestamp, the
// pod-template-hash label and the controller owner; spec nodeName, restartPolicy and the
// containers' name, image and resources; status phase, reason, message, the Ready condition and
// each container status (name, ready, restartCount, state and lastState reason/exitCode).
std::size_t simdjson_fields(od::parser& p, const std::string& l) {
  std::size_t n = 0;
  auto str = [&](od::value v) {
    std::string_view s;
    if (!v.get_string().get(s)) n += s.size();
  };
  auto num = [&](od::value v) {
    std::int64_t i = 0;
    if (!v.get_int64().get(i)) n += static_cast<std::size_t>(i);
  };
  auto state = [&](od::value st) {
    od::object o;
    if (st.get_object().get(o)) return;
    for (auto f : o) {  // waiting / running / terminated
      od::object inner;
      if (f.value().get_object().get(inner)) continue;
      for (auto g : inner) {
        std::string_view k;
        if (g.unescaped_key().get(k)) continue;
        if (k == "reason" || k == "message")
          str(g.value());
        else if (k == "exitCode")
          num(g.value());
      }
    }
  };
  od::document doc;
  if (p.iterate(simdjson::padded_string_view(l.data(), l.size(), l.capacity())).get(doc)) return 0;
  od::object top;
  if (doc.get_object().get(top)) return 0;
  for (auto tf : top) {
    std::string_view tk;
    if (tf.unescaped_key().get(tk)) return n;
    if (tk == "type") {
      str(tf.value());
      continue;
    }
    od::object obj;
    if (tf.value().get_object().get(obj)) return n;
    for (auto sec : obj) {
      std::string_view sk;
      if (sec.unescaped_key().get(sk)) return n;
      od::object so;
      if (sk != "metadata" && sk != "spec" && sk != "status") continue;
      if (sec.value().get_object().get(so)) continue;
      for (auto f : so) {
        std::string_view k;
        if (f.unescaped_key().get(k)) return n;
        if (sk == "metadata") {
          if (k == "name" || k == "namespace" || k == "uid" || k == "resourceVersion" ||
              k == "creationTimestamp" || k == "deletionTimestamp")
            str(f.value());
          else if (k == "labels" || k == "annotations") {
            od::object lo;
            if (f.value().get_object().get(lo)) continue;
            for (auto lf : lo) {
              std::string_view lk;
              if (!lf.unescaped_key().get(lk) && lk == "pod-template-hash") str(lf.value());
            }
          } else if (k == "ownerReferences") {
            od::array a;
            if (f.value().get_array().get(a)) continue;
            for (auto r : a) {
              od::object ro;
              if (r.get_object().get(ro)) continue;
              for (auto rf : ro) {
                std::string_view rk;
                if (!rf.unescaped_key().get(rk) && (rk == "kind" || rk == "name")) str(rf.value());
              }
            }
          }
        } else if (sk == "spec") {
          if (k == "nodeName" || k == "restartPolicy") {
            str(f.value());
          } else if (k == "containers") {
            od::array a;
            if (f.value().get_array().get(a)) continue;
            for (auto c : a) {
              od::object co;
              if (c.get_object().get(co)) continue;
              for (auto cf : co) {
                std::string_view ck;
                if (cf.unescaped_key().get(ck)) continue;
                if (ck == "name" || ck == "image") {
                  str(cf.value());
                } else if (ck == "resources") {
                  od::object ro;
                  if (cf.value().get_object().get(ro)) continue;
                  for (auto rf : ro) {  // limits / requests
                    od::object q;
                    if (rf.value().get_object().get(q)) continue;
                    for (auto qf : q) str(qf.value());
                  }
                }
              }
            }
          }
        } else {  // status
          if (k == "phase" || k == "reason" || k == "message") {
            str(f.value());
          } else if (k == "conditions") {
            od::array a;
            if (f.value().get_array().get(a)) continue;
            for (auto c : a) {
              od::object co;
              if (c.get_object().get(co)) continue;
              for (auto cf : co) {
                std::string_view ck;
                if (!cf.unescaped_key().get(ck) && (ck == "type" || ck == "status"))
                  str(cf.value());
              }
            }
          } else if (k == "containerStatuses" || k == "initContainerStatuses") {
            od::array a;
            if (f.value().get_array().get(a)) continue;
            for (auto c : a) {
              od::object co;
              if (c.get_object().get(co)) continue;
              for (auto cf : co) {
                std::string_view ck;
                if (cf.unescaped_key().get(ck)) continue;
                if (ck == "name") {
                  str(cf.value());
                } else if (ck == "restartCount") {
                  num(cf.value());
                } else if (ck == "ready") {
                  bool b = false;
                  if (!cf.value().get_bool().get(b)) n += b;
                } else if (ck == "state" || ck == "lastState") {
                  state(cf.value());
                }
              }
            }
          }
        }
      }
    }
  }
  return n;
}

struct Sample {
  double https, http, sj, rs_https, rs_http, decode, decode_sorted, dsr;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t events = 30000, corpus_size = 2000;
  int repeat = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--events")) events = std::stoul(argv[i + 1]);
    if (!std::strcmp(argv[i], "--corpus")) corpus_size = std::stoul(argv[i + 1]);
    if (!std::strcmp(argv[i], "--repeat")) repeat = std::stoi(argv[i + 1]);
  }
  auto lines = make_corpus(corpus_size);
  const auto sorted = make_corpus(corpus_size, /*go_order=*/false);
  std::size_t bytes = 0;
  for (const auto& l : lines) bytes += l.size() + 1;
  const Stream stream = chunked_stream(lines, events);
  const auto cert = sim::make_self_signed_cert();
  std::printf(
      "podmedic ingest benchmark: %zu events per run, %zu distinct pods of %.1f KB, decoder "
      "kernel %s, %d repetitions; events per CPU-second of the client process\n",
      events, corpus_size, static_cast<double>(bytes) / static_cast<double>(lines.size()) / 1024.0,
      k8s::json_kernel(), repeat);

  std::vector<Sample> samples;
  od::parser sp;
  for (int r = 0; r < repeat; ++r) {
    Sample s{};
    s.https = full_path(events, stream, &cert);
    s.http = full_path(events, stream, nullptr);
    s.sj = in_memory(lines, events,
                     [&](const std::string& l) { g_sink = g_sink + simdjson_fields(sp, l); });
    s.rs_https = read_split(events, stream, &cert);
    s.rs_http = read_split(events, stream, nullptr);
    {
      Interner interner;
      k8s::Decoder dec(interner);
      k8s::WatchHeader hdr;
      k8s::PodView view;
      s.decode = in_memory(lines, events, [&](const std::string& l) {
        if (!dec.watch_pod(l, l.capacity(), hdr, view).ok()) std::abort();
      });
    }
    {
      // The same pods with managedFields first in metadata (sorted keys): nothing to cut.
      Interner interner;
      k8s::Decoder dec(interner);
      k8s::WatchHeader hdr;
      k8s::PodView view;
      s.decode_sorted = in_memory(sorted, events, [&](const std::string& l) {
        if (!dec.watch_pod(l, l.capacity(), hdr, view).ok()) std::abort();
      });
    }
    {
      Interner interner;
      watcher::PodStore store(interner);
      rules::Detector detector(interner, rules::DetectSettings{});
      std::size_t findings = 0;
      store.set_listener(
          [&](k8s::WatchType, const k8s::PodView* before, const k8s::PodView* after) {
            if (after) findings += detector.evaluate(before, *after).size();
          });
      s.dsr = in_memory(lines, events, [&](const std::string& l) {
        if (!store.apply_watch_line(l, l.capacity()).ok()) std::abort();
      });
      g_sink = g_sink + findings;
    }
    std::printf(
        "  run %d: HTTPS %.0f, HTTP %.0f, simdjson on-demand %.0f events/CPU-s; ratio "
        "HTTPS/simdjson "
        "%.3fx, HTTP/HTTPS %.2fx\n",
        r + 1, s.https, s.http, s.sj, s.https / s.sj, s.http / s.https);
    samples.push_back(s);
  }
  auto col = [&](double Sample::*m) {
    std::vector<double> v;
    for (const auto& s : samples) v.push_back(s.*m);
    return v;
  };
  auto report = [&](const char* label, double Sample::*m) {
    auto v = col(m);
    const double med = median(v);
    std::printf("  %-48s %9.0f events/CPU-s  %6.2f us/event  (min %.0f, max %.0f)\n", label, med,
                1e6 / med, *std::min_element(v.begin(), v.end()),
                *std::max_element(v.begin(), v.end()));
  };
  std::printf("\nmedians over %d runs:\n", repeat);
  report("full path over HTTPS (client+reflector+store+rules)", &Sample::https);
  report("full path over HTTP", &Sample::http);
  report("simdjson on-demand, same fields, same bytes", &Sample::sj);
  report("stage: read + split over HTTPS", &Sample::rs_https);
  report("stage: read + split over HTTP", &Sample::rs_http);
  report("stage: decode (k8s::Decoder::watch_pod)", &Sample::decode);
  report("stage: decode, managedFields not last (no cut)", &Sample::decode_sorted);
  report("stage: decode + store + rules (in memory)", &Sample::dsr);
  std::vector<double> ratio, http_vs;
  for (const auto& s : samples) {
    ratio.push_back(s.https / s.sj);
    http_vs.push_back(s.http / s.https);
  }
  std::printf(
      "ratio HTTPS / simdjson on-demand: median %.3fx (min %.3f, max %.3f; goal >= 0.30x)\n"
      "ratio HTTP / HTTPS: median %.2fx (min %.2f, max %.2f; goal >= 1)\n",
      median(ratio), *std::min_element(ratio.begin(), ratio.end()),
      *std::max_element(ratio.begin(), ratio.end()), median(http_vs),
      *std::min_element(http_vs.begin(), http_vs.end()),
      *std::max_element(http_vs.begin(), http_vs.end()));
  return 0;
}
