// select_log_lines (declared in diagnosis/evidence.h): the log selector built for crash logs.
//
// One pass cleans and classifies every line; a second finds the shape of stack traces; then lines
// are kept by rank until the budget is spent and written out in their original order:
//   0. the lines that name a cause: the first error of the log (before the cascade it starts),
//      the last one, fatal lines (panic, OOM, Killed, emerg, critical, ...), the first and the
//      root (last) exception of a Java/Node/.NET/Ruby/PHP trace, the exception line that ends a
//      Python traceback;
//   1. a few lines of context around them, traces kept compact (each exception line with its first
//      frame, a Python traceback's innermost frame, a Go panic's running goroutine);
//   2. the last lines of the log (a short reserve);
//   3. the other error lines; 4. error-ish lines and the cascades that follow an error ("context
//      canceled", "shutting down", "connection closed");
//   5. the tail, newest first, with what is left.
// A repeated template (numbers, hex ids, UUIDs, timestamps and IPs normalised) is kept as its first
// and last occurrence with "[×N similar lines]" before the last, so one error repeated 400 times
// costs two lines and a trend (RSS climbing) stays visible. Harmless matches (errors=0, err=<nil>,
// on_error=retry, error_rate) do not count as errors. Lines read as a terminal shows them (ANSI
// codes and \r redraws removed, UTF-8 repaired); a JSON line that names no cause is reduced to its
// level, message and error members; a long line is cut around its error part.
//
// Cost: linear in the input (hand-written scanning and RE2, no backtracking), memory a few times
// the input (the cleaned text and 32 bytes a line). Thread-safe (the regexes are immutable).
#include <re2/re2.h>
#include <re2/set.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/parse.h"
#include "core/text.h"
#include "diagnosis/evidence.h"

