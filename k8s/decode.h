#pragma once
// Selective JSON decoding of pods, events, lists, watch lines and Status bodies with simdjson
// on-demand: one pass, no DOM, managedFields and everything else unused is skipped. Input is
// untrusted: every failure is a returned error, never an exception. Not thread-safe: one Decoder
// per thread (it owns the simdjson parser and writes symbols into the shared Interner). Every
// symbol it writes is collectable (Interner::intern_collectable): a caller that keeps a decoded
// view longer than the Interner's period must register as a Root or copy the strings out.
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/interner.h"
#include "core/result.h"
#include "k8s/objects.h"

namespace podmedic::k8s {

// Padding simdjson needs readable after the JSON text (SIMDJSON_PADDING).
constexpr std::size_t kJsonPadding = 64;

// A Kubernetes Status (error) object, or the facts of an error response.
struct Status {
  int code = 0;
  std::string reason;  // Expired, Gone, NotFound, Unauthorized, ...
  std::string message;
  int retry_after_seconds = 0;  // details.retryAfterSeconds, >= 0
  // The body was a JSON Status (or claimed a kind) with fields of the wrong type: what was
  // usable was read, the rest kept the HTTP facts. For counting the peer's fault.
  bool wrong_type = false;
};

struct ListMeta {
  std::string resource_version;
  std::string continue_token;
  std::size_t items = 0;
};

struct WatchHeader {
  WatchType type = WatchType::kUnknown;
  std::string type_name;         // as sent, for logging unknown types
  std::string resource_version;  // object's metadata.resourceVersion (bookmarks: the new RV)
  bool initial_events_end = false;
  Status status;  // for kError
};

class Decoder {
 public:
  explicit Decoder(Interner& interner);
  ~Decoder();
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  // All `json` views must have kJsonPadding readable bytes after their end (`capacity` counts
  // them). `out` is cleared first and reused, so hot loops do not allocate.
  Result<Ok> watch_pod(std::string_view json, std::size_t capacity, WatchHeader& hdr, PodView& out);
  Result<Ok> watch_event(std::string_view json, std::size_t capacity, WatchHeader& hdr,
                         EventView& out);
  // Calls on_item for each item of a PodList / EventList page.
  Result<Ok> pod_list(std::string_view json, std::size_t capacity, ListMeta& meta,
                      const std::function<void(PodView&)>& on_item);
  Result<Ok> event_list(std::string_view json, std::size_t capacity, ListMeta& meta,
                        const std::function<void(EventView&)>& on_item);

  // Frees the buffers sized for list pages (megabytes); the next list allocates them again.
  // Watch lines use a separate parser sized for single objects.
  void release_list_buffers();

  Interner& interner() { return interner_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  Interner& interner_;
};

// Parses an error response body: a Status object, or plain text (429 from priority-and-fairness).
// Never fails: whatever the body holds, the result has the HTTP code and a reason.
Status parse_status(int http_code, std::string_view body);

}  // namespace podmedic::k8s
