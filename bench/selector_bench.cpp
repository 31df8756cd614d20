// Log selector benchmark (run on demand; not a test): recall of root-cause lines on the crash-log
// corpus (diagnosis/tests/data/crashlogs/) within a budget, for the selector and, in the same
// run, two baselines: the tail only, and error-looking lines plus the tail (the selector podmedic
// had before, kept here verbatim as a baseline). A root-cause line counts as kept when its text
// appears whole in the selection. Then speed, in CPU time (best of --rounds): MB/s of each on the
// corpus, and milliseconds for a realistic 2 MiB log (corpus logs one after another) and for a
// hostile one (every line error-looking, distinct, long, with ANSI codes and \r redraws).
//
//   build/<dir>/bench/selector_bench [--budget 8000] [--rounds 5] [--misses] [--show NAME]
// --misses lists the root-cause lines each selector lost; --show prints each selector's output
// for the log NAME.
#include <re2/re2.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <string>
#include <vector>

#include "core/text.h"
#include "diagnosis/evidence.h"
#include "diagnosis/tests/corpus.h"

using namespace podmedic;

namespace {

// Baseline 1: the newest lines that fit.
std::string tail_only(std::string_view raw, std::size_t max_bytes) {
  std::string clean = text::sanitize_utf8(raw);
  std::size_t from = clean.size();
  while (from > 0) {  // whole lines from the end while they fit
    const std::size_t nl = from >= 2 ? clean.rfind('\n', from - 2) : std::string::npos;
    const std::size_t start = nl == std::string::npos ? 0 : nl + 1;
    if (clean.size() - start > max_bytes) break;
    from = start;
  }
  return clean.substr(from);
}

// Baseline 2: podmedic's selector before the crash-log one: the tail (half the budget), then
// error-looking lines before it, newest first, lines cut at 400 bytes.
std::string error_lines_and_tail(std::string_view raw, std::size_t max_bytes) {
  static const RE2 errorish(
      R"((?i)(error|exception|fatal|panic|traceback|\boom\b|out of memory|killed|failed|refused|denied|timed? ?out|segfault|sigsegv|sigkill|cannot|unable to|no such|not found))");
  constexpr std::size_t kMaxLine = 400;
  std::string clean = text::sanitize_utf8(raw);
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < clean.size()) {
    auto nl = clean.find('\n', start);
    if (nl == std::string::npos) nl = clean.size();
    std::string line = clean.substr(start, nl - start);
    if (line.size() > kMaxLine) line = std::string(text::cut_utf8(line, kMaxLine)) + " …[line cut]";
    lines.push_back(std::move(line));
    start = nl + 1;
  }
  constexpr std::size_t kMarkerMax = 40;
  std::vector<bool> keep(lines.size(), false);
  std::size_t used = kMarkerMax, tail_budget = max_bytes / 2;
  std::size_t i = lines.size();
  while (i > 0 && used + lines[i - 1].size() + 1 <= tail_budget) {
    --i;
    keep[i] = true;
    used += lines[i].size() + 1;
  }
  for (std::size_t j = i; j > 0; --j) {
    const auto& l = lines[j - 1];
    if (!RE2::PartialMatch(l, errorish)) continue;
    if (used + l.size() + 1 + kMarkerMax > max_bytes) break;
    keep[j - 1] = true;
    used += l.size() + 1 + kMarkerMax;
  }
  std::string out;
  std::size_t skipped = 0;
  for (std::size_t k = 0; k < lines.size(); ++k) {
    if (!keep[k]) {
      ++skipped;
      continue;
    }
    if (skipped) out += "[… " + std::to_string(skipped) + " lines left out …]\n";
    skipped = 0;
    out += lines[k] + "\n";
  }
  if (skipped) out += "[… " + std::to_string(skipped) + " lines left out …]\n";
  return out;
}

// ANSI colour codes removed: the baselines keep them, and the labels are written without.
std::string strip_ansi(std::string s) {
  static const RE2 ansi("\x1b\\[[0-9;]*m");
  RE2::GlobalReplace(&s, ansi, "");
  return s;
}

