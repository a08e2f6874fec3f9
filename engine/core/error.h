#pragma once
// Errors at file and user boundaries come back as values, never as exit() or abort().
// An Error carries a human message that already names the file / layer / data set and
// says what the user can do. Expected<T> is a small stand-in for C++23 std::expected.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <variant>

namespace qat {

struct Error {
  std::string message;
};

inline Error makeError(std::string message) { return Error{std::move(message)}; }

template <class T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : v_(std::move(value)) {}
  Expected(Error error) : v_(std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Status: success or an Error.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace qat

// Internal invariants (programming errors, never bad user input). Stays on in release
// builds: a broken invariant in numeric code is worse than the cost of the check.
#define QAT_ASSERT(cond)                                                             \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      std::fprintf(stderr, "%s:%d: internal error: assertion '%s' failed\n", __FILE__, \
                   __LINE__, #cond);                                                 \
      std::abort();                                                                  \
    }                                                                                \
  } while (0)

// Propagate an error from an Expected/Status expression.
#define QAT_TRY(expr)                          \
  do {                                         \
    auto&& qat_try_result_ = (expr);           \
    if (!qat_try_result_.ok())                 \
      return qat_try_result_.error();          \
  } while (0)