namespace podmedic::diagnosis {

namespace {

// A longer line is cut around its error part: an error line to kMaxErrorLine (a root-cause line
// is often a long exception message, and is kept whole up to there), any other to kMaxLine.
constexpr std::size_t kMaxErrorLine = 1000;
constexpr std::size_t kMaxLine = 400;
constexpr std::size_t kLevelPrefix = 120;  // a line's level is looked for in its first bytes
// Bounds the offsets (32 bits) and the work: a longer log keeps its newest kMaxInput bytes (the
// API returns at most diagnosis.logs.fetchBytes, 2 MiB by default).
constexpr std::size_t kMaxInput = 64u << 20;
constexpr std::string_view kCutMarker = " …[line cut]";
constexpr std::string_view kGapHead = "[… ";
constexpr std::string_view kGapTail = " lines left out …]\n";
constexpr std::string_view kSimilarHead = "[×";
constexpr std::string_view kSimilarTail = " similar lines]\n";

enum Class : std::uint8_t { kPlain, kWeak, kError, kFatal };
enum Level : std::uint8_t { kNoLevel, kDebug, kInfo, kWarn, kErrorLevel, kFatalLevel };

struct Line {
  std::uint32_t off = 0, len = 0;  // into the cleaned text
  std::uint64_t tmpl = 0;          // hash of the normalised text
  Class cls = kPlain;
  bool cascade = false;  // an error that follows from another one (shutdown, cancellation)
  bool root = false;     // names a cause by its place in a trace
  bool frame = false;    // a stack frame ("at ...", "from ...", "File ...", "#3 ...")
};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alnum(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

// The end of the escape sequence that starts at s[i] (ESC): CSI (colours, cursor moves), OSC
// (titles, links; up to BEL or ST) or a two-byte escape. An unterminated one ends the line.
std::size_t skip_escape(std::string_view s, std::size_t i) {
  std::size_t j = i + 1;
  if (j >= s.size()) return j;
  const auto c = static_cast<unsigned char>(s[j]);
  if (c == '[') {
    ++j;
    while (j < s.size() && static_cast<unsigned char>(s[j]) >= 0x20 &&
           static_cast<unsigned char>(s[j]) <= 0x3F)
      ++j;
    if (j < s.size() && static_cast<unsigned char>(s[j]) >= 0x40 &&
        static_cast<unsigned char>(s[j]) <= 0x7E)
      ++j;
    return j;
  }
  if (c == ']') {
    for (++j; j < s.size(); ++j) {
      if (s[j] == '\a') return j + 1;
      if (s[j] == '\x1b' && j + 1 < s.size() && s[j + 1] == '\\') return j + 2;
    }
    return j;
  }
  return c >= 0x40 && c <= 0x5F ? j + 1 : j;
}

// Appends `line` as a terminal shows it: what follows its last carriage return (progress bars
// redraw themselves with \r; a trailing \r of CRLF is dropped), without ANSI escape sequences,
// invalid UTF-8 and control characters replaced (text::sanitize_utf8).
void clean_line(std::string_view line, std::string& scratch, std::string& out) {
  while (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (auto cr = line.rfind('\r'); cr != std::string_view::npos) line.remove_prefix(cr + 1);
  scratch.clear();
  bool plain = true;
  for (std::size_t i = 0; i < line.size();) {
    const auto c = static_cast<unsigned char>(line[i]);
    if (c == 0x1b) {
      i = skip_escape(line, i);
      continue;
    }
    if ((c < 0x20 && c != '\t') || c >= 0x7F) plain = false;
    scratch.push_back(static_cast<char>(c));
    ++i;
  }
  if (plain)
    out += scratch;
  else
    out += text::sanitize_utf8(scratch);
}

// FNV-1a of the line with every word that holds a digit (numbers, hex ids, UUID parts,
// timestamps, IP octets, durations like 12ms) replaced by '#': lines that differ only there are
// one template.
std::uint64_t template_of(std::string_view s) {
  std::uint64_t h = 1469598103934665603ull;
  auto mix = [&h](unsigned char c) {
    h ^= c;
    h *= 1099511628211ull;
  };
  for (std::size_t i = 0; i < s.size();) {
    if (!is_alnum(s[i])) {
      mix(static_cast<unsigned char>(s[i++]));
      continue;
    }
    std::size_t j = i;
    bool digit = false;
    while (j < s.size() && is_alnum(s[j])) digit |= is_digit(s[j++]);
    if (digit) {
      mix('#');
    } else {
      for (std::size_t k = i; k < j; ++k) mix(static_cast<unsigned char>(s[k]));
    }
    i = j;
  }
  return h;
}

// The patterns. Fatal and error markers are case-sensitive (FATAL, ERROR, Exception as written
// by loggers and runtimes); the error-ish words are not, and lose to a harmless form that starts
// at the same place or before.
constexpr const char* kFatalRe =
    R"re((?:^|[^\w])panic:|fatal error:|\bFATAL\b|\bFatal\b|\bfatal:|\bCRITICAL\b|\[critical\]|)re"
    R"re(^crit: |\[emerg\]|\[alert\]|\bEMERG\b|OutOfMemory|out of memory|\bMemoryError\b|)re"
    R"re(\bOOM(?:Killed)?\b|\bKilled\b|\bSIGKILL\b|\bSIGSEGV\b|\bSIGABRT\b|\bsignal 9\b|)re"
    R"re(Segmentation fault|core dumped|panicked at|Unhandled exception|Uncaught|)re"
    R"re(UnhandledPromiseRejection|uncaughtException|Exception in thread|exited with code|)re"
    R"re(exit (?:code|status) [1-9]|APPLICATION FAILED TO START|Unrecoverable|)re"
    R"re(Allowed memory size|heap out of memory|Cannot allocate memory|\bENOMEM\b|)re"
    R"re(level=(?:fatal|panic|crit)\b|"level":\s*"(?:fatal|panic|critical|crit|emerg)"|)re"
    R"re("level":\s*60\b|failed to boot|Application run failed|Application startup exception|)re"
    R"re(aborted!|Unable to load application|terminate called after throwing|)re"
    R"re(Illegal instruction|stack overflow|StackOverflow|Kernel pid terminated|)re"
    R"re("(?:s|@l|severity|level|lvl|levelname)":\s*"(?:F|FATAL|Fatal|CRITICAL|Critical)")re";
constexpr const char* kErrorRe =
    R"re(\bERROR\b|\bERR\b|\[error\]|\berror:|level=error\b|"level":\s*"err(?:or)?"|)re"
    R"re("level":\s*50\b|"levelname":\s*"ERROR"|"severity":\s*"ERROR"|^fail: |\.ERROR:|^Error:|)re"
    R"re(^\s*(?:[\w$]+\.)*[\w$]*(?:Error|Exception)\b|\b[A-Z]\w*(?:Error|Exception)[(:]|)re"
    R"re(\([A-Z][\w:]*(?:Error|Exception|NotFound|NotEstablished)\)\s*$|SQLSTATE|^Caused by:|)re"
    R"re(^\s*---> |\bERROR \d+ \(|^\s*\*\* \(|=(?:CRASH|ERROR) REPORT|)re"
    R"re("(?:s|@l|severity|lvl|levelname)":\s*"(?:E|ERROR|Error|error|err)")re";
constexpr const char* kHarmlessRe =
    R"re((?i)\b(?:errs?|errors?|fail(?:ed|ures?)?|(?:error|failure)_count)\b["']?\s*[:=]\s*)re"
    R"re(["']?(?:0|none|nil|null|<nil>|false|\[\]|\{\})(?:\b|["'\]}]|$)|\b0 errors?\b|)re"
    R"re(\bno errors?\b|without errors?|on_error|errors?[._-]?(?:pages?|html|log|handler|rate|)re"
    R"re(count|total|budget|threshold)\b)re";
