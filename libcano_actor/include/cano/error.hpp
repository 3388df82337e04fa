// cano::error — a failure as a value: one of cano's categories plus a message.
//
// Errors travel through the engine as values (never as exceptions):
//
//   cano::expected<int> parse(const std::string& s) {
//     if (s.empty()) return cano::error::task_execution("empty input");
//     return std::stoi(s);
//   }
//
// Categories and Display texts follow cano 0.13.2's CanoError exactly, plus three of cano 0.15's
// (§4.1): `cancelled`, `workflow_timeout` and `orphaned_compensation`. `permanent()` is our
// extension: a permanent error skips the remaining retries of its task.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace cano {

/// The failure categories of cano's CanoError, one per variant.
enum class errc : std::uint8_t {
  task_execution,
  store,
  workflow,
  configuration,
  retry_exhausted,
  timeout,
  circuit_open,
  checkpoint_store,
  compensation_failed,
  generic,
  resource_not_found,
  resource_type_mismatch,
  resource_duplicate_key,
  workflow_version_mismatch,
  /// Our extension (ARCHITECTURE D8): another driver took the run over; this one stopped
  /// writing and did not compensate. The run goes on under its new owner.
  fenced,
  /// cano 0.15 (§4.3): the run was cancelled (a cancellation token, runtime::cancel, a durable
  /// cancel request); its saga steps were undone.
  cancelled,
  /// cano 0.15 (§4.2): the run exceeded Workflow::with_total_timeout.
  workflow_timeout,
  /// cano 0.15 (§4.2): a saga entry the drain did not undo (its compensation deadline passed);
  /// it keeps the entry's task id and output for a manual rollback. Found inside
  /// compensation_failed.
  orphaned_compensation,
};

/// The last category: code that walks every category (serializers) goes up to it.
constexpr errc last_errc = errc::orphaned_compensation;

/// cano's category string ("task_execution", "circuit_open", ...).
const char* to_string(errc code) noexcept;
inline std::ostream& operator<<(std::ostream& os, errc code) { return os << to_string(code); }

class error {
public:
  error(errc code, std::string message) : code_(code), message_(std::move(message)) {}
  /// A plain string becomes a `generic` error (cano's `From<&str>`).
  error(const char* message) : error(errc::generic, message) {}
  error(std::string message) : error(errc::generic, std::move(message)) {}

  static error task_execution(std::string m) { return {errc::task_execution, std::move(m)}; }
  static error store(std::string m) { return {errc::store, std::move(m)}; }
  static error workflow(std::string m) { return {errc::workflow, std::move(m)}; }
  static error configuration(std::string m) { return {errc::configuration, std::move(m)}; }
  static error retry_exhausted(std::string m) { return {errc::retry_exhausted, std::move(m)}; }
  static error timeout(std::string m) { return {errc::timeout, std::move(m)}; }
  static error circuit_open(std::string m) { return {errc::circuit_open, std::move(m)}; }
  static error checkpoint_store(std::string m) { return {errc::checkpoint_store, std::move(m)}; }
  static error generic(std::string m) { return {errc::generic, std::move(m)}; }
  static error resource_not_found(std::string m) { return {errc::resource_not_found, std::move(m)}; }
  static error resource_type_mismatch(std::string m) { return {errc::resource_type_mismatch, std::move(m)}; }
  static error resource_duplicate_key(std::string m) { return {errc::resource_duplicate_key, std::move(m)}; }
  /// errors[0] is the original failure, errors[1..] the compensation failures in drain order.
  static error compensation_failed(std::vector<error> errors);
  static error workflow_version_mismatch(std::uint32_t stored, std::uint32_t expected);
  static error fenced(std::string m) { return {errc::fenced, std::move(m)}; }
  /// cano's `Cancelled`: message "workflow cancelled", Display "Workflow cancelled".
  static error cancelled();
  /// cano's `WorkflowTimeout{elapsed, limit}`: message "workflow total timeout exceeded",
  /// Display "Workflow total timeout exceeded: elapsed=1.2s limit=1s" (Rust's Debug durations).
  static error workflow_timeout(std::chrono::nanoseconds elapsed, std::chrono::nanoseconds limit);
  /// cano's `OrphanedCompensation{task_id, output_blob}`: message "compensation entry has no
  /// registered compensator", Display "No compensator registered for task \"<id>\" — output_blob
  /// (<n> bytes) was kept for manual recovery" (cano 0.15's words, whatever left it undone).
  static error orphaned_compensation(std::string task_id, std::vector<std::uint8_t> output_blob);

  errc code() const noexcept { return code_; }
  /// cano's `category()` string.
  const char* category() const noexcept { return cano::to_string(code_); }
  /// cano's `message()`: the payload (for compensation_failed the original error's message).
  std::string message() const;
  /// cano's Display text, e.g. "Task execution error: boom".
  std::string to_string() const;

  const std::vector<error>& nested() const noexcept { return nested_; }
  std::uint32_t stored_version() const noexcept { return stored_; }
  std::uint32_t expected_version() const noexcept { return expected_; }
  /// workflow_timeout: how long the run had taken, and its limit (zero for other categories).
  std::chrono::nanoseconds elapsed() const noexcept { return elapsed_; }
  std::chrono::nanoseconds limit() const noexcept { return limit_; }
  /// orphaned_compensation: the saga step's task id and its output (JSON bytes); empty otherwise.
  const std::string& task_id() const noexcept;
  const std::vector<std::uint8_t>& output_blob() const noexcept { return blob_; }

