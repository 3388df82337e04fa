#include "cano/error.hpp"

#include <stdexcept>

#include "format.hpp"

namespace cano {

const char* to_string(errc code) noexcept {
  switch (code) {
    case errc::task_execution: return "task_execution";
    case errc::store: return "store";
    case errc::workflow: return "workflow";
    case errc::configuration: return "configuration";
    case errc::retry_exhausted: return "retry_exhausted";
    case errc::timeout: return "timeout";
    case errc::circuit_open: return "circuit_open";
    case errc::checkpoint_store: return "checkpoint_store";
    case errc::compensation_failed: return "compensation_failed";
    case errc::generic: return "generic";
    case errc::resource_not_found: return "resource_not_found";
    case errc::resource_type_mismatch: return "resource_type_mismatch";
    case errc::resource_duplicate_key: return "resource_duplicate_key";
    case errc::workflow_version_mismatch: return "workflow_version_mismatch";
    case errc::fenced: return "fenced";
    case errc::cancelled: return "cancelled";
    case errc::workflow_timeout: return "workflow_timeout";
    case errc::orphaned_compensation: return "orphaned_compensation";
  }
  return "generic";
}

error error::compensation_failed(std::vector<error> errors) {
  error e{errc::compensation_failed, {}};
  e.nested_ = std::move(errors);
  return e;
}

error error::workflow_version_mismatch(std::uint32_t stored, std::uint32_t expected) {
  error e{errc::workflow_version_mismatch, "workflow version mismatch (stored vs expected)"};
  e.stored_ = stored;
  e.expected_ = expected;
  return e;
}

error error::cancelled() { return {errc::cancelled, {}}; }

error error::workflow_timeout(std::chrono::nanoseconds elapsed, std::chrono::nanoseconds limit) {
  error e{errc::workflow_timeout, {}};
  e.elapsed_ = elapsed;
  e.limit_ = limit;
  return e;
}

error error::orphaned_compensation(std::string task_id, std::vector<std::uint8_t> output_blob) {
  error e{errc::orphaned_compensation, std::move(task_id)};
  e.blob_ = std::move(output_blob);
  return e;
}

const std::string& error::task_id() const noexcept {
  static const std::string none;
  return code_ == errc::orphaned_compensation ? message_ : none;
}

std::string error::message() const {
  switch (code_) {
    case errc::compensation_failed:
      return nested_.empty() ? std::string("compensation failed") : nested_.front().message();
    // cano 0.15's fixed messages: the details are in the Display text.
    case errc::cancelled: return "workflow cancelled";
    case errc::workflow_timeout: return "workflow total timeout exceeded";
    case errc::orphaned_compensation: return "compensation entry has no registered compensator";
    default: return message_;
  }
}

std::string error::to_string() const {
  switch (code_) {
    case errc::task_execution: return "Task execution error: " + message_;
    case errc::store: return "Store error: " + message_;
    case errc::workflow: return "Workflow error: " + message_;
    case errc::configuration: return "Configuration error: " + message_;
    case errc::retry_exhausted: return "Retry exhausted: " + message_;
    case errc::timeout: return "Timeout error: " + message_;
    case errc::circuit_open: return "Circuit open: " + message_;
    case errc::checkpoint_store: return "Checkpoint store error: " + message_;
    case errc::generic: return "Error: " + message_;
    case errc::resource_not_found: return "Resource not found: " + message_;
    case errc::resource_type_mismatch: return "Resource type mismatch: " + message_;
    case errc::resource_duplicate_key: return "Resource duplicate key: " + message_;
    case errc::fenced: return "Fenced: " + message_;
    case errc::cancelled: return "Workflow cancelled";
    case errc::workflow_timeout:
      return "Workflow total timeout exceeded: elapsed=" + detail::debug_duration(elapsed_) +
             " limit=" + detail::debug_duration(limit_);
    case errc::orphaned_compensation:
      return "No compensator registered for task " + detail::debug_quote(message_) + " — output_blob (" +
             std::to_string(blob_.size()) + " bytes) was kept for manual recovery";
    case errc::workflow_version_mismatch:
      return "Workflow version mismatch: stored=" + std::to_string(stored_) + ", expected=" + std::to_string(expected_);
    case errc::compensation_failed: {
      std::string out = "Compensation failed (" + std::to_string(nested_.size()) + " error(s))";
      for (std::size_t i = 0; i < nested_.size(); ++i) {
        out += i == 0 ? "; original: " : "; compensation #" + std::to_string(i) + ": ";
        out += nested_[i].to_string();
      }
      return out;
    }
  }
  return message_;
}

bool operator==(const error& a, const error& b) {
  return a.code_ == b.code_ && a.message_ == b.message_ && a.nested_ == b.nested_ && a.stored_ == b.stored_ &&
         a.expected_ == b.expected_ && a.elapsed_ == b.elapsed_ && a.limit_ == b.limit_ && a.blob_ == b.blob_;
}

bad_expected_access::bad_expected_access(cano::error err)
  : error_(std::move(err)),
    what_("cano::expected holds an error: " + error_.to_string()) {}

namespace detail {

void throw_bad_expected_access(cano::error err) { throw bad_expected_access(std::move(err)); }

void throw_no_error_in_expected() {
  throw std::logic_error("cano::expected::error() called on an expected that holds a value");
}

} // namespace detail

} // namespace cano
