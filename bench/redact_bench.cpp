// Redaction benchmark (run on demand; not a test): what redacting a container's whole log costs,
// and how well the rules cover the two corpora.
//
// A realistic 2 MiB log (the ordinary corpus lines with timestamps and request ids, a secret
// from the shape corpus every ~400 lines) is redacted whole, as gather_pod does before selecting
// lines. Baseline in the same run: splitting the same bytes into lines with memchr, the least
// any per-line pass costs. Also a keyword-dense 2 MiB log (a secret-looking key on every line),
// the prefilter's worst case. Then the corpus figures: shapes fully masked / total, ordinary
// lines changed / total.
//
//   build/<dir>/bench/redact_bench [--mib 2] [--rounds 5]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "diagnosis/redact.h"
#include "diagnosis/tests/corpus.h"

using namespace podmedic;
using Clock = std::chrono::steady_clock;

namespace {

double best_seconds(int rounds, auto&& fn) {
  double best = 1e9;
  for (int i = 0; i < rounds; ++i) {
    const auto t0 = Clock::now();
    fn();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return best;
}

std::size_t count_lines(const std::string& text) {
  std::size_t n = 0;
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    const void* nl = std::memchr(p, '\n', static_cast<std::size_t>(end - p));
    if (!nl) break;
    ++n;
    p = static_cast<const char*>(nl) + 1;
  }
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t mib = 2;
  int rounds = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--mib")) mib = static_cast<std::size_t>(std::atoi(argv[i + 1]));
    if (!std::strcmp(argv[i], "--rounds")) rounds = std::atoi(argv[i + 1]);
  }
  auto redactor = diagnosis::Redactor::create();
  if (!redactor.ok()) {
    std::fprintf(stderr, "%s\n", redactor.error().message.c_str());
    return 1;
  }
  const auto shapes = test::load_secret_shapes();
  const auto lines = test::load_ordinary_lines();
  if (shapes.empty() || lines.empty()) {
    std::fprintf(stderr, "corpora not found under %s\n", test::corpus_dir().c_str());
    return 1;
  }
  const std::size_t target = mib << 20;

  // Realistic: ordinary lines, a secret shape (not a cut key block) every ~400 lines.
  std::string log;
  log.reserve(target + 4096);
  std::size_t i = 0, planted = 0;
  while (log.size() < target) {
    char head[96];
    std::snprintf(head, sizeof head, "2026-11-24T10:%02zu:%02zu.%03zuZ req=%08zx ", (i / 60) % 60,
                  i % 60, i % 1000, i * 2654435761u);
    log += head;
    log += lines[(i * 7) % lines.size()];
    log += '\n';
    if (i % 400 == 399) {
      const auto& s = shapes[planted++ % shapes.size()];
      if (s.text.find("-----BEGIN") == std::string::npos ||
          s.text.find("-----END") != std::string::npos)
        log += s.text + '\n';
    }
    ++i;
  }
  // Worst case for the prefilter: a secret-looking key on every line.
  std::string dense;
  dense.reserve(target + 256);
  for (std::size_t k = 0; dense.size() < target; ++k)
    dense += "user=u" + std::to_string(k) + " password=Pw-" + std::to_string(k * 31) +
             "x token: abc" + std::to_string(k) + "Z https://a:b" + std::to_string(k) +
             "@h/ Authorization: Bearer zz" + std::to_string(k) + "Yq9\n";

  std::size_t sink = 0;
  const double base = best_seconds(rounds, [&] { sink += count_lines(log); });
  std::string out;
  const double red = best_seconds(rounds, [&] { out = redactor->redact(log); });
  std::string out_dense;
  const double red_dense = best_seconds(rounds, [&] { out_dense = redactor->redact(dense); });
  const double mb = static_cast<double>(log.size()) / 1e6;
  const double mb_dense = static_cast<double>(dense.size()) / 1e6;
  std::printf("rules: %zu built-in (keyword prefilter: one RE2::Set)\n", redactor->rule_count());
  std::printf("realistic log: %.2f MB, %zu lines, %zu secrets planted\n", mb, count_lines(log),
              planted);
  std::printf("  baseline memchr line split: %9.1f MB/s (%.2f ms)\n", mb / base, base * 1e3);
  std::printf("  redaction:                  %9.1f MB/s (%.2f ms)  = %.1fx the baseline's time\n",
              mb / red, red * 1e3, red / base);
  std::printf("keyword-dense log: %.2f MB\n", mb_dense);
  std::printf(
      "  redaction:                  %9.1f MB/s (%.2f ms)  = %.1fx the baseline's time\n",
      mb_dense / red_dense, red_dense * 1e3,
      red_dense / (base * static_cast<double>(dense.size()) / static_cast<double>(log.size())));

  // Corpus figures.
  std::size_t caught = 0, secrets = 0, secrets_masked = 0;
  for (const auto& s : shapes) {
    const auto r = redactor->redact(s.text);
    bool all = true;
    for (const auto& v : s.secrets) {
      ++secrets;
      const bool gone = r.find(v) == std::string::npos;
      secrets_masked += gone;
      all = all && gone;
    }
    caught += all;
  }
  std::size_t changed = 0;
  for (const auto& l : lines) changed += redactor->redact(l) != l;
  std::printf("secret shapes fully masked: %zu / %zu (values: %zu / %zu)\n", caught, shapes.size(),
              secrets_masked, secrets);
  std::printf("ordinary lines changed:     %zu / %zu\n", changed, lines.size());
  return sink == 0 ? 1 : 0;
}