  /// Marks the error permanent: the retry loop stops at once and returns it unchanged.
  error&& permanent() && {
    permanent_ = true;
    return std::move(*this);
  }
  error& mark_permanent() & {
    permanent_ = true;
    return *this;
  }
  bool is_permanent() const noexcept { return permanent_; }

  /// Marks a checkpoint_store error as "the store is unreachable" (not a definitive failure):
  /// the engine then interrupts the run — no compensation, log kept, resumable later (D6).
  error&& store_unavailable() && {
    unavailable_ = true;
    return std::move(*this);
  }
  bool is_store_unavailable() const noexcept { return unavailable_; }

  /// Same category and same payload (cano's PartialEq); permanence is not compared.
  friend bool operator==(const error& a, const error& b);
  friend bool operator!=(const error& a, const error& b) { return !(a == b); }
  friend std::ostream& operator<<(std::ostream& os, const error& e) { return os << e.to_string(); }

private:
  errc code_;
  std::string message_;
  std::vector<error> nested_;
  std::uint32_t stored_ = 0;
  std::uint32_t expected_ = 0;
  std::chrono::nanoseconds elapsed_{0};
  std::chrono::nanoseconds limit_{0};
  std::vector<std::uint8_t> blob_; // orphaned_compensation (message_ holds its task id)
  bool permanent_ = false;
  bool unavailable_ = false;
};

/// Thrown by `expected::value()` (and `*`, `->`) when the expected holds an error; carries it.
class bad_expected_access : public std::exception {
public:
  explicit bad_expected_access(cano::error err);
  /// The error the expected held.
  const cano::error& error() const noexcept { return error_; }
  /// "cano::expected holds an error: <the error's Display text>".
  const char* what() const noexcept override { return what_.c_str(); }

private:
  cano::error error_;
  std::string what_;
};

namespace detail {
// Out of line and cold: the checks in `expected` cost one predictable branch on the hot path.
[[noreturn]] void throw_bad_expected_access(cano::error err);
[[noreturn]] void throw_no_error_in_expected();
} // namespace detail

/// A value or an error, with std::expected's shape (C++23) in C++17:
///
///   cano::expected<int> r = parse("42");
///   if (r) { use(*r); } else { log(r.error()); }
///   int n = parse("").value_or(0);
///
/// `value()`, `*` and `->` on an error throw `cano::bad_expected_access` carrying the error;
/// `error()` on a value throws `std::logic_error`. Neither is ever undefined behaviour.
/// `E` is the error type: `cano::error`, or `StoreError` for MemoryStore results; it must
/// convert to `cano::error` (what bad_expected_access carries). `error_value()`, a deprecated
/// alias of `error()`, is kept for code written against cano-actor 0.1.
template <class T, class E = error>
class [[nodiscard]] expected {
public:
  using value_type = T;
  using error_type = E;

  template <class U = T, class = std::enable_if_t<
                           std::is_constructible_v<T, U&&> && !std::is_same_v<std::decay_t<U>, expected> &&
                           !std::is_same_v<std::decay_t<U>, cano::error> && !std::is_same_v<std::decay_t<U>, E>>>
  expected(U&& value) : value_(std::forward<U>(value)) {}
  expected(E err) : error_(std::make_shared<const E>(std::move(err))) {}

  bool has_value() const noexcept { return value_.has_value(); }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & {
    check_value();
    return *value_;
  }
  const T& value() const& {
    check_value();
    return *value_;
  }
  T&& value() && {
    check_value();
    return std::move(*value_);
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  /// The value, or `fallback` converted to T when this holds an error.
  template <class U>
  T value_or(U&& fallback) const& {
    return has_value() ? *value_ : static_cast<T>(std::forward<U>(fallback));
  }
  template <class U>
  T value_or(U&& fallback) && {
    return has_value() ? std::move(*value_) : static_cast<T>(std::forward<U>(fallback));
  }

  /// The error; throws std::logic_error when this holds a value.
  const E& error() const {
    if (!error_) {
      detail::throw_no_error_in_expected();
    }
    return *error_;
  }
  /// Alias of `error()`, kept for code written against cano-actor 0.1.
  [[deprecated("use error()")]] const E& error_value() const { return error(); }

private:
  void check_value() const {
    if (!value_.has_value()) {
      detail::throw_bad_expected_access(cano::error(*error_));
    }
  }

  std::optional<T> value_;
  std::shared_ptr<const E> error_;
};

/// Success without a value, or an error.
template <class E>
class [[nodiscard]] expected<void, E> {
public:
  using value_type = void;
  using error_type = E;

  expected() = default;
  expected(E err) : error_(std::make_shared<const E>(std::move(err))) {}

  bool has_value() const noexcept { return !error_; }
  explicit operator bool() const noexcept { return has_value(); }
  /// Throws `cano::bad_expected_access` when this holds an error.
  void value() const {
    if (error_) {
      detail::throw_bad_expected_access(cano::error(*error_));
    }
  }
  /// The error; throws std::logic_error on success.
  const E& error() const {
    if (!error_) {
      detail::throw_no_error_in_expected();
    }
    return *error_;
  }
  /// Alias of `error()`, kept for code written against cano-actor 0.1.
  [[deprecated("use error()")]] const E& error_value() const { return error(); }

private:
  std::shared_ptr<const E> error_;
};

} // namespace cano