constexpr const char* kWeakRe =
    R"re((?i)error|exception|fail|refused|denied|timed? ?out|cannot|can't|unable to|no such|)re"
    R"re(not found|invalid|unavailable|unreachable|forbidden|unauthori[sz]ed|missing|)re"
    R"re(does not exist|already in use|already exists|abort|\boom\b|killed|panic|fatal|crash)re";
// What follows an error rather than causing it.
constexpr const char* kCascadeRe =
    R"re((?i)context cancell?ed|context deadline exceeded|shutting down|shutdown (?:initiated|)re"
    R"re(complete)|connection closed|closed network connection|broken pipe|transport is closing|)re"
    R"re(code = Canceled|server closed|channel closed|graceful|\bstopping\b|\bstopped\b|)re"
    R"re(\bexiting\b|signal: terminated|SIGTERM|Handling signal|\bEOF\b|\bBye\b)re";

enum Pattern { kFatalPattern, kErrorPattern, kHarmlessPattern, kWeakPattern, kCascadePattern };

// All five in one RE2::Set: one DFA pass a line says which match. Built once; a pattern that
// does not compile is a bug (abort).
const RE2::Set& patterns() {
  static const RE2::Set* set = [] {
    auto* s = new RE2::Set(RE2::DefaultOptions, RE2::UNANCHORED);
    for (const char* p : {kFatalRe, kErrorRe, kHarmlessRe, kWeakRe, kCascadeRe}) {
      if (s->Add(p, nullptr) < 0) std::abort();
    }
    if (!s->Compile()) std::abort();
    return s;
  }();
  return *set;
}

const RE2& fatal_re() {
  static const RE2 re(kFatalRe);
  return re;
}
const RE2& error_re() {
  static const RE2 re(kErrorRe);
  return re;
}
// Group 1: a harmless use of an error word; group 2: an error-ish word. Leftmost-first: a
// harmless form that starts at the same place wins.
const RE2& weak_re() {
  static const RE2 re(std::string("(") + kHarmlessRe + ")|(" + kWeakRe + ")");
  return re;
}

