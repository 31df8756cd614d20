#include "core/http.h"

#include "core/parse.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <mutex>

namespace podmedic::http {
namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct BodySink {
  std::string* out;
  std::size_t max;
};

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<BodySink*>(user);
  size_t len = size * n;
  if (sink->out->size() < sink->max)
    sink->out->append(data, std::min(len, sink->max - sink->out->size()));
  return len;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* out = static_cast<std::string*>(user);
  std::string line(data, size * n);
  std::string lower = line;
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  if (lower.rfind("retry-after:", 0) == 0) {
    std::string v = line.substr(12);
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.erase(v.begin());
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.pop_back();
    *out = v;
  }
  return size * n;
}

// curl_easy_perform, but through a multi handle polled every kCancelLatency so that `cancel`
// (optional) is looked at even while the peer sends nothing (curl's progress callback can go a
// second without being called then). Sets `cancelled` when the token stopped the transfer. One
// path for every transfer, with or without a token, so the one every test takes is the one used.
CURLcode perform(CURL* curl, const Cancel* cancel, bool& cancelled) {
  CURLM* multi = curl_multi_init();
  if (!multi) return CURLE_OUT_OF_MEMORY;
  if (curl_multi_add_handle(multi, curl) != CURLM_OK) {
    curl_multi_cleanup(multi);
    return CURLE_FAILED_INIT;
  }
  CURLcode rc = CURLE_OK;
  for (;;) {
    int running = 0;
    if (curl_multi_perform(multi, &running) != CURLM_OK) {
      rc = CURLE_FAILED_INIT;
      break;
    }
    if (running == 0) {
      int left = 0;
      rc = CURLE_FAILED_INIT;  // replaced by the transfer's own result below
      while (CURLMsg* m = curl_multi_info_read(multi, &left)) {
        if (m->msg == CURLMSG_DONE && m->easy_handle == curl) rc = m->data.result;
      }
      break;
    }
    if (cancel && cancel->cancelled()) {
      cancelled = true;
      rc = CURLE_ABORTED_BY_CALLBACK;
      break;
    }
    if (curl_multi_poll(multi, nullptr, 0, static_cast<int>(kCancelLatency.count()), nullptr) !=
        CURLM_OK) {
      rc = CURLE_FAILED_INIT;
      break;
    }
  }
  curl_multi_remove_handle(multi, curl);
  curl_multi_cleanup(multi);
  return rc;
}

}  // namespace

long parse_retry_after(const std::string& value, long now_unix) {
  if (value.empty()) return -1;
  if (value.size() > 64) return -1;
  if (std::all_of(value.begin(), value.end(), [](unsigned char c) { return std::isdigit(c); })) {
    // Delta-seconds of any length: beyond a day (or beyond long) it is a day.
    auto v = parse::integer<long>(value);
    return v ? std::min(*v, kMaxRetryAfterSeconds) : kMaxRetryAfterSeconds;
  }
  time_t t = curl_getdate(value.c_str(), nullptr);
  if (t < 0) return -1;
  if (static_cast<long>(t) - now_unix > kMaxRetryAfterSeconds) return kMaxRetryAfterSeconds;
  return std::max(0L, static_cast<long>(t) - now_unix);
}

PostResult post(const std::string& url, const std::vector<std::string>& headers,
                const std::string& body, std::chrono::milliseconds timeout, const Cancel* cancel) {
  return request("POST", url, headers, body, timeout, 4096, cancel);
}

PostResult request(const std::string& method, const std::string& url,
                   const std::vector<std::string>& headers, const std::string& body,
                   std::chrono::milliseconds timeout, std::size_t max_body, const Cancel* cancel,
                   const std::string& ca_file) {
  global_init();
  PostResult r;
  if (cancel && cancel->cancelled()) {
    r.cancelled = true;
    r.error = "cancelled";
    return r;
  }
  CURL* curl = curl_easy_init();
  if (!curl) {
    r.error = "curl_easy_init failed";
    return r;
  }
  curl_slist* list = nullptr;
  for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
  // No "Expect: 100-continue": small JSON bodies, and servers that never answer it would cost a
  // second per request.
  list = curl_slist_append(list, "Expect:");
  std::string retry_after;
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  if (method == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    if (method != "POST") curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
  BodySink sink{&r.body, max_body};
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   std::min(10000L, static_cast<long>(timeout.count())));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &retry_after);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "podmedic/" PODMEDIC_VERSION);
  if (!ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file.c_str());
  CURLcode rc = perform(curl, cancel, r.cancelled);
  if (r.cancelled) {
    r.error = "cancelled";
  } else if (rc == CURLE_OK) {
    long code = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    r.status = static_cast<int>(code);
    r.retry_after_seconds = parse_retry_after(retry_after, static_cast<long>(std::time(nullptr)));
    r.retry_after_unusable =
        !retry_after.empty() &&
        (r.retry_after_seconds < 0 || r.retry_after_seconds >= kMaxRetryAfterSeconds);
    const char* ct = nullptr;
    curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &ct);
    if (ct) r.content_type = ct;
  } else {
    r.error = errbuf[0] ? errbuf : curl_easy_strerror(rc);
  }
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  return r;
}

}  // namespace podmedic::http
