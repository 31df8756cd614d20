#include "core/text.h"

#include <catch2/catch.hpp>

#include <array>
#include <string>

using namespace podmedic;
using namespace std::string_literals;

namespace {
const std::string kE = "\xC3\xA9";             // é, 2 bytes
const std::string kCheck = "\xE2\x9C\x93";     // ✓, 3 bytes
const std::string kGrin = "\xF0\x9F\x98\x80";  // 😀, 4 bytes
const std::string kFffd = "\xEF\xBF\xBD";      // U+FFFD
}  // namespace

TEST_CASE("utf8_sequence_length: well-formed sequences and every kind of bad one") {
  std::string s = "a" + kE + kCheck + kGrin;
  CHECK(text::utf8_sequence_length(s, 0) == 1);
  CHECK(text::utf8_sequence_length(s, 1) == 2);
  CHECK(text::utf8_sequence_length(s, 3) == 3);
  CHECK(text::utf8_sequence_length(s, 6) == 4);
  CHECK(text::utf8_sequence_length(s, 2) == 0);  // a continuation byte
  CHECK(text::utf8_sequence_length(s, 7) == 0);
  // Lead bytes that are never valid.
  for (const char* bad : {"\xC0\x80", "\xC1\xBF", "\xF5\x80\x80\x80", "\xFF", "\xFE"})
    CHECK(text::utf8_sequence_length(bad, 0) == 0);
  CHECK(text::utf8_sequence_length("\xE0\x80\x80"s, 0) == 0);      // overlong 3-byte
  CHECK(text::utf8_sequence_length("\xE0\xA0\x80"s, 0) == 3);      // U+0800, the first 3-byte
  CHECK(text::utf8_sequence_length("\xED\xA0\x80"s, 0) == 0);      // surrogate U+D800
  CHECK(text::utf8_sequence_length("\xED\x9F\xBF"s, 0) == 3);      // U+D7FF
  CHECK(text::utf8_sequence_length("\xF0\x8F\xBF\xBF"s, 0) == 0);  // overlong 4-byte
  CHECK(text::utf8_sequence_length("\xF4\x8F\xBF\xBF"s, 0) == 4);  // U+10FFFF
  CHECK(text::utf8_sequence_length("\xF4\x90\x80\x80"s, 0) == 0);  // above U+10FFFF
  // Cut short by the end of the text or by a byte that does not continue it.
  CHECK(text::utf8_sequence_length("\xF0\x9F\x98"s, 0) == 0);
  CHECK(text::utf8_sequence_length("\xE2\x9C"s, 0) == 0);
  CHECK(text::utf8_sequence_length("\xC3"s, 0) == 0);
  CHECK(text::utf8_sequence_length("\xC3x"s, 0) == 0);
  CHECK(text::utf8_sequence_length("\xE2\x9C\xC3\xA9"s, 0) == 0);
}

TEST_CASE("is_valid_utf8") {
  CHECK(text::is_valid_utf8(""));
  CHECK(text::is_valid_utf8("ADDED " + kE + " " + kCheck + " " + kGrin));
  CHECK(text::is_valid_utf8("nul\0x"s));  // NUL is valid UTF-8 (sanitize_utf8 removes it)
  CHECK_FALSE(text::is_valid_utf8("cut \xC3"));
  CHECK_FALSE(text::is_valid_utf8("bad \xFF here"));
  CHECK_FALSE(text::is_valid_utf8("\xE2\x9C"));
  CHECK_FALSE(text::is_valid_utf8("\xED\xA0\x80"));
}

TEST_CASE("replace_invalid_utf8: one U+FFFD per bad byte, valid text unchanged") {
  CHECK(text::replace_invalid_utf8("caf" + kE + "\n\t\x01") == "caf" + kE + "\n\t\x01");
  CHECK(text::replace_invalid_utf8("bad\xff") == "bad" + kFffd);
  CHECK(text::replace_invalid_utf8("trunc\xe2\x82") == "trunc" + kFffd + kFffd);
  CHECK(text::replace_invalid_utf8("\xED\xA0\x80z") == kFffd + kFffd + kFffd + "z");
  CHECK(text::is_valid_utf8(text::replace_invalid_utf8("\x80\x80\xC3\xF0\x9F\x98" + kGrin)));
}