// The level of a line: a klog, Ruby Logger or pino mark, else the first level word in its first
// kLevelPrefix bytes ("INFO ... failed=0 ... error" stays INFO).
Level level_of(std::string_view s) {
  if (s.size() > 5 && is_digit(s[1]) && is_digit(s[2]) && is_digit(s[3]) && is_digit(s[4]) &&
      s[5] == ' ') {
    switch (s[0]) {  // klog: I1130 09:12:03.114000 ...
      case 'I':
        return kInfo;
      case 'W':
        return kWarn;
      case 'E':
        return kErrorLevel;
      case 'F':
        return kFatalLevel;
      default:
        break;
    }
  }
  if (s.size() > 3 && s[1] == ',' && s[2] == ' ' && s[3] == '[') {
    switch (s[0]) {  // Ruby Logger: I, [2026-11-30T09:12:03.114000 #1]  INFO -- : ...
      case 'D':
        return kDebug;
      case 'I':
        return kInfo;
      case 'W':
        return kWarn;
      case 'E':
        return kErrorLevel;
      case 'F':
        return kFatalLevel;
      default:
        break;
    }
  }
  if (auto p = s.find("\"level\":"); p != std::string_view::npos && p < kLevelPrefix) {
    std::size_t i = p + 8;  // pino: numeric levels
    while (i < s.size() && s[i] == ' ') ++i;
    if (i + 1 < s.size() && is_digit(s[i]) && is_digit(s[i + 1])) {
      const int v = (s[i] - '0') * 10 + (s[i + 1] - '0');
      return v >= 60 ? kFatalLevel : v >= 50 ? kErrorLevel : v >= 40 ? kWarn : kInfo;
    }
  }
  const std::string_view prefix = s.substr(0, kLevelPrefix);
  for (std::size_t i = 0; i < prefix.size();) {
    if (!is_alnum(prefix[i])) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < prefix.size() && is_alnum(prefix[j])) ++j;
    // A level word written as one: upper case (ERROR, ERRO), or delimited like a level
    // ("level=error", "[warn]", "error:", "Error: ..." at the start), not a word of the message
    // or a path ("GET /error").
    bool upper = true;
    for (std::size_t k = i; k < j; ++k) upper &= !(prefix[k] >= 'a' && prefix[k] <= 'z');
    const char before = i ? prefix[i - 1] : '\0', after = j < s.size() ? s[j] : '\0';
    const bool delimited =
        before == '\0' || std::string_view("[\"=<|(").find(before) != std::string_view::npos ||
        (after != '\0' && std::string_view("]:\"|>)").find(after) != std::string_view::npos);
    const bool json_key = after == '"' && j + 1 < s.size() && s[j + 1] == ':';  // {"error":
    if (j - i >= 3 && j - i <= 8 && (upper || delimited) && !json_key) {
      char w[9] = {};
      for (std::size_t k = i; k < j; ++k)
        w[k - i] =
            static_cast<char>(prefix[k] >= 'A' && prefix[k] <= 'Z' ? prefix[k] + 32 : prefix[k]);
      const std::string_view word(w, j - i);
      if (word == "trace" || word == "trac" || word == "debug" || word == "debu" || word == "dbug")
        return kDebug;
      if (word == "info" || word == "notice") return kInfo;
      if (word == "warn" || word == "warning") return kWarn;
      if (word == "error" || word == "erro" || word == "err" || word == "fail") return kErrorLevel;
      if (word == "crit" || word == "critical" || word == "fatal" || word == "fata" ||
          word == "emerg" || word == "alert" || word == "panic" || word == "pani" ||
          word == "severe")
        return kFatalLevel;
    }
    i = j;
  }
  return kNoLevel;
}

// Where the first error-ish word of s is (not a harmless form), or npos.
std::size_t weak_error_at(std::string_view s) {
  re2::StringPiece in(s.data(), s.size());
  re2::StringPiece harmless, weak;
  while (RE2::FindAndConsume(&in, weak_re(), &harmless, &weak)) {
    if (!weak.empty()) return static_cast<std::size_t>(weak.data() - s.data());
    if (harmless.empty()) break;
  }
  return std::string_view::npos;
}

struct Marks {
  Class cls = kPlain;
  bool cascade = false;
};

// `hit` is scratch space, reused from line to line.
Marks classify(std::string_view s, std::vector<int>& hit) {
  const Level level = level_of(s);
  hit.clear();
  if (!patterns().Match(re2::StringPiece(s.data(), s.size()), &hit)) hit.clear();
  auto has = [&hit](Pattern p) { return std::find(hit.begin(), hit.end(), p) != hit.end(); };
  const bool fatal = has(kFatalPattern);
  Marks m;
  m.cls = fatal ? kFatal : has(kErrorPattern) ? kError : kPlain;
  if (m.cls == kPlain && has(kWeakPattern) &&
      (!has(kHarmlessPattern) || weak_error_at(s) != std::string_view::npos))
    m.cls = kWeak;
  if (level == kFatalLevel) m.cls = kFatal;
  if (level == kErrorLevel && m.cls < kError) m.cls = kError;
  // A warning or an info line is not an error, whatever words it holds; a fatal one ("INFO
  // exited: app (terminated by SIGKILL)") still ranks with the errors.
  if (level == kWarn || level == kInfo || level == kDebug)
    m.cls = std::min(m.cls, fatal ? kError : kWeak);
  m.cascade = has(kCascadePattern);
  return m;
}

