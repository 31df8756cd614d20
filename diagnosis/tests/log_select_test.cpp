// The crash-log selector (select_log_lines): recall on the crash-log corpus, each of its rules on
// a small log built to defeat the selector it replaced, and hostile input.
#include <catch2/catch.hpp>

#include <ctime>
#include <string>

#include "core/text.h"
#include "diagnosis/evidence.h"
#include "diagnosis/tests/corpus.h"

using namespace podmedic;
using namespace podmedic::diagnosis;

namespace {

// A word without digits for n (templates normalise digits, so numbered lines are one template).
std::string letters(std::size_t n) {
  std::string w;
  do {
    w += static_cast<char>('a' + n % 26);
    n /= 26;
  } while (n);
  return w;
}

std::size_t count_of(const std::string& s, std::string_view what) {
  std::size_t n = 0;
  for (auto p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("log selector: recall of root-cause lines on the crash-log corpus within 8,000 bytes",
          "[selector]") {
  const auto logs = test::load_crash_logs();
  REQUIRE(logs.size() >= 60);
  std::size_t labels = 0, kept = 0;
  std::string misses;
  for (const auto& log : logs) {
    INFO(log.name);
    REQUIRE(!log.causes.empty());
    const auto out = select_log_lines(log.text, 8000);
    CHECK(out.size() <= 8000);
    CHECK(text::is_valid_utf8(out));
    CHECK(out.find('\x1b') == std::string::npos);
    for (const auto& cause : log.causes) {
      ++labels;
      if (out.find(cause) != std::string::npos)
        ++kept;
      else
        misses += log.name + ": " + cause + "\n";
    }
  }
  INFO("missed:\n" << misses);
  CHECK(static_cast<double>(kept) >= 0.97 * static_cast<double>(labels));
}

TEST_CASE("log selector: the first error outranks the cascade that follows it", "[selector]") {
  std::string log;
  for (int i = 0; i < 50; ++i)
    log += "level=info msg=\"consumed batch\" n=" + std::to_string(i) + "\n";
  log +=
      "level=error msg=\"failed to connect to redis\" error=\"dial tcp 10.0.0.7:6379: i/o "
      "timeout\"\n";
  for (std::size_t i = 0; i < 600; ++i)
    log += "level=error msg=\"worker stopped\" component=" + letters(i) +
           " error=\"context canceled\"\n";
  log += "level=info msg=\"shutdown complete\"\n";
  const auto out = select_log_lines(log, 2000);
  INFO(out);
  CHECK(out.size() <= 2000);
  CHECK(out.find("failed to connect to redis") != std::string::npos);
  CHECK(out.find("shutdown complete") != std::string::npos);
}

TEST_CASE("log selector: harmless matches do not count as errors", "[selector]") {
  std::string log;
  for (std::size_t i = 0; i < 300; ++i) {
    const auto w = letters(i);
    log += "INFO sync " + w + " done errors=0 err=<nil> on_error=retry error_rate=0.000\n";
  }
  log += "upstream inventory refused the connection\n";
  for (std::size_t i = 0; i < 100; ++i)
    log += "served request " + letters(i) + " " + std::string(60, 'x') + "\n";
  const auto out = select_log_lines(log, 1500);
  INFO(out);
  CHECK(out.find("upstream inventory refused the connection") != std::string::npos);
  CHECK(out.find("errors=0") == std::string::npos);
}

TEST_CASE("log selector: a repeated template keeps its first and last line and a count",
          "[selector]") {
  std::string log = "starting import\n";
  for (int i = 0; i < 400; ++i)
    log += "2026-11-30 09:" + std::to_string(10 + i / 60) + ":" + std::to_string(10 + i % 50) +
           " worker-" + std::to_string(i % 4) + " rss=" + std::to_string(100 + i) + "MB\n";
  const auto out = select_log_lines(log, 8000);
  INFO(out);
  CHECK(out.find("rss=100MB") != std::string::npos);
  CHECK(out.find("rss=499MB") != std::string::npos);
  CHECK(out.find("[×398 similar lines]") != std::string::npos);
  CHECK(count_of(out, "rss=") == 2);
}

TEST_CASE("log selector: ANSI codes and \\r redraws are removed", "[selector]") {
  const std::string log =
      "\x1b[2m2026-11-30T09:12:03Z\x1b[0m \x1b[31mERROR\x1b[0m failed to bind :8080\n"
      "epoch 1:  10%|#         |\repoch 1:  50%|#####     |\repoch 1: 100%|##########|\r\n"
      "\x1b]0;window title\x07"
      "done\r\n";
  const auto out = select_log_lines(log, 8000);
  INFO(out);
  CHECK(out.find("2026-11-30T09:12:03Z ERROR failed to bind :8080\n") != std::string::npos);
  CHECK(out.find("epoch 1: 100%|##########|\n") != std::string::npos);
  CHECK(out.find("10%") == std::string::npos);
  CHECK(out.find("done\n") != std::string::npos);
  CHECK(out.find('\x1b') == std::string::npos);
  CHECK(out.find('\r') == std::string::npos);
}

TEST_CASE("log selector: JSON lines are reduced to level, message and error fields", "[selector]") {
  // Lines that name a cause (errors, fatal lines) are shown whole: their other members are often
  // part of the explanation. The others are reduced.
  const std::string fatal =
      R"({"level":"fatal","ts":1733051523.114,"caller":"cmd/server/main.go:54","msg":"cannot start server","addr":":8080","error":"listen tcp :8080: bind: address already in use"})";
  const std::string log =
      R"({"level":"warn","ts":1733051521.2,"caller":"store/redis.go:58","msg":"redis ping failed, retrying","attempt":3,"errors":0,"error":"dial tcp: i/o timeout","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"})"
      "\n"
      R"({"t":{"$date":"2026-11-30T09:12:03Z"},"s":"W","c":"CONTROL","id":20573,"msg":"Wrong mongod version","attr":{"error":"UPGRADE PROBLEM: invalid featureCompatibilityVersion","n":1}})"
      "\n"
      R"({"level":30,"time":1733051523114,"pid":1,"hostname":"api-1","msg":"plugin failed","err":{"type":"ValidationError","message":"\"KEY\" is required","details":[{"path":["KEY"]}]}})"
      "\n" +
      fatal + "\n{\"level\":\"info\" not json}\n";
  const auto out = select_log_lines(log, 8000);
  INFO(out);
  CHECK(
      out.find(
          R"({"level":"warn","msg":"redis ping failed, retrying","error":"dial tcp: i/o timeout"})") !=
      std::string::npos);
  CHECK(out.find("trace_id") == std::string::npos);
  CHECK(
      out.find(
          R"({"s":"W","msg":"Wrong mongod version","attr.error":"UPGRADE PROBLEM: invalid featureCompatibilityVersion"})") !=
      std::string::npos);
  CHECK(
      out.find(
          R"({"level":30,"msg":"plugin failed","err":{"message":"\"KEY\" is required","type":"ValidationError"}})") !=
      std::string::npos);
  CHECK(out.find(fatal + "\n") != std::string::npos);
  CHECK(out.find("{\"level\":\"info\" not json}") != std::string::npos);
}

