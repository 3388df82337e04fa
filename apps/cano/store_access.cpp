#include "store_access.hpp"

#include "cano/postgres_checkpoint_store.hpp"
#include "cano/sqlite_checkpoint_store.hpp"

namespace cano_cli {

namespace {

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

} // namespace

std::string scrub(std::string text, const store_spec& spec) {
  if (spec.type != store_spec::kind::postgres) {
    return text;
  }
  return cano::mask_dsn_password(spec.target, std::move(text));
}

cano::expected<store_spec> parse_store_spec(const std::string& text) {
  store_spec spec;
  if (starts_with(text, "sqlite:")) {
    spec.type = store_spec::kind::sqlite;
    spec.target = text.substr(7);
    if (spec.target.empty()) {
      return cano::error::configuration("--store sqlite: needs the path of a checkpoint file (sqlite:PATH)");
    }
    spec.shown = "sqlite:" + spec.target;
    return spec;
  }
  if (starts_with(text, "postgres://") || starts_with(text, "postgresql://")) {
    spec.type = store_spec::kind::postgres;
    spec.target = text;
  } else if (starts_with(text, "postgres:") || starts_with(text, "postgresql:")) {
    spec.type = store_spec::kind::postgres;
    spec.target = text.substr(text.find(':') + 1);
  } else {
    auto colon = text.find(':');
    auto scheme = colon == std::string::npos ? std::string() : text.substr(0, colon);
    // Only the scheme is repeated: the rest may hold a password.
    return cano::error::configuration((scheme.empty() ? std::string("--store needs a kind of store")
                                                      : "--store names an unknown kind of store \"" + scheme + "\"") +
                                      ": use sqlite:PATH or postgres:DSN (key/value or postgres:// URI)");
  }
  if (spec.target.empty()) {
    return cano::error::configuration("--store postgres: needs a connection string (postgres:host=... dbname=...)");
  }
  spec.shown = scrub(spec.target, spec);
  if (!starts_with(spec.target, "postgres")) {
    spec.shown = "postgres:" + spec.shown;
  }
  return spec;
}

cano::expected<std::shared_ptr<cano::CheckpointStore>> open_store(const store_spec& spec, store_access access) {
  auto fail = [&spec](const cano::error& e) {
    return cano::error::checkpoint_store("cannot open the store " + spec.shown + ": " + scrub(e.message(), spec));
  };
  if (spec.type == store_spec::kind::sqlite) {
    cano::SqliteCheckpointStore::Options opts;
    opts.create = false; // a mistyped path is an error, not a new empty store
    opts.read_only = access == store_access::read;
    auto store = cano::SqliteCheckpointStore::open(spec.target, opts);
    if (!store) {
      return fail(store.error());
    }
    return std::shared_ptr<cano::CheckpointStore>(*store);
  }
  cano::PostgresOptions opts;
  opts.dsn = spec.target;
  opts.retry_deadline = std::chrono::seconds(5); // a tool answers soon: no long wait for a server
  opts.read_only = access == store_access::read;
  auto store = cano::PostgresCheckpointStore::open(opts);
  if (!store) {
    return fail(store.error());
  }
  return std::shared_ptr<cano::CheckpointStore>(*store);
}

} // namespace cano_cli