std::string_view trim_left(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

// A stack frame of a JVM, Node or .NET ("at ..."), Ruby ("from ..."), PHP ("#3 ...") trace, or
// the frames-omitted line that closes a Java one.
bool is_frame(std::string_view s) {
  if (!s.empty() && s[0] == '#' && s.size() > 2 && is_digit(s[1])) return true;
  if (s.empty() || (s[0] != ' ' && s[0] != '\t')) return false;
  const auto t = trim_left(s);
  return t.starts_with("at ") || t.starts_with("from ") ||
         (t.starts_with("... ") && t.size() > 4 && is_digit(t[4]));
}

// "Stack trace:" (PHP), "[stacktrace]" (Laravel): a title, not an exception.
bool is_trace_title(std::string_view s) {
  const auto t = trim_left(s);
  return t == "Stack trace:" || t == "[stacktrace]";
}

bool is_python_traceback(std::string_view s) {
  return s.find("Traceback (most recent call last):") != std::string_view::npos;
}

bool is_go_panic(std::string_view s) {
  return s.starts_with("panic: ") || s.starts_with("fatal error: ");
}

// A scalar as JSON; an object as its scalar members only (an error object's type, message and
// stack); an array as []. Never deeper: parse::dump recurses, and a hostile line can nest
// 100,000 levels.
std::string dump_shallow(const parse::json& v) {
  if (v.is_array()) return "[]";
  if (!v.is_object()) return parse::dump(v);
  std::string out = "{";
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (it.value().is_structured()) continue;
    out += (out.size() > 1 ? "," : "") + parse::dump(it.key()) + ":" + parse::dump(it.value());
  }
  return out + "}";
}

// No error: "errors":0, "err":null, "failed":false, "error":"".
bool empty_value(const parse::json& v) {
  return v.is_null() || (v.is_number() && v == 0) || (v.is_boolean() && v == false) ||
         (v.is_string() && v == "") || (v.is_structured() && v.empty());
}

// A JSON log line reduced to its level, message and error members (raw JSON values, so the text
// of each reads as in the original line); nullopt when the line is not a JSON object or has none
// of them.
std::optional<std::string> reduce_json(std::string_view s) {
  const auto t = trim_left(s);
  if (t.size() < 2 || t.front() != '{' || s.back() != '}') return std::nullopt;
  auto doc = parse::json_text(t, "log line");
  if (!doc.ok() || !doc->is_object()) return std::nullopt;
  static constexpr std::array<std::string_view, 8> kLevel = {
      "level", "lvl", "severity", "levelname", "log.level", "@l", "loglevel", "s"};
  static constexpr std::array<std::string_view, 7> kMessage = {"msg",   "message", "@m",      "@mt",
                                                               "event", "log",     "@message"};
  auto lower = [](std::string_view k) {
    std::string l(k);
    for (auto& c : l) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    return l;
  };
  auto is_error_key = [](const std::string& k) {
    return k.find("err") != std::string::npos || k.find("exc") != std::string::npos ||
           k.find("stack") != std::string::npos || k.find("cause") != std::string::npos ||
           k.find("panic") != std::string::npos || k == "reason";
  };
  std::string level, message, errors;
  for (auto it = doc->begin(); it != doc->end(); ++it) {
    if (it.value().is_null()) continue;
    const std::string k = lower(it.key());
    std::string* to = nullptr;
    if (std::find(kLevel.begin(), kLevel.end(), k) != kLevel.end())
      to = &level;
    else if (std::find(kMessage.begin(), kMessage.end(), k) != kMessage.end())
      to = &message;
    else if (is_error_key(k) && !empty_value(it.value()))
      to = &errors;
    if (to) {
      *to += (to->empty() ? "" : ",") + parse::dump(it.key()) + ":" + dump_shallow(it.value());
      continue;
    }
    // Error members one level down ({"attr":{"error":"..."}} of MongoDB, zap's named fields).
    if (!it.value().is_object()) continue;
    for (auto sub = it.value().begin(); sub != it.value().end(); ++sub) {
      if (sub.value().is_structured() || empty_value(sub.value()) ||
          !is_error_key(lower(sub.key())))
        continue;
      errors += (errors.empty() ? "" : ",") + parse::dump(it.key() + "." + sub.key()) + ":" +
                parse::dump(sub.value());
    }
  }
  if (message.empty() && errors.empty()) return std::nullopt;
  std::string out = "{" + level;
  for (const auto* part : {&message, &errors}) {
    if (part->empty()) continue;
    if (out.size() > 1) out += ",";
    out += *part;
  }
  return out + "}";
}