TEST_CASE("log selector: a long line is cut around its error part", "[selector]") {
  // An error line is kept up to 1,000 bytes (an exception message is often long), any other line
  // up to 400.
  const std::string log = "2026-11-30T09:12:03Z app: loaded " + std::string(5000, 'x') +
                          " ERROR disk quota exceeded on volume data " + std::string(3000, 'y') +
                          "\nconfig dump " + std::string(5000, 'c') + "\n";
  const auto out = select_log_lines(log, 8000);
  INFO(out);
  CHECK(out.find("2026-11-30T09:12:03Z app: loaded") != std::string::npos);
  CHECK(out.find("ERROR disk quota exceeded on volume data") != std::string::npos);
  CHECK(out.find("[line cut]") != std::string::npos);
  CHECK(out.find("config dump cccc") != std::string::npos);
  CHECK(out.size() < 1000 + 400 + 100);
}

TEST_CASE("log selector: a Java causal chain is kept compact, its root cause first", "[selector]") {
  std::string log =
      "2026-11-30 ERROR 1 --- [main] o.s.boot.SpringApplication : Application run failed\n";
  log += "org.springframework.beans.factory.BeanCreationException: Error creating bean 'api'\n";
  for (int i = 0; i < 60; ++i)
    log += "\tat org.springframework.Factory" + letters(i) + ".create(F.java:1)\n";
  log += "Caused by: org.springframework.beans.BeanInstantiationException: Failed to instantiate\n";
  for (int i = 0; i < 40; ++i) log += "\tat com.acme.Wiring" + letters(i) + ".wire(W.java:2)\n";
  log += "Caused by: java.net.UnknownHostException: postgres-primary: Name or service not known\n";
  for (int i = 0; i < 20; ++i) log += "\tat java.net.Inet" + letters(i) + ".lookup(I.java:3)\n";
  log += "\t... 97 common frames omitted\n";
  for (int i = 0; i < 100; ++i)
    log += "WARN pool " + letters(i) + " close failed: connection closed\n";
  for (int i = 0; i < 200; ++i) log += "INFO stopping bean " + letters(i) + "\n";
  const auto out = select_log_lines(log, 1500);
  INFO(out);
  CHECK(out.find("Caused by: java.net.UnknownHostException: postgres-primary") !=
        std::string::npos);
  CHECK(out.find("BeanCreationException: Error creating bean 'api'") != std::string::npos);
  CHECK(count_of(out, "\tat ") <= 4);
}

