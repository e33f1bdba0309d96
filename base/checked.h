#pragma once
// Overflow-checked integer arithmetic for sizes, counts, bytes and cycles. Each operation names what it
// computes, so a value that does not fit reads as "overflow: <what>: ..." instead of wrapping silently
// (undefined behaviour for signed types) or crashing later:
//
//   const int64_t macs = checked::mul(checked::mul<int64_t>(out_h, out_w, "MACs"), out_c, "MACs");
//   const int mid = checked::narrow<int>(std::round(in_c * expand), "expanded channels");
//
// OverflowError is an InputError: the value came from the user's input (a YAML size, a flag), so the CLI
// prints the message and exits 2. A caller that knows the file and key adds them (see SupernetSpace).
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>

#include "base/errors.h"

namespace sushi {

struct OverflowError : InputError {
  using InputError::InputError;
};

namespace checked {

namespace detail {
template <typename T>
[[noreturn]] void overflow(std::string_view what, const char* op, T a, T b) {
  throw OverflowError("overflow: " + std::string(what) + ": " + std::to_string(a) + " " + op + " " +
                      std::to_string(b) + " does not fit a " + std::to_string(sizeof(T) * 8) +
                      "-bit integer");
}
}  // namespace detail

template <typename T>
T add(T a, T b, std::string_view what) {
  static_assert(std::is_integral_v<T>, "checked::add is for integers");
  T r;
  if (__builtin_add_overflow(a, b, &r)) detail::overflow(what, "+", a, b);
  return r;
}

template <typename T>
T sub(T a, T b, std::string_view what) {
  static_assert(std::is_integral_v<T>, "checked::sub is for integers");
  T r;
  if (__builtin_sub_overflow(a, b, &r)) detail::overflow(what, "-", a, b);
  return r;
}

template <typename T>
T mul(T a, T b, std::string_view what) {
  static_assert(std::is_integral_v<T>, "checked::mul is for integers");
  T r;
  if (__builtin_mul_overflow(a, b, &r)) detail::overflow(what, "*", a, b);
  return r;
}

// `v` as a `To`, or OverflowError when it does not fit (for a floating-point `v`: not finite, or out of
// range; the fraction is truncated as by a cast).
template <typename To, typename From>
To narrow(From v, std::string_view what) {
  static_assert(std::is_integral_v<To>, "checked::narrow converts to an integer");
  if constexpr (std::is_floating_point_v<From>) {
    // Both bounds are exact powers of two in double, so the comparison is exact.
    const long double lo = static_cast<long double>(std::numeric_limits<To>::min());
    const long double hi = static_cast<long double>(std::numeric_limits<To>::max()) + 1.0L;
    if (!std::isfinite(v) || static_cast<long double>(v) <= lo - 1.0L || static_cast<long double>(v) >= hi)
      throw OverflowError("overflow: " + std::string(what) + ": " + std::to_string(v) + " does not fit a " +
                          std::to_string(sizeof(To) * 8) + "-bit integer");
    return static_cast<To>(v);
  } else {
    static_assert(std::is_integral_v<From>, "checked::narrow converts from a number");
    To r;
    if (__builtin_add_overflow(v, From(0), &r))
      throw OverflowError("overflow: " + std::string(what) + ": " + std::to_string(v) + " does not fit a " +
                          std::to_string(sizeof(To) * 8) + "-bit integer");
    return r;
  }
}

// a / b for sizes: rejects a zero or negative divisor (a stride, a burst size) instead of a SIGFPE.
template <typename T>
T div(T a, T b, std::string_view what) {
  static_assert(std::is_integral_v<T>, "checked::div is for integers");
  if (b <= 0) throw OverflowError("invalid " + std::string(what) + ": division by " + std::to_string(b));
  return a / b;
}

}  // namespace checked
}  // namespace sushi