TEST_CASE("sanitize_utf8 keeps valid text and replaces invalid bytes and control characters") {
  // Moved from k8s decode_test (sanitize_utf8 lived in k8s/decode).
  CHECK(text::sanitize_utf8("plain ascii\n") == "plain ascii\n");
  CHECK(text::sanitize_utf8("caf\xc3\xa9") == "caf\xc3\xa9");
  CHECK(text::sanitize_utf8("bad\xff") == "bad\xEF\xBF\xBD");
  CHECK(text::sanitize_utf8("trunc\xe2\x82") == "trunc\xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK(text::sanitize_utf8(std::string("nul\0x", 5)) == "nul x");
  CHECK(text::sanitize_utf8("a\rb\tc\x1b[31m\x7f") == "a\rb\tc [31m\x7f");
}

TEST_CASE("cut_utf8 never splits a character") {
  std::string s = "ab" + kE + kCheck + kGrin;  // 2 + 2 + 3 + 4 = 11 bytes
  CHECK(text::cut_utf8(s, 100) == s);
  CHECK(text::cut_utf8(s, 11) == s);
  CHECK(text::cut_utf8(s, 0).empty());
  CHECK(text::cut_utf8("", 0).empty());
  CHECK(text::cut_utf8(s, 2) == "ab");
  CHECK(text::cut_utf8(s, 3) == "ab");  // inside é
  CHECK(text::cut_utf8(s, 4) == "ab" + kE);
  CHECK(text::cut_utf8(s, 5) == "ab" + kE);  // inside ✓
  CHECK(text::cut_utf8(s, 6) == "ab" + kE);
  CHECK(text::cut_utf8(s, 7) == "ab" + kE + kCheck);
  // A 4-byte character across the boundary, at every offset.
  CHECK(text::cut_utf8(s, 8) == "ab" + kE + kCheck);
  CHECK(text::cut_utf8(s, 9) == "ab" + kE + kCheck);
  CHECK(text::cut_utf8(s, 10) == "ab" + kE + kCheck);
  CHECK(text::cut_utf8(kGrin + kGrin, 4) == kGrin);
  CHECK(text::cut_utf8(kGrin + kGrin, 7) == kGrin);
  CHECK(text::cut_utf8(kGrin, 3).empty());
  CHECK(text::cut_utf8(kE, 1).empty());
  // Every cut of valid text is valid text, at most max bytes, and a prefix.
  for (std::size_t max = 0; max <= s.size(); ++max) {
    auto cut = text::cut_utf8(s, max);
    INFO(max);
    CHECK(cut.size() <= max);
    CHECK(cut.size() + 3 >= max);
    CHECK(s.compare(0, cut.size(), cut) == 0);
    CHECK(text::is_valid_utf8(cut));
  }
}

TEST_CASE("cut_utf8 on invalid UTF-8 keeps the bad bytes and never backs off past them") {
  // A run of continuation bytes is not a character: cut at max, not emptied (the loop this
  // replaced backed off to 0 and lost the whole text).
  std::string run(500, '\x80');
  CHECK(text::cut_utf8(run, 200).size() == 200);
  CHECK(text::cut_utf8("x" + run, 200).size() == 200);
  // A lead byte whose sequence is broken is kept; the cut stays at max.
  CHECK(text::cut_utf8("ab\xE2\x82zz", 4) == "ab\xE2\x82");
  // E2 82 82 is a character (U+2082) followed by a stray continuation byte: not split.
  CHECK(text::cut_utf8("ab\xE2\x82\x82\x82", 4) == "ab");
  CHECK(text::cut_utf8("ab\xFF\x80\x80", 3) == "ab\xFF");
  CHECK(text::cut_utf8("ab\xED\xA0\x80", 4) == "ab\xED\xA0");  // a surrogate is not a character
  // Invalid bytes before a valid character that is cut still move the cut to its start.
  CHECK(text::cut_utf8("\xFF" + kGrin, 3) == "\xFF");
}

TEST_CASE("tail_utf8 never starts inside a character") {
  CHECK(text::tail_utf8("short", 10) == "short");
  CHECK(text::tail_utf8("abcdef", 3) == "def");
  CHECK(text::tail_utf8("a\xC3\xA9z", 2) == "z");          // é would be cut in half
  CHECK(text::tail_utf8("a\xC3\xA9z", 3) == "\xC3\xA9z");  // fits exactly
  CHECK(text::tail_utf8("\xF0\x9F\x92\xA5!", 2) == "!");   // 💥 (4 bytes) does not fit
  CHECK(text::tail_utf8("abc", 0) == "");
  // A hostile run of continuation bytes: at most 3 skipped, the rest kept.
  CHECK(text::tail_utf8(std::string(10, '\x80'), 8).size() == 5);
}

TEST_CASE("cut_utf8_with_marker counts the marker against the budget") {
  CHECK(text::cut_utf8_with_marker("short", 5) == "short");
  CHECK(text::cut_utf8_with_marker("toolong", 6) == "too\xE2\x80\xA6");
  CHECK(text::cut_utf8_with_marker("ab" + kGrin + "cd", 8) == "ab" + kGrin + "cd");
  CHECK(text::cut_utf8_with_marker("ab" + kGrin + "cdef", 8) ==
        "ab" + std::string(text::kEllipsis));
  CHECK(text::cut_utf8_with_marker("ab" + kGrin + "cdef", 9) == "ab" + kGrin + "\xE2\x80\xA6");
  CHECK(text::cut_utf8_with_marker("abcdef", 4, "..") == "ab..");
  // A budget smaller than the marker: the marker alone.
  CHECK(text::cut_utf8_with_marker("abcdef", 2) == "\xE2\x80\xA6");
  CHECK(text::cut_utf8_with_marker("abcdef", 0) == "\xE2\x80\xA6");
  CHECK(text::cut_utf8_with_marker("", 0).empty());
  std::string long_text;
  for (int i = 0; i < 1000; ++i) long_text += kCheck;
  for (std::size_t max : {3u, 4u, 5u, 100u, 101u, 2999u, 3000u}) {
    auto cut = text::cut_utf8_with_marker(long_text, max);
    INFO(max);
    CHECK(cut.size() <= max);
    CHECK(text::is_valid_utf8(cut));
  }
}

TEST_CASE("hex: lowercase, two digits a byte") {
  CHECK(text::hex({}).empty());
  std::array<unsigned char, 5> bytes{0x00, 0x0f, 0xa0, 0xff, 0x42};
  CHECK(text::hex(bytes) == "000fa0ff42");
  CHECK(text::hex(std::span(bytes).first(2)) == "000f");
}

TEST_CASE("percent_encode keeps RFC 3986 unreserved characters and encodes every other byte") {
  CHECK(text::percent_encode("aZ09-._~") == "aZ09-._~");
  CHECK(text::percent_encode("a b/c&d=e#\xC3\xA9") == "a%20b%2Fc%26d%3De%23%C3%A9");
  CHECK(text::percent_encode("") == "");
}

TEST_CASE("count_of: one pod, two pods, zero restarts") {
  CHECK(text::count_of(1, "pod") == "1 pod");
  CHECK(text::count_of(2, "pod") == "2 pods");
  CHECK(text::count_of(0, "restart") == "0 restarts");
}
