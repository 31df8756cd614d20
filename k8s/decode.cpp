#include "k8s/decode.h"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include "core/parse.h"
#include "core/text.h"
#include "core/units.h"

namespace podmedic::k8s {
namespace od = simdjson::ondemand;

static_assert(kJsonPadding >= simdjson::SIMDJSON_PADDING);

const char* to_string(WatchType t) {
  switch (t) {
    case WatchType::kAdded:
      return "ADDED";
    case WatchType::kModified:
      return "MODIFIED";
    case WatchType::kDeleted:
      return "DELETED";
    case WatchType::kBookmark:
      return "BOOKMARK";
    case WatchType::kError:
      return "ERROR";
    case WatchType::kUnknown:
      return "UNKNOWN";
  }
  return "UNKNOWN";
}

void PodView::clear() {
  ns = phase = reason = node = restart_policy = owner_kind = owner_name = template_hash = 0;
  name.clear();
  uid.clear();
  resource_version.clear();
  created = deleting_since = 0;
  opted_out = ready = false;
  mark = 0;
  status_message.clear();
  containers.clear();
}

void EventView::clear() {
  ns = involved_kind = reason = type = source = 0;
  name.clear();
  resource_version.clear();
  involved_name.clear();
  involved_uid.clear();
  field_path.clear();
  message.clear();
  count = 1;
  first_seen = last_seen = 0;
  mark = 0;
}

namespace {

// Where the decoder reads a symbol. Each site remembers the symbol it read last, and the next
// value read there is first compared with that symbol's text (Interner::intern_collectable with
// a hint): a namespace, phase, node or image repeated from one event to the next costs a string
// compare instead of a hash lookup.
enum Site : std::size_t {
  kNamespace,
  kOwnerKind,
  kOwnerName,
  kTemplateHash,
  kNode,
  kRestartPolicy,
  kContainerName,
  kImage,
  kMemLimit,
  kMemRequest,
  kCpuLimit,
  kCpuRequest,
  kPhase,
  kPodReason,
  kStateReason,
  kLastStateReason,
  kEventNamespace,
  kInvolvedKind,
  kEventReason,
  kEventType,
  kSource,
  kReporting,
  kSites
};

class Symbols {
 public:
  explicit Symbols(Interner& in) : in_(in) {}
  Sym operator()(Site site, std::string_view s) { return in_.intern_collectable(s, hints_[site]); }

