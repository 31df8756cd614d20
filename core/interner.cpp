#include "core/interner.h"

namespace podmedic {

Interner::Interner() {
  intern("");
}

Sym Interner::intern(std::string_view s) {
  if (auto it = index_.find(s); it != index_.end()) return it->second;
  strings_.emplace_back(s);
  Sym id = static_cast<Sym>(strings_.size() - 1);
  index_.emplace(strings_.back(), id);
  bytes_ += s.size() + sizeof(std::string) + 32;
  return id;
}

Sym Interner::find(std::string_view s) const {
  auto it = index_.find(s);
  return it == index_.end() ? 0 : it->second;
}

}  // namespace podmedic