// s cut to about max_line bytes around its error part: the head (timestamp, level, logger) and,
// when the first error word is further in, a window from just before it.
std::string cut_long(std::string_view s, std::size_t max_line) {
  if (s.size() <= max_line) return std::string(s);
  std::size_t at = std::string_view::npos;
  const re2::StringPiece in(s.data(), s.size());
  re2::StringPiece m;
  if (fatal_re().Match(in, 0, in.size(), RE2::UNANCHORED, &m, 1) ||
      error_re().Match(in, 0, in.size(), RE2::UNANCHORED, &m, 1))
    at = static_cast<std::size_t>(m.data() - s.data());
  if (at == std::string_view::npos) at = weak_error_at(s);
  constexpr std::size_t kHead = 120, kBefore = 80;
  if (at == std::string_view::npos || at + 200 < max_line)
    return std::string(text::cut_utf8(s, max_line)) + std::string(kCutMarker);
  std::string out(text::cut_utf8(s, kHead));
  out += " … ";
  std::size_t from = at > kBefore ? at - kBefore : 0;
  from = std::max(from, kHead);
  while (from < s.size() && (static_cast<unsigned char>(s[from]) & 0xC0) == 0x80) ++from;
  out += text::cut_utf8(s.substr(from), max_line - out.size());
  if (from + (max_line - kHead) < s.size()) out += kCutMarker;
  return out;
}

std::size_t digits(std::size_t n) {
  std::size_t d = 1;
  while (n >= 10) {
    n /= 10;
    ++d;
  }
  return d;
}

// Which lines are kept, and what that costs in output bytes (an upper bound: every marker is
// counted at its widest).
class Selection {
 public:
  Selection(const std::string& text, const std::vector<Line>& lines, std::size_t max_bytes)
      : text_(text),
        lines_(lines),
        max_bytes_(static_cast<std::int64_t>(std::min<std::size_t>(max_bytes, kMaxInput))),
        kept_(lines.size(), false) {
    marker_max_ = static_cast<std::int64_t>(
        std::max(kGapHead.size() + kGapTail.size(), kSimilarHead.size() + kSimilarTail.size()) +
        digits(lines.size()));
    cost_ = lines.empty() ? 0 : marker_max_;  // one "left out" marker for the whole log
    // Bounded by the number of lines.
    for (std::size_t i = 0; i < lines.size(); ++i) {
      auto& t = templates_[lines[i].tmpl];
      if (t.count++ == 0) t.first = i;
      t.last = i;
    }
  }

  bool full() const { return cost_ + 2 > max_bytes_; }
  bool kept(std::size_t i) const { return kept_[i]; }
  bool last_of_template(std::size_t i) const { return templates_.of(lines_[i].tmpl).last == i; }
  bool first_of_template(std::size_t i) const { return templates_.of(lines_[i].tmpl).first == i; }

  // Keeps line i, and for a repeated template its first and last occurrence with the
  // "[×N similar lines]" marker between; only i when the pair does not fit. False when i does
  // not fit either.
  bool keep(std::size_t i, bool pair) {
    const auto& t = templates_.of(lines_[i].tmpl);
    if (pair && t.count >= 2) {
      // i may already be kept as context, or its partner: complete the pair.
      const std::size_t other = i == t.first ? t.last : t.first;
      if (kept_[i]) {
        if (!kept_[other]) try_keep({other});
        return true;
      }
      if (!kept_[other] && try_keep({i, other})) return true;
    }
    return kept_[i] || try_keep({i});
  }

  std::string render() {
    std::string out;
    std::size_t skipped = 0;
    for (std::size_t i = 0; i < lines_.size(); ++i) {
      if (!kept_[i]) {
        ++skipped;
        continue;
      }
      if (skipped) out += std::string(kGapHead) + std::to_string(skipped) + std::string(kGapTail);
      skipped = 0;
      if (auto n = similar_between(lines_[i].tmpl); n && templates_.of(lines_[i].tmpl).last == i)
        out += std::string(kSimilarHead) + std::to_string(n) + std::string(kSimilarTail);
      out += shown_.find(i)->second;
      out += '\n';
    }
    if (skipped) out += std::string(kGapHead) + std::to_string(skipped) + std::string(kGapTail);
    return out;
  }

 private:
  struct Template {
    std::size_t count = 0, first = 0, last = 0, kept = 0;
  };
  struct Templates : std::unordered_map<std::uint64_t, Template> {
    // Every line's template is in the map (it is built from all lines).
    const Template& of(std::uint64_t k) const { return find(k)->second; }
  };

