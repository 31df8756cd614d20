#pragma once
// Text helpers for bytes that come from peers: UTF-8 checks and repair, cutting to a byte budget
// without splitting a character, and hex encoding. The one place these live; every module that
// bounds a peer's text for a message, a log line or a JSON field uses them. Pure functions;
// thread-safe.
//
// Invalid UTF-8 is never an error here: the checks say where it is, the repairs replace it with
// U+FFFD one byte at a time (as Go's decoders, and so the apiserver, do), and the cuts keep it as
// it is (it counts as one-byte units, so a cut can fall right after a bad byte).
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace podmedic::text {

// Length (1-4) of the well-formed UTF-8 sequence that starts at s[i]; 0 when the bytes there are
// not one: a stray continuation byte, a lead byte that is never valid (C0, C1, F5-FF), a sequence
// cut short by a bad continuation byte or the end of s, an overlong form, a surrogate (U+D800-
// U+DFFF) or a code point above U+10FFFF. Requires i < s.size().
std::size_t utf8_sequence_length(std::string_view s, std::size_t i);

// Whether every byte of s is part of a well-formed sequence.
bool is_valid_utf8(std::string_view s);

// s with every byte that is not part of a well-formed sequence replaced by U+FFFD (one per byte).
// Valid input comes back unchanged.
std::string replace_invalid_utf8(std::string_view s);

// replace_invalid_utf8, and C0 control characters (below 0x20, NUL included) other than '\n',
// '\t' and '\r' become spaces: text safe to embed in JSON, a prompt or a log line.
std::string sanitize_utf8(std::string_view s);

// The longest prefix of s of at most max_bytes bytes that does not end inside a well-formed UTF-8
// sequence: s itself when it fits, else cut at max_bytes or up to 3 bytes before it (at the start
// of the character the cut would split). Invalid bytes are kept as they are and never move the
// cut further back, so a hostile run of continuation bytes is cut at max_bytes, not emptied.
// max_bytes 0 gives "". The view points into s.
std::string_view cut_utf8(std::string_view s, std::size_t max_bytes);

// The longest suffix of s of at most max_bytes bytes that does not start inside a UTF-8 sequence:
// s itself when it fits, else from s.size() - max_bytes moved forward past at most 3 continuation
// bytes (so a hostile run of them is kept, not skipped). The end of a log matters most.
std::string_view tail_utf8(std::string_view s, std::size_t max_bytes);

// s itself when it fits in max_bytes; else cut_utf8(s, max_bytes - marker.size()) followed by
// marker, so the result is at most max(max_bytes, marker.size()) bytes.
inline constexpr std::string_view kEllipsis = "\xE2\x80\xA6";  // U+2026 …
std::string cut_utf8_with_marker(std::string_view s, std::size_t max_bytes,
                                 std::string_view marker = kEllipsis);

// Lowercase hex, two digits a byte, in order.
std::string hex(std::span<const unsigned char> bytes);

// Percent-encoding for a URL path segment or query value: every byte but the RFC 3986
// unreserved characters (A-Z a-z 0-9 - . _ ~) as %XX.
std::string percent_encode(std::string_view s);
// Levenshtein distance, ASCII case-insensitive, for "did you mean" on keys, commands and flags;
// only the first 64 bytes of each are compared (they are short words).
std::size_t edit_distance(std::string_view a, std::string_view b);
// "1 pod", "3 pods": `n` and the noun, with an "s" unless n is 1.
std::string count_of(std::uint64_t n, std::string_view noun);

}  // namespace podmedic::text
