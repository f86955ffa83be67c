#pragma once
/// `result<T>`: a value or an error, never both. The project's one error-as-value type.
#include <cassert>
#include <string>
#include <utility>
#include <variant>

#include "parley/errc.hpp"

namespace parley {

/// An error: a code to act on and a message for humans (never containing a secret).
struct error {
  errc code = errc::internal;
  std::string message;
};

[[nodiscard]] inline error make_error(errc code, std::string message = {}) {
  return error{code, std::move(message)};
}

/// Holds a `T` on success or an `error`. Accessing the wrong side is a bug (asserts).
template <class T>
class [[nodiscard]] result {
 public:
  result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT
  result(error err) : state_(std::in_place_index<1>, std::move(err)) {}  // NOLINT

  [[nodiscard]] bool ok() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(state_); }
  const T& value() const& { assert(ok()); return std::get<0>(state_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const error& err() const& { assert(!ok()); return std::get<1>(state_); }
  error&& err() && { assert(!ok()); return std::get<1>(std::move(state_)); }
  [[nodiscard]] errc code() const noexcept { return ok() ? errc::ok : std::get<1>(state_).code; }

 private:
  std::variant<T, error> state_;
};

/// The result of an operation with no value.
template <>
class [[nodiscard]] result<void> {
 public:
  result() = default;
  result(error err) : err_(std::move(err)), failed_(true) {}  // NOLINT

  [[nodiscard]] bool ok() const noexcept { return !failed_; }
  explicit operator bool() const noexcept { return ok(); }
  const error& err() const& { assert(failed_); return err_; }
  error&& err() && { assert(failed_); return std::move(err_); }
  [[nodiscard]] errc code() const noexcept { return failed_ ? err_.code : errc::ok; }

 private:
  error err_;
  bool failed_ = false;
};

using status = result<void>;

}  // namespace parley