  // The occurrences of a template left out between its kept first and last one.
  std::size_t similar_between(std::uint64_t tmpl) const {
    const auto& t = templates_.of(tmpl);
    if (t.count < 3 || !kept_[t.first] || !kept_[t.last]) return 0;
    return t.count - t.kept;
  }

  // Gap markers change when i joins: it splits a gap (+1), ends one (-1) or shortens it (0).
  int gap_delta(std::size_t i) const {
    const bool left = i > 0 && !kept_[i - 1];
    const bool right = i + 1 < lines_.size() && !kept_[i + 1];
    return left && right ? 1 : (!left && !right ? -1 : 0);
  }

  void set(std::size_t i, bool on) {
    auto& t = templates_[lines_[i].tmpl];
    const bool had = similar_between(lines_[i].tmpl) > 0;
    kept_[i] = on;
    if (on)
      ++t.kept;
    else
      --t.kept;
    const bool has = similar_between(lines_[i].tmpl) > 0;
    cost_ += (static_cast<int>(has) - static_cast<int>(had)) * marker_max_;
  }

  bool try_keep(std::initializer_list<std::size_t> idx) {
    const std::int64_t before = cost_;
    std::vector<std::size_t> added;
    for (std::size_t i : idx) {
      if (kept_[i]) continue;
      auto it = shown_.find(i);
      if (it == shown_.end()) {
        const std::string_view raw(text_.data() + lines_[i].off, lines_[i].len);
        // A line that names a cause is shown as written (its other JSON members, an address, a
        // path, a component, are often part of the explanation); any other JSON line as its
        // level, message and error members.
        const bool cause = (lines_[i].cls >= kError && !lines_[i].cascade) || lines_[i].root;
        auto json = cause ? std::nullopt : reduce_json(raw);
        const bool error = lines_[i].cls >= kError || lines_[i].root;
        it =
            shown_.emplace(i, cut_long(json ? *json : raw, error ? kMaxErrorLine : kMaxLine)).first;
      }
      cost_ += gap_delta(i) * marker_max_ + static_cast<std::int64_t>(it->second.size()) + 1;
      set(i, true);
      added.push_back(i);
    }
    if (cost_ <= max_bytes_) return true;
    for (auto it = added.rbegin(); it != added.rend(); ++it) {
      set(*it, false);
      shown_.erase(*it);
    }
    cost_ = before;
    return false;
  }

  const std::string& text_;
  const std::vector<Line>& lines_;
  std::int64_t max_bytes_;
  std::vector<bool> kept_;
  std::int64_t marker_max_ = 0, cost_ = 0;
  Templates templates_;
  // The text shown for each kept line (JSON reduced, long lines cut): at most max_bytes entries.
  std::unordered_map<std::size_t, std::string> shown_;
};

}  // namespace

