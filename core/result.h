#pragma once
// Result<T>: an expected value or an Error. Expected runtime failures travel as values; bugs abort.
#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace podmedic {

struct Error {
  std::string message;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result() : v_(Error{"no result"}) {}       // for co_spawn completion signatures
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Error e) : v_(std::move(e)) {}      // NOLINT
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const Error& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }

 private:
  std::variant<T, Error> v_;
};

struct Ok {};

}  // namespace podmedic