 private:
  Interner& in_;
  std::array<Sym, kSites> hints_{};
};

// Cuts at most `max` bytes without splitting a UTF-8 sequence.
void assign_bounded(std::string& out, std::string_view s, std::size_t max = kMaxMessageBytes) {
  out.assign(text::cut_utf8(s, max));
}

bool is_type(od::value& v, od::json_type want) {
  od::json_type t;
  return !v.type().get(t) && t == want;
}

// Reads a string; null or another type leaves `out` empty (tolerant) and returns true.
bool get_str(od::value v, std::string_view& out) {
  out = {};
  if (!is_type(v, od::json_type::string)) return true;
  return !v.get_string().get(out);
}

// Reads an integer saturated into [lo, hi]. Every integer field of a pod or event is a peer's
// word: a restartCount of 4294967303 must read as the uint32 maximum, never wrap to 7. Integers
// beyond 64 bits and integral floats saturate too; a fractional number is a decode error; another
// type leaves `out` unchanged (tolerant, like get_str).
bool get_int(od::value v, std::int64_t& out,
             std::int64_t lo = std::numeric_limits<std::int64_t>::min(),
             std::int64_t hi = std::numeric_limits<std::int64_t>::max()) {
  if (!is_type(v, od::json_type::number)) return true;
  std::int64_t i = 0;
  std::uint64_t u = 0;
  double d = 0;
  if (!v.get_int64().get(i)) {
    out = std::clamp(i, lo, hi);
  } else if (!v.get_uint64().get(u)) {
    out = hi;  // above int64's range: above any hi
  } else if (!v.get_double().get(d) && std::isfinite(d) && std::trunc(d) == d) {
    // An integral float (5.0) or an integer beyond 64 bits.
    out = d < 0 ? lo : hi;
    if (d > static_cast<double>(lo) && d < static_cast<double>(hi))
      out = static_cast<std::int64_t>(d);
  } else {
    return false;
  }
  return true;
}

template <class T>
bool get_int_as(od::value v, T& out, T lo = std::numeric_limits<T>::min(),
                T hi = std::numeric_limits<T>::max()) {
  static_assert(sizeof(T) < sizeof(std::int64_t) || std::is_signed_v<T>);
  std::int64_t n = out;
  if (!get_int(v, n, static_cast<std::int64_t>(lo), static_cast<std::int64_t>(hi))) return false;
  out = static_cast<T>(n);  // in [lo, hi] by construction
  return true;
}

bool get_bool(od::value v, bool& out) {
  if (!is_type(v, od::json_type::boolean)) return true;
  return !v.get_bool().get(out);
}

bool get_time(od::value v, std::int64_t& out) {
  std::string_view s;
  if (!get_str(v, s)) return false;
  out = parse_rfc3339(s);
  return true;
}

// Calls f(key, value) for each member; a non-object is skipped (tolerant), a syntax error fails.
template <class F>
bool each_field(od::value v, F&& f) {
  if (!is_type(v, od::json_type::object)) return true;
  od::object o;
  if (v.get_object().get(o)) return false;
  for (auto field : o) {
    od::raw_json_string key;
    if (field.key().get(key)) return false;
    od::value val;
    if (field.value().get(val)) return false;
    if (!f(key, val)) return false;
  }
  return true;
}

template <class F>
bool each_element(od::value v, F&& f) {
  if (!is_type(v, od::json_type::array)) return true;
  od::array a;
  if (v.get_array().get(a)) return false;
  for (auto el : a) {
    od::value val;
    if (el.get(val)) return false;
    if (!f(val)) return false;
  }
  return true;
}

bool decode_state(od::value v, ContainerState& st, std::string* message, Symbols& in,
                  Site st_site) {
  return each_field(v, [&](od::raw_json_string key, od::value val) {
    ContainerState::Kind kind;
    if (key == "waiting")
      kind = ContainerState::kWaiting;
    else if (key == "running")
      kind = ContainerState::kRunning;
    else if (key == "terminated")
      kind = ContainerState::kTerminated;
    else
      return true;
    if (!is_type(val, od::json_type::object)) return true;
    st.kind = kind;
    return each_field(val, [&](od::raw_json_string k, od::value x) {
      std::string_view s;
      if (k == "reason") {
        if (!get_str(x, s)) return false;
        st.reason = in(st_site, s);
      } else if (k == "message") {
        if (!get_str(x, s)) return false;
        if (message) assign_bounded(*message, s);
      } else if (k == "exitCode") {
        return get_int_as(x, st.exit_code);
      } else if (k == "signal") {
        return get_int_as(x, st.signal);
      } else if (k == "startedAt") {
        return get_time(x, st.started_at);
      } else if (k == "finishedAt") {
        return get_time(x, st.finished_at);
      }
      return true;
    });
  });
}

bool decode_container_status(od::value v, ContainerView& c, Symbols& in) {
  c.has_status = true;
  return each_field(v, [&](od::raw_json_string key, od::value val) {
    std::string_view s;
    if (key == "name") {
      if (!get_str(val, s)) return false;
      c.name = in(kContainerName, s);
    } else if (key == "image") {
      if (!get_str(val, s)) return false;
      if (c.image == 0) c.image = in(kImage, s);
    } else if (key == "ready") {
      return get_bool(val, c.ready);
    } else if (key == "restartCount") {
      return get_int_as(val, c.restart_count);
    } else if (key == "state") {
      return decode_state(val, c.state, &c.message, in, kStateReason);
    } else if (key == "lastState") {
      return decode_state(val, c.last, &c.last_message, in, kLastStateReason);
    }
    return true;
  });
}

bool decode_resources(od::value v, ContainerView& c, Symbols& in) {
  return each_field(v, [&](od::raw_json_string key, od::value val) {
    bool limits = key == "limits";
    if (!limits && !(key == "requests")) return true;
    return each_field(val, [&](od::raw_json_string k, od::value q) {
      std::string_view s;
      if (k == "memory") {
        if (!get_str(q, s)) return false;
        (limits ? c.mem_limit : c.mem_request) = in(limits ? kMemLimit : kMemRequest, s);
      } else if (k == "cpu") {
        if (!get_str(q, s)) return false;
        (limits ? c.cpu_limit : c.cpu_request) = in(limits ? kCpuLimit : kCpuRequest, s);
      }
      return true;
    });
  });
}

bool decode_container_spec(od::value v, ContainerView& c, Symbols& in) {
  return each_field(v, [&](od::raw_json_string key, od::value val) {
    std::string_view s;
    if (key == "name") {
      if (!get_str(val, s)) return false;
      c.name = in(kContainerName, s);
    } else if (key == "image") {
      if (!get_str(val, s)) return false;
      c.image = in(kImage, s);
    } else if (key == "resources") {
      return decode_resources(val, c, in);
    }
    return true;
  });
}

bool decode_pod_meta(od::value v, PodView& p, Symbols& in) {
  return each_field(v, [&](od::raw_json_string key, od::value val) {
    std::string_view s;
    if (key == "name") {
      if (!get_str(val, s)) return false;
      p.name.assign(s);
    } else if (key == "namespace") {
      if (!get_str(val, s)) return false;
      p.ns = in(kNamespace, s);
    } else if (key == "uid") {
      if (!get_str(val, s)) return false;
      p.uid.assign(s);
    } else if (key == "resourceVersion") {
      if (!get_str(val, s)) return false;
      p.resource_version.assign(s);
    } else if (key == "creationTimestamp") {
      return get_time(val, p.created);
    } else if (key == "deletionTimestamp") {
      return get_time(val, p.deleting_since);
    } else if (key == "labels") {
      return each_field(val, [&](od::raw_json_string k, od::value a) {
        if (!(k == "pod-template-hash")) return true;
        std::string_view hash;
        if (!get_str(a, hash)) return false;
        p.template_hash = in(kTemplateHash, hash);
        return true;
      });
    } else if (key == "annotations") {
      return each_field(val, [&](od::raw_json_string k, od::value a) {
        if (!(k == "podmedic.io/ignore")) return true;
        std::string_view flag;
        if (!get_str(a, flag)) return false;
        p.opted_out = flag == "true";
        return true;
      });
    } else if (key == "ownerReferences") {
      bool have_controller = false;
      return each_element(val, [&](od::value ref) {
        std::string_view kind, name;
        bool controller = false;
        bool ok = each_field(ref, [&](od::raw_json_string k, od::value x) {
          if (k == "kind") return get_str(x, kind);
          if (k == "name") return get_str(x, name);
          if (k == "controller") return get_bool(x, controller);
          return true;
        });
        if (!ok) return false;
        if (!have_controller && (controller || p.owner_kind == 0)) {
          p.owner_kind = in(kOwnerKind, kind);
          p.owner_name = in(kOwnerName, name);
          have_controller = controller;
        }
        return true;
      });
    }
    return true;
  });
}

bool decode_pod_spec(od::value v, PodView& p, Symbols& in) {
  return each_field(v, [&](od::raw_json_string key, od::value val) {
    std::string_view s;
    if (key == "nodeName") {
      if (!get_str(val, s)) return false;
      p.node = in(kNode, s);
    } else if (key == "restartPolicy") {
      if (!get_str(val, s)) return false;
      p.restart_policy = in(kRestartPolicy, s);
    } else if (key == "containers" || key == "initContainers") {
      bool init = key == "initContainers";
      return each_element(val, [&](od::value c) {
        ContainerView cv;
        cv.init = init;
        if (!decode_container_spec(c, cv, in)) return false;
        p.containers.push_back(std::move(cv));
        return true;
      });
    }
    return true;
  });
}

// Finds the container with this name and kind, or appends one (status seen without spec).
ContainerView& container_slot(PodView& p, Sym name, bool init) {
  for (auto& c : p.containers) {
    if (c.name == name && c.init == init) return c;
  }
  auto& c = p.containers.emplace_back();
  c.name = name;
  c.init = init;
  return c;
}

bool decode_pod_status(od::value v, PodView& p, Symbols& in, std::vector<ContainerView>& scratch) {
  return each_field(v, [&](od::raw_json_string key, od::value val) {
    std::string_view s;
    if (key == "phase") {
      if (!get_str(val, s)) return false;
      p.phase = in(kPhase, s);
    } else if (key == "reason") {
      if (!get_str(val, s)) return false;
      p.reason = in(kPodReason, s);
    } else if (key == "message") {
      if (!get_str(val, s)) return false;
      assign_bounded(p.status_message, s);
    } else if (key == "conditions") {
      return each_element(val, [&](od::value cond) {
        std::string_view type, status;
        bool ok = each_field(cond, [&](od::raw_json_string k, od::value x) {
          if (k == "type") return get_str(x, type);
          if (k == "status") return get_str(x, status);
          return true;
        });
        if (ok && type == "Ready") p.ready = status == "True";
        return ok;
      });
    } else if (key == "containerStatuses" || key == "initContainerStatuses") {
      bool init = key == "initContainerStatuses";
      return each_element(val, [&](od::value cs) {
        auto& tmp = scratch.emplace_back();
        tmp.init = init;
        return decode_container_status(cs, tmp, in);
      });
    }
    return true;
  });
}

// Merges status entries (decoded into scratch, whatever the key order was) into spec containers.
void merge_statuses(PodView& p, std::vector<ContainerView>& scratch) {
  for (auto& st : scratch) {
    auto& c = container_slot(p, st.name, st.init);
    Sym image = c.image != 0 ? c.image : st.image;
    Sym mr = c.mem_request, ml = c.mem_limit, cr = c.cpu_request, cl = c.cpu_limit;
    c = std::move(st);
    c.image = image;
    c.mem_request = mr;
    c.mem_limit = ml;
    c.cpu_request = cr;
    c.cpu_limit = cl;
  }
  scratch.clear();
  // Init containers first, as the kubelet runs them.
  std::stable_partition(p.containers.begin(), p.containers.end(),
                        [](const ContainerView& c) { return c.init; });
}

bool decode_status_object(od::value v, Status& st) {
  return each_field(v, [&](od::raw_json_string key, od::value val) {
    std::string_view s;
    if (key == "code") {
      return get_int_as(val, st.code);
    } else if (key == "reason") {
      if (!get_str(val, s)) return false;
      assign_bounded(st.reason, s, 64);
    } else if (key == "message") {
      if (!get_str(val, s)) return false;
      assign_bounded(st.message, s);
    } else if (key == "details") {
      return each_field(val, [&](od::raw_json_string k, od::value x) {
        if (!(k == "retryAfterSeconds")) return true;
        return get_int_as(x, st.retry_after_seconds, 0, std::numeric_limits<int>::max());
      });
    }
    return true;
  });
}

WatchType watch_type(std::string_view s) {
  if (s == "ADDED") return WatchType::kAdded;
  if (s == "MODIFIED") return WatchType::kModified;
  if (s == "DELETED") return WatchType::kDeleted;
  if (s == "BOOKMARK") return WatchType::kBookmark;
  if (s == "ERROR") return WatchType::kError;
  return WatchType::kUnknown;
}

// Bookmark objects carry only metadata.resourceVersion (and maybe the initial-events-end mark).
bool decode_bookmark(od::value v, WatchHeader& hdr) {
  return each_field(v, [&](od::raw_json_string key, od::value val) {
    if (!(key == "metadata")) return true;
    return each_field(val, [&](od::raw_json_string k, od::value x) {
      std::string_view s;
      if (k == "resourceVersion") {
        if (!get_str(x, s)) return false;
        hdr.resource_version.assign(s);
      } else if (k == "annotations") {
        return each_field(x, [&](od::raw_json_string ak, od::value av) {
          if (!(ak == "k8s.io/initial-events-end")) return true;
          std::string_view flag;
          if (!get_str(av, flag)) return false;
          hdr.initial_events_end = flag == "true";
          return true;
        });
      }
      return true;
    });
  });
}

bool decode_event(od::value v, EventView& e, Symbols& in) {
  std::int64_t last_ts = 0, series_last = 0, event_time = 0, first_ts = 0, created = 0;
  std::int64_t series_count = 0;
  Sym source_component = 0, reporting = 0;
  bool ok = each_field(v, [&](od::raw_json_string key, od::value val) {
    std::string_view s;
    if (key == "metadata") {
      return each_field(val, [&](od::raw_json_string k, od::value x) {
        if (k == "name") {
          if (!get_str(x, s)) return false;
          e.name.assign(s);
        } else if (k == "namespace") {
          if (!get_str(x, s)) return false;
          e.ns = in(kEventNamespace, s);
        } else if (k == "resourceVersion") {
          if (!get_str(x, s)) return false;
          e.resource_version.assign(s);
        } else if (k == "creationTimestamp") {
          return get_time(x, created);
        }
        return true;
      });
    }
    if (key == "involvedObject") {
      return each_field(val, [&](od::raw_json_string k, od::value x) {
        if (k == "kind") {
          if (!get_str(x, s)) return false;
          e.involved_kind = in(kInvolvedKind, s);
        } else if (k == "name") {
          if (!get_str(x, s)) return false;
          e.involved_name.assign(s);
        } else if (k == "uid") {
          if (!get_str(x, s)) return false;
          e.involved_uid.assign(s);
        } else if (k == "fieldPath") {
          if (!get_str(x, s)) return false;
          assign_bounded(e.field_path, s, 128);
        }
        return true;
      });
    }
    if (key == "reason") {
      if (!get_str(val, s)) return false;
      e.reason = in(kEventReason, s);
    } else if (key == "message") {
      if (!get_str(val, s)) return false;
      assign_bounded(e.message, s);
    } else if (key == "type") {
      if (!get_str(val, s)) return false;
      e.type = in(kEventType, s);
    } else if (key == "count") {
      return get_int_as(val, e.count);
    } else if (key == "firstTimestamp") {
      return get_time(val, first_ts);
    } else if (key == "lastTimestamp") {
      return get_time(val, last_ts);
    } else if (key == "eventTime") {
      return get_time(val, event_time);
    } else if (key == "series") {
      return each_field(val, [&](od::raw_json_string k, od::value x) {
        if (k == "count") return get_int(x, series_count);
        if (k == "lastObservedTime") return get_time(x, series_last);
        return true;
      });
    } else if (key == "source") {
      return each_field(val, [&](od::raw_json_string k, od::value x) {
        if (!(k == "component")) return true;
        if (!get_str(x, s)) return false;
        source_component = in(kSource, s);
        return true;
      });
    } else if (key == "reportingComponent") {
      if (!get_str(val, s)) return false;
      reporting = in(kReporting, s);
    }
    return true;
  });
  // Ordering time: the first non-null of these, per the protocol reference.
  for (std::int64_t t : {last_ts, series_last, event_time, first_ts, created}) {
    if (t != 0) {
      e.last_seen = t;
      break;
    }
  }
  e.first_seen = first_ts != 0 ? first_ts : (event_time != 0 ? event_time : created);
  if (series_count > 0)
    e.count = static_cast<std::int32_t>(
        std::min<std::int64_t>(series_count, std::numeric_limits<std::int32_t>::max()));
  if (e.count <= 0) e.count = 1;
  e.source = reporting != 0 ? reporting : source_component;
  return ok;
}

}  // namespace

struct Decoder::Impl {
  explicit Impl(Interner& in) : symbols(in) {}
  Symbols symbols;
  od::parser parser;                        // watch lines: sized for one object
  std::unique_ptr<od::parser> list_parser;  // list pages: sized for a page, released after
  std::vector<ContainerView> scratch;
  std::string cut;  // a watch line without managedFields (one pod line long, reused)
  od::parser& for_list() {
    if (!list_parser) list_parser = std::make_unique<od::parser>();
    return *list_parser;
  }
};

void Decoder::release_list_buffers() {
  impl_->list_parser.reset();
}

Decoder::Decoder(Interner& interner)
    : impl_(std::make_unique<Impl>(interner)), interner_(interner) {}
Decoder::~Decoder() = default;

namespace {

Result<Ok> syntax_error(simdjson::error_code e) {
  return Error{std::string("malformed JSON: ") + simdjson::error_message(e)};
}

template <class ObjFn>
Result<Ok> decode_watch(od::parser& parser, std::string_view json, std::size_t capacity,
                        WatchHeader& hdr, ObjFn&& decode_obj) {
  if (capacity < json.size() + simdjson::SIMDJSON_PADDING)
    return Error{"internal: insufficient padding"};
  hdr = WatchHeader{};
  od::document doc;
  if (auto e = parser.iterate(simdjson::padded_string_view(json.data(), json.size(), capacity))
                   .get(doc)) {
    return syntax_error(e);
  }
  od::object top;
  if (auto e = doc.get_object().get(top)) return syntax_error(e);
  bool saw_object = false;
  for (auto field : top) {
    od::raw_json_string key;
    if (auto e = field.key().get(key)) return syntax_error(e);
    od::value val;
    if (auto e = field.value().get(val)) return syntax_error(e);
    if (key == "type") {
      std::string_view s;
      if (!get_str(val, s)) return Error{"malformed watch event: bad type"};
      assign_bounded(hdr.type_name, s, 32);
      hdr.type = watch_type(s);
    } else if (key == "object") {
      saw_object = true;
      bool ok;
      if (hdr.type == WatchType::kError)
        ok = decode_status_object(val, hdr.status);
      else if (hdr.type == WatchType::kBookmark)
        ok = decode_bookmark(val, hdr);
      else
        ok = decode_obj(val);
      if (!ok) return Error{"malformed watch event object"};
    }
  }
  if (hdr.type_name.empty()) return Error{"malformed watch event: no type"};
  if (!saw_object) return Error{"malformed watch event: no object"};
  return Ok{};
}

template <class ItemFn>
Result<Ok> decode_list(od::parser& parser, std::string_view json, std::size_t capacity,
                       ListMeta& meta, ItemFn&& item) {
  if (capacity < json.size() + simdjson::SIMDJSON_PADDING)
    return Error{"internal: insufficient padding"};
  meta = ListMeta{};
  od::document doc;
  if (auto e = parser.iterate(simdjson::padded_string_view(json.data(), json.size(), capacity))
                   .get(doc)) {
    return syntax_error(e);
  }
  od::object top;
  if (auto e = doc.get_object().get(top)) return syntax_error(e);
  bool saw_items = false;
  for (auto field : top) {
    od::raw_json_string key;
    if (auto e = field.key().get(key)) return syntax_error(e);
    od::value val;
    if (auto e = field.value().get(val)) return syntax_error(e);
    if (key == "metadata") {
      bool ok = each_field(val, [&](od::raw_json_string k, od::value x) {
        std::string_view s;
        if (k == "resourceVersion") {
          if (!get_str(x, s)) return false;
          meta.resource_version.assign(s);
        } else if (k == "continue") {
          if (!get_str(x, s)) return false;
          meta.continue_token.assign(s);
        }
        return true;
      });
      if (!ok) return Error{"malformed list metadata"};
    } else if (key == "items") {
      saw_items = true;
      bool ok = each_element(val, [&](od::value v) {
        ++meta.items;
        return item(v);
      });
      if (!ok) return Error{"malformed list item"};
    }
  }
  if (!saw_items && meta.resource_version.empty()) return Error{"not a list response"};
  return Ok{};
}

}  // namespace

namespace {

// managedFields (server-side apply bookkeeping, ~40 % of a pod's bytes) is never read. The API
// server (Go's encoding of ObjectMeta) writes it as the last member of metadata, right before
// "spec": then the bytes from `,"managedFields":[` to the `]` of the first `]},"spec":{` after
// it are left out of a copy, so simdjson neither indexes nor skips them. Returns an empty view
// when the line has not that shape (nothing to cut). Safe for any bytes: a `,"` can only start a
// key (a quote inside a string is always escaped), so the start is structural; a wrong end (a
// "spec" key inside managedFields) yields a document of the peer's own making, which simdjson
// validates like any other, and the caller decodes the whole line when the cut one fails.
std::string_view without_managed_fields(std::string_view json, std::string& out) {
  static constexpr std::string_view kStart = R"(,"managedFields":[)";
  static constexpr std::string_view kEnd = R"(]},"spec":{)";
  const auto start = json.find(kStart);
  if (start == std::string_view::npos) return {};
  const auto end = json.find(kEnd, start + kStart.size() - 1);
  if (end == std::string_view::npos) return {};
  out.clear();
  out.reserve(json.size() + kJsonPadding);
  out.append(json.substr(0, start));
  out.append(json.substr(end + 1));  // from the `}` closing metadata
  return out;
}

}  // namespace

Result<Ok> Decoder::watch_pod(std::string_view json, std::size_t capacity, WatchHeader& hdr,
                              PodView& out) {
  // One decode of a whole line into `out` (cleared first).
  auto decode = [&](std::string_view line, std::size_t cap) -> Result<Ok> {
    out.clear();
    impl_->scratch.clear();
    auto r = decode_watch(impl_->parser, line, cap, hdr, [&](od::value v) {
      return each_field(v, [&](od::raw_json_string key, od::value val) {
        if (key == "metadata") return decode_pod_meta(val, out, impl_->symbols);
        if (key == "spec") return decode_pod_spec(val, out, impl_->symbols);
        if (key == "status") return decode_pod_status(val, out, impl_->symbols, impl_->scratch);
        return true;
      });
    });
    if (r.ok()) {
      merge_statuses(out, impl_->scratch);
      if (hdr.resource_version.empty()) hdr.resource_version = out.resource_version;
      if ((hdr.type == WatchType::kAdded || hdr.type == WatchType::kModified ||
           hdr.type == WatchType::kDeleted) &&
          (out.name.empty() || out.ns == 0)) {
        return Error{"watch event object has no namespace/name"};
      }
    }
    return r;
  };
  if (capacity >= json.size() + simdjson::SIMDJSON_PADDING) {
    auto cut = without_managed_fields(json, impl_->cut);
    if (!cut.empty()) {
      auto r = decode(cut, impl_->cut.capacity());
      if (r.ok()) return r;
      // Full-parse fallback: the cut line is not the pod (an unusual or hostile layout).
    }
  }
  return decode(json, capacity);
}

Result<Ok> Decoder::watch_event(std::string_view json, std::size_t capacity, WatchHeader& hdr,
                                EventView& out) {
  out.clear();
  auto r = decode_watch(impl_->parser, json, capacity, hdr,
                        [&](od::value v) { return decode_event(v, out, impl_->symbols); });
  if (r.ok() && hdr.resource_version.empty()) hdr.resource_version = out.resource_version;
  return r;
}

Result<Ok> Decoder::pod_list(std::string_view json, std::size_t capacity, ListMeta& meta,
                             const std::function<void(PodView&)>& on_item) {
  PodView pod;
  return decode_list(impl_->for_list(), json, capacity, meta, [&](od::value v) {
    pod.clear();
    impl_->scratch.clear();
    bool ok = each_field(v, [&](od::raw_json_string key, od::value val) {
      if (key == "metadata") return decode_pod_meta(val, pod, impl_->symbols);
      if (key == "spec") return decode_pod_spec(val, pod, impl_->symbols);
      if (key == "status") return decode_pod_status(val, pod, impl_->symbols, impl_->scratch);
      return true;
    });
    if (!ok) return false;
    merge_statuses(pod, impl_->scratch);
    if (pod.name.empty() || pod.ns == 0) return false;
    on_item(pod);
    return true;
  });
}

Result<Ok> Decoder::event_list(std::string_view json, std::size_t capacity, ListMeta& meta,
                               const std::function<void(EventView&)>& on_item) {
  EventView ev;
  return decode_list(impl_->for_list(), json, capacity, meta, [&](od::value v) {
    ev.clear();
    if (!decode_event(v, ev, impl_->symbols)) return false;
    on_item(ev);
    return true;
  });
}

namespace {
const char* reason_for_code(int code) {
  switch (code) {
    case 400:
      return "BadRequest";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "NotFound";
    case 410:
      return "Expired";
    case 422:
      return "Invalid";
    case 429:
      return "TooManyRequests";
    case 500:
      return "InternalError";
    case 503:
      return "ServiceUnavailable";
    case 504:
      return "Timeout";
    default:
      return "Unknown";
  }
}
}  // namespace

Status parse_status(int http_code, std::string_view body) {
  Status st;
  st.code = http_code;
  auto parsed = parse::json_text(body, "Status body");
  const parse::json* j = parsed.ok() && parsed->is_object() ? &parsed.value() : nullptr;
  // Present with a value, whatever its type (absent and null are "not said").
  auto said = [](const parse::json* v) { return v != nullptr && !v->is_null(); };
  if (j && parse::get_string(*j, "kind") == "Status") {
    // Each field is used only when it has its type and a sane value; the others keep the
    // HTTP facts and mark the answer as wrong-typed.
    if (auto code = parse::get_integer<int>(*j, "code"); code && *code >= 100 && *code <= 599)
      st.code = *code;
    else if (said(parse::member(*j, "code")))
      st.wrong_type = true;
    if (auto reason = parse::get_string(*j, "reason"))
      assign_bounded(st.reason, *reason, 64);
    else if (said(parse::member(*j, "reason")))
      st.wrong_type = true;
    if (auto message = parse::get_string(*j, "message"))
      assign_bounded(st.message, *message);
    else if (said(parse::member(*j, "message")))
      st.wrong_type = true;
    if (const auto* details = parse::get_object(*j, "details")) {
      auto secs = parse::get_integer<int>(*details, "retryAfterSeconds");
      if (secs && *secs >= 0)
        st.retry_after_seconds = *secs;
      else if (said(parse::member(*details, "retryAfterSeconds")))
        st.wrong_type = true;
    } else if (said(parse::member(*j, "details"))) {
      st.wrong_type = true;
    }
  } else {
    st.wrong_type = j && parse::wrong_type(*j, "kind", parse::json::value_t::string);
    // Plain text (priority-and-fairness 429, proxies): keep the first line, bounded.
    std::string_view first = body.substr(0, std::min(body.find('\n'), std::size_t{4096}));
    assign_bounded(st.message, text::sanitize_utf8(first));
  }
  if (st.reason.empty()) st.reason = reason_for_code(st.code);
  return st;
}

}  // namespace podmedic::k8s