std::string select_log_lines(std::string_view raw, std::size_t max_bytes) {
  if (raw.size() > kMaxInput) raw = text::tail_utf8(raw, kMaxInput);
  // Pass 1: clean and classify.
  std::string text;
  text.reserve(raw.size());
  std::string scratch;
  std::vector<int> hit;
  std::vector<Line> lines;
  for (std::size_t start = 0; start < raw.size();) {
    auto nl = raw.find('\n', start);
    if (nl == std::string_view::npos) nl = raw.size();
    Line l;
    l.off = static_cast<std::uint32_t>(text.size());
    clean_line(raw.substr(start, nl - start), scratch, text);
    l.len = static_cast<std::uint32_t>(text.size() - l.off);
    const std::string_view s(text.data() + l.off, l.len);
    l.tmpl = template_of(s);
    l.frame = is_frame(s);
    if (!l.frame) {
      const auto m = classify(s, hit);
      l.cls = m.cls;
      l.cascade = m.cascade;
    }
    lines.push_back(l);
    start = nl + 1;
  }
  auto view = [&](std::size_t i) {
    return std::string_view(text.data() + lines[i].off, lines[i].len);
  };
  const std::size_t n = lines.size();

  // Pass 2: the shape of traces. Context lines (rank 1) are collected with their anchor.
  std::vector<std::size_t> context;
  for (std::size_t i = 0; i < n; ++i) {
    if (is_python_traceback(view(i))) {
      // Indented lines (frames and their code) up to the exception line that names the cause.
      std::size_t j = i + 1;
      while (j < n && (view(j).empty() || view(j)[0] == ' ' || view(j)[0] == '\t')) ++j;
      context.push_back(i);
      if (j < n && j > i + 1) {
        lines[j].root = true;
        lines[j].cls = std::max(lines[j].cls, kError);
        for (std::size_t k = j - 1; k > i && k + 3 > j; --k) context.push_back(k);
      }
      i = j > i ? j - 1 : i;
      continue;
    }
    if (lines[i].frame || i + 1 >= n || !lines[i + 1].frame || view(i).empty() ||
        is_trace_title(view(i)))
      continue;
    // An exception line followed by its frames: the first of a trace and the last (the root
    // Caused by) name the cause; every one keeps its first frame as context.
    lines[i].cls = std::max(lines[i].cls, kError);
    context.push_back(i + 1);
    std::size_t j = i + 1, last = i;
    while (j < n && (lines[j].frame || (j + 1 < n && lines[j + 1].frame && !view(j).empty()))) {
      if (!lines[j].frame && !is_trace_title(view(j))) {
        last = j;
        lines[j].cls = std::max(lines[j].cls, kError);
        context.push_back(j);
        context.push_back(j + 1);
      }
      ++j;
    }
    lines[i].root = true;
    lines[last].root = true;
    i = j - 1;
  }

  Selection sel(text, lines, max_bytes);
  auto keep_context = [&](std::size_t i) {
    const std::size_t after = is_go_panic(view(i)) ? 6 : 2;
    if (i > 0 && !lines[i - 1].frame) sel.keep(i - 1, false);
    for (std::size_t k = i + 1; k < n && k <= i + after; ++k) {
      if (!lines[k].frame) sel.keep(k, false);
    }
  };

  // Rank 0: the first error, the last one, fatal lines and trace roots, oldest first.
  std::vector<std::size_t> rank0;
  std::size_t first_error = n, last_error = n;
  for (std::size_t i = 0; i < n; ++i) {
    const auto& l = lines[i];
    if (l.cls < kError || l.cascade) continue;
    if (first_error == n) first_error = i;
    last_error = i;
    if ((l.cls == kFatal || l.root) && sel.first_of_template(i)) rank0.push_back(i);
  }
  std::vector<std::size_t> order;
  if (first_error < n) order.push_back(first_error);
  if (last_error < n) order.push_back(last_error);
  order.insert(order.end(), rank0.begin(), rank0.end());
  for (std::size_t i : order) {
    if (sel.full()) break;
    sel.keep(i, true);
  }
  // Rank 1: their context.
  for (std::size_t i : order) {
    if (sel.full()) break;
    if (sel.kept(i)) keep_context(i);
  }
  for (std::size_t i : context) {
    if (sel.full()) break;
    sel.keep(i, false);
  }
  // Rank 2: the last lines (an eighth of the budget, at most 8 lines); of a repeated template
  // only the last occurrence, which brings the first along (the lines between are "similar").
  {
    std::size_t budget = max_bytes / 8, taken = 0;
    for (std::size_t i = n; i > 0 && taken < 8; --i) {
      const std::size_t k = i - 1;
      if (!sel.first_of_template(k) && !sel.last_of_template(k)) continue;
      const std::size_t cost = lines[k].len + 1;
      if (cost > budget || sel.full()) break;
      if (sel.keep(k, true)) {
        budget -= cost;
        ++taken;
      }
    }
  }
  // Rank 3: the other errors; rank 4: error-ish lines and cascades. First occurrences, oldest
  // first (a repeated template brings its last occurrence along).
  for (int rank = 3; rank <= 4 && !sel.full(); ++rank) {
    for (std::size_t i = 0; i < n && !sel.full(); ++i) {
      const auto& l = lines[i];
      const bool strong = l.cls >= kError && !l.cascade;
      const bool wanted = rank == 3 ? strong : (l.cls == kWeak || (l.cls >= kError && l.cascade));
      if (wanted && sel.first_of_template(i)) sel.keep(i, true);
    }
  }
  // Rank 5: the tail, newest first; a line like a kept later one is counted, not shown.
  for (std::size_t i = n; i > 0 && !sel.full(); --i) {
    const std::size_t k = i - 1;
    if (sel.kept(k)) continue;
    // The last occurrence of a template brings the first along; the ones between are "similar
    // lines", counted, not shown.
    if (sel.first_of_template(k) || sel.last_of_template(k)) sel.keep(k, true);
  }
  std::string out = sel.render();
  // The cost counted every marker at its widest: the output fits by construction.
  if (out.size() > max_bytes) out.clear();
  return out;
}

}  // namespace podmedic::diagnosis