// CPU time of fn: this process's own, so a machine shared with other builds does not inflate it.
double cpu_seconds(auto&& fn) {
  const std::clock_t c0 = std::clock();
  fn();
  return static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
}

struct Selector {
  const char* name;
  std::function<std::string(std::string_view, std::size_t)> fn;
};

}  // namespace

int main(int argc, char** argv) {
  std::size_t budget = 8000;
  int rounds = 5;
  bool misses = false;
  std::string show;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--budget") && i + 1 < argc)
      budget = static_cast<std::size_t>(std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--rounds") && i + 1 < argc)
      rounds = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--misses"))
      misses = true;
    else if (!std::strcmp(argv[i], "--show") && i + 1 < argc)
      show = argv[++i];
  }
  const auto logs = test::load_crash_logs();
  if (logs.empty()) {
    std::fprintf(stderr, "no crash logs under %s/crashlogs\n", test::corpus_dir().c_str());
    return 1;
  }
  std::size_t corpus_bytes = 0, labels = 0;
  for (const auto& l : logs) {
    corpus_bytes += l.text.size();
    labels += l.causes.size();
  }
  // Realistic: the corpus logs one after another, cut at 2 MiB. Hostile: 2 MiB of distinct,
  // long, error-looking lines with ANSI codes, one in three ending in a \r redraw.
  std::string realistic;
  for (std::size_t i = 0; realistic.size() < (2u << 20); ++i)
    realistic += logs[i % logs.size()].text;
  realistic.resize(2u << 20);
  std::string hostile;
  for (std::size_t i = 0; hostile.size() < (2u << 20); ++i) {
    hostile += "\x1b[31mERROR\x1b[0m worker " + std::to_string(i * 7919) +
               " failed: " + std::string(40 + i % 700, static_cast<char>('a' + i % 26)) +
               " panic: retry " + std::to_string(i) + (i % 3 ? "\n" : "\r");
  }

  const std::vector<Selector> selectors = {
      {"crash-log selector", diagnosis::select_log_lines},
      {"baseline: tail only", tail_only},
      {"baseline: error lines + tail (old)", error_lines_and_tail},
  };
  std::printf("corpus: %zu logs, %zu root-cause lines, %.2f MB; budget %zu bytes\n\n", logs.size(),
              labels, static_cast<double>(corpus_bytes) / 1e6, budget);
  std::printf("%-36s %8s %10s %12s %10s %10s\n", "selector", "recall", "logs whole", "corpus MB/s",
              "2 MiB ms", "hostile ms");
  for (const auto& s : selectors) {
    std::size_t kept = 0, logs_full = 0;
    std::vector<std::string> missed;
    for (const auto& l : logs) {
      const std::string out = strip_ansi(s.fn(l.text, budget));
      if (l.name == show) std::printf("==== %s: %s\n%s====\n", s.name, l.name.c_str(), out.c_str());
      std::size_t k = 0;
      for (const auto& c : l.causes) {
        if (out.find(c) != std::string::npos)
          ++k;
        else
          missed.push_back(l.name + ": " + c);
      }
      kept += k;
      logs_full += k == l.causes.size();
    }
    double corpus_s = 1e9, realistic_s = 1e9, hostile_s = 1e9;
    for (int r = 0; r < rounds; ++r) {
      corpus_s = std::min(corpus_s, cpu_seconds([&] {
                            for (const auto& l : logs) (void)s.fn(l.text, budget);
                          }));
      realistic_s = std::min(realistic_s, cpu_seconds([&] { (void)s.fn(realistic, budget); }));
      hostile_s = std::min(hostile_s, cpu_seconds([&] { (void)s.fn(hostile, budget); }));
    }
    std::printf("%-36s %7.1f%% %6zu/%-3zu %12.1f %10.1f %10.1f\n", s.name,
                100.0 * static_cast<double>(kept) / static_cast<double>(labels), logs_full,
                logs.size(), static_cast<double>(corpus_bytes) / 1e6 / corpus_s, realistic_s * 1e3,
                hostile_s * 1e3);
    if (misses)
      for (const auto& m : missed) std::printf("    missed %s\n", m.c_str());
  }
  return 0;
}
