// `cano runs cancel ID [--wait D]`: a durable cancel request (CheckpointStore::request_cancel,
// cano 0.15 §4.3) in the run's header. Whichever process drives the run — this machine or another
// node of a cluster — picks it up within about a second and cancels the run cooperatively (its
// saga steps are undone); a run nobody drives is cancelled at its first state when it is resumed.
// The request is not a write into the run: it takes no SQLite driver lock and no PostgreSQL
// ownership (ARCHITECTURE D8), so it works while the run is driven.
#include <ostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "exit_codes.hpp"
#include "run_views.hpp"
#include "text_table.hpp"
#include "time_text.hpp"

namespace cano_cli {

namespace {

constexpr auto poll_every = std::chrono::milliseconds(100);

/// The run's header, or the exit code (and message) of why there is none to show.
cano::expected<cano::RunHeader> read_header(const context& ctx, cano::CheckpointStore& store, const std::string& id) {
  auto header = store.run_header(id);
  if (!header) {
    return cano::error::checkpoint_store(scrub(header.error().message(), ctx.store));
  }
  if (!*header) {
    return cano::error::workflow("no run with workflow id \"" + printable(id) + "\" in " + ctx.store.shown);
  }
  return std::move(**header);
}

} // namespace

int runs_cancel(const context& ctx, const std::string& id, const std::string& wait) {
  std::optional<std::chrono::milliseconds> wait_for;
  if (!wait.empty()) {
    auto d = parse_duration(wait);
    if (!d) {
      ctx.err << "cano: --wait: " << d.error().message() << "\n";
      return exit_bad_arguments;
    }
    wait_for = *d;
  }
  auto store = open_store(ctx.store, store_access::write); // the request is a write (and may need a migration)
  if (!store) {
    ctx.err << "cano: " << store.error().message() << "\n";
    return exit_failed;
  }
  const auto quoted = "\"" + printable(id) + "\"";
  auto requested = (*store)->request_cancel(id);
  auto header = read_header(ctx, **store, id);
  if (!requested) {
    // Say why from the header: no such run, a run that ended, or the store's own error.
    if (!header) {
      auto code = header.error().code() == cano::errc::workflow ? exit_not_found : exit_failed;
      ctx.err << "cano: " << header.error().message() << "\n";
      return code;
    }
    if (!cano::is_unfinished(header->status)) {
      if (ctx.json) { // the run's state, as a --wait that saw it end would print it
        ctx.out << nlohmann::json{{"workflow_id", id},
                                  {"status", cano::to_string(header->status)},
                                  {"failure", header->failure ? nlohmann::json(*header->failure) : nlohmann::json()}}
                     .dump()
                << "\n";
      }
      ctx.err << "cano: run " << quoted << " already ended (status " << cano::to_string(header->status)
              << "); there is nothing to cancel\n";
      return exit_already_ended;
    }
    ctx.err << "cano: cannot ask to cancel run " << quoted << ": "
            << printable(scrub(requested.error().message(), ctx.store)) << "\n";
    return exit_failed;
  }
  if (!header) { // the request landed; the header went (a purge) or the store failed since
    ctx.err << "cano: " << header.error().message() << "\n";
    return exit_failed;
  }
  const bool driven = header->status != cano::RunStatus::interrupted;
  if (!wait_for) {
    if (ctx.json) {
      auto j = nlohmann::json{{"workflow_id", id}, {"status", cano::to_string(header->status)}};
      j["cancel_requested_at"] =
        header->cancel_requested_at ? nlohmann::json(format_iso(*header->cancel_requested_at)) : nlohmann::json();
      ctx.out << j.dump() << "\n";
    } else if (driven) {
      ctx.out << "Asked to cancel run " << quoted << " (status " << cano::to_string(header->status)
              << (header->owner.empty() ? "" : ", owner " + printable(header->owner))
              << "): its driver cancels it within about a second and undoes its saga steps.\n";
    } else {
      ctx.out << "Asked to cancel run " << quoted
              << " (status interrupted): nobody drives it now; it is cancelled when it is resumed — by the "
                 "program or cluster node that serves its definition, or by cano runs resume "
              << printable(id) << " for a definition cano knows.\n";
    }
    return exit_ok;
  }
  // --wait: until the run has ended, reading its header as any process can.
  auto until = std::chrono::steady_clock::now() + *wait_for;
  while (cano::is_unfinished(header->status) && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(poll_every);
    header = read_header(ctx, **store, id);
    if (!header) {
      ctx.err << "cano: " << header.error().message() << "\n";
      return exit_failed;
    }
  }
  const auto status = cano::to_string(header->status);
  if (ctx.json) {
    ctx.out << nlohmann::json{{"workflow_id", id},
                              {"status", status},
                              {"failure", header->failure ? nlohmann::json(*header->failure) : nlohmann::json()}}
                 .dump()
            << "\n";
  }
  if (cano::is_unfinished(header->status)) {
    ctx.err << "cano: run " << quoted << " is still " << status << " after " << wait
            << (driven ? "" : " (nobody drives it: it is cancelled when it is resumed)")
            << "; the request stays in its header\n";
    return exit_still_running;
  }
  if (!ctx.json) {
    ctx.out << "Run " << quoted << " ended " << status
            << (header->status == cano::RunStatus::completed ? " in state " + header->final_state : "")
            << (header->failure ? ":" : ".") << "\n";
    if (header->failure) {
      for (const auto& line : error_lines(*header->failure)) {
        ctx.out << "  " << printable(scrub(line, ctx.store)) << "\n";
      }
    }
  }
  return exit_ok;
}

} // namespace cano_cli