TEST_CASE("log selector: the exception line that ends a Python traceback is kept", "[selector]") {
  std::string log;
  for (std::size_t i = 0; i < 900; ++i)
    log += "WARNING [django.request] Not Found: /static/" + letters(i) + ".png\n";
  log +=
      "Traceback (most recent call last):\n  File \"/app/settings.py\", line 31, in <module>\n"
      "    KEY = os.environ[\"STRIPE_API_KEY\"]\n";
  log += "KeyError: 'STRIPE_API_KEY'\n";
  for (std::size_t i = 0; i < 900; ++i)
    log += "WARNING [django.request] Not Found: /media/" + letters(i) + ".png\n";
  const auto out = select_log_lines(log, 2000);
  INFO(out);
  CHECK(out.find("KeyError: 'STRIPE_API_KEY'") != std::string::npos);
  CHECK(out.find("Traceback (most recent call last):") != std::string::npos);
}

TEST_CASE("log selector: hostile input stays within the budget, valid UTF-8, in linear time",
          "[selector]") {
  const std::size_t kMiB = 1u << 20;
  std::string nested =
      "{\"msg\":\"x\",\"error\":" + std::string(kMiB / 8, '[') + std::string(kMiB / 8, ']') + "}";
  std::string mixed;
  for (std::size_t i = 0; mixed.size() < 2 * kMiB; ++i)
    mixed += "\x1b[31mERROR\x1b[0m \xff\xfe worker " + letters(i) +
             " failed: " + std::string(i % 900, 'z') + (i % 3 ? "\n" : "\r") + std::string(1, '\0');
  const std::vector<std::string> inputs = {
      std::string(2 * kMiB, 'x'),                         // one huge line
      std::string(2 * kMiB, '\n'),                        // only empty lines
      std::string(2 * kMiB, '\r'),                        // only redraws
      std::string(kMiB, '\x1b'),                          // only escapes
      "\x1b]0;" + std::string(kMiB, 'a'),                 // an unterminated OSC
      "\xe2\x82" + std::string("\n\xf0\x9f\x98") + "\n",  // cut characters
      nested,
      mixed,
  };
  for (const auto& in : inputs) {
    for (std::size_t budget : {std::size_t{50}, std::size_t{8000}}) {
      const std::clock_t c0 = std::clock();
      const auto out = select_log_lines(in, budget);
      const double seconds = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
      CHECK(out.size() <= budget);
      CHECK(text::is_valid_utf8(out));
      // Linear: a quadratic pass over 2 MiB takes hours; one pass takes milliseconds (about a
      // second in the ASan Debug build).
      CHECK(seconds < 10.0);
    }
  }
}
