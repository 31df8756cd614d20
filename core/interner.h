#pragma once
// Interner: maps repeated short strings (namespaces, images, reasons, quantities) to 32-bit symbols
// so that 150k compact pod records share one copy of each. Symbols are never freed; symbol 0 is the
// empty string. Not thread-safe: owned by the pipeline's I/O thread.
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>

namespace podmedic {

using Sym = std::uint32_t;

class Interner {
 public:
  Interner();
  Sym intern(std::string_view s);
  // Lookup without inserting; returns 0 (the empty string) when unknown.
  Sym find(std::string_view s) const;
  std::string_view view(Sym s) const { return strings_[s]; }
  std::size_t size() const { return strings_.size(); }
  std::size_t bytes() const { return bytes_; }

 private:
  std::deque<std::string> strings_;  // deque: element addresses stay stable for the map's views
  std::unordered_map<std::string_view, Sym> index_;
  std::size_t bytes_ = 0;
};

}  // namespace podmedic
