#include "store_access.hpp"

#include <cctype>

#include "cano/postgres_checkpoint_store.hpp"
#include "cano/sqlite_checkpoint_store.hpp"

namespace cano_cli {

namespace {

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0;
}

std::string percent_decode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

/// The password of a URI: user:PASSWORD@host, or a password=... query parameter.
std::string uri_password(const std::string& uri) {
  auto start = uri.find("://");
  if (start == std::string::npos) {
    return {};
  }
  start += 3;
  auto end = uri.find_first_of("/?", start);
  auto authority = uri.substr(start, end == std::string::npos ? std::string::npos : end - start);
  auto at = authority.rfind('@');
  if (at != std::string::npos) {
    auto userinfo = authority.substr(0, at);
    auto colon = userinfo.find(':');
    if (colon != std::string::npos) {
      return userinfo.substr(colon + 1);
    }
  }
  auto query = uri.find('?');
  while (query != std::string::npos) {
    auto next = uri.find('&', query + 1);
    auto param =
      uri.substr(query + 1, next == std::string::npos ? std::string::npos : next - query - 1);
    if (starts_with(param, "password=")) {
      return param.substr(9);
    }
    query = next;
  }
  return {};
}

/// The password of a key/value connection string (libpq's syntax: key = value, values quoted
/// with '...' and backslash escapes).
std::string keyword_password(const std::string& dsn) {
  std::size_t i = 0;
  auto skip_spaces = [&] {
    while (i < dsn.size() && std::isspace(static_cast<unsigned char>(dsn[i]))) {
      ++i;
    }
  };
  while (i < dsn.size()) {
    skip_spaces();
    auto key_start = i;
    while (i < dsn.size() && dsn[i] != '=' && !std::isspace(static_cast<unsigned char>(dsn[i]))) {
      ++i;
    }
    auto key = dsn.substr(key_start, i - key_start);
    skip_spaces();
    if (i >= dsn.size() || dsn[i] != '=') {
      return {}; // not key/value syntax: libpq will say so
    }
    ++i;
    skip_spaces();
    std::string value;
    if (i < dsn.size() && dsn[i] == '\'') {
      ++i;
      while (i < dsn.size() && dsn[i] != '\'') {
        if (dsn[i] == '\\' && i + 1 < dsn.size()) {
          ++i;
        }
        value.push_back(dsn[i++]);
      }
      ++i;
    } else {
      while (i < dsn.size() && !std::isspace(static_cast<unsigned char>(dsn[i]))) {
        if (dsn[i] == '\\' && i + 1 < dsn.size()) {
          ++i;
        }
        value.push_back(dsn[i++]);
      }
    }
    if (key == "password") {
      return value;
    }
  }
  return {};
}

void replace_all(std::string& text, const std::string& what, const std::string& with) {
  if (what.empty()) {
    return;
  }
  for (auto pos = text.find(what); pos != std::string::npos;
       pos = text.find(what, pos + with.size())) {
    text.replace(pos, what.size(), with);
  }
}

} // namespace

std::string dsn_password(const std::string& dsn) {
  if (starts_with(dsn, "postgres://") || starts_with(dsn, "postgresql://")) {
    return uri_password(dsn);
  }
  return keyword_password(dsn);
}

std::string scrub(std::string text, const store_spec& spec) {
  if (spec.password.empty()) {
    return text;
  }
  replace_all(text, spec.password, "***");
  replace_all(text, percent_decode(spec.password), "***");
  return text;
}

cano::expected<store_spec> parse_store_spec(const std::string& text) {
  store_spec spec;
  if (starts_with(text, "sqlite:")) {
    spec.type = store_spec::kind::sqlite;
    spec.target = text.substr(7);
    if (spec.target.empty()) {
      return cano::error::configuration(
        "--store sqlite: needs the path of a checkpoint file (sqlite:PATH)");
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
    return cano::error::configuration(
      (scheme.empty() ? std::string("--store needs a kind of store")
                      : "--store names an unknown kind of store \"" + scheme + "\"") +
      ": use sqlite:PATH or postgres:DSN (key/value or postgres:// URI)");
  }
  if (spec.target.empty()) {
    return cano::error::configuration(
      "--store postgres: needs a connection string (postgres:host=... dbname=...)");
  }
  spec.password = dsn_password(spec.target);
  spec.shown = "postgres:" + scrub(spec.target, spec);
  if (starts_with(spec.target, "postgres")) {
    spec.shown = scrub(spec.target, spec);
  }
  return spec;
}

cano::expected<std::shared_ptr<cano::CheckpointStore>> open_store(const store_spec& spec) {
  auto fail = [&spec](const cano::error& e) {
    return cano::error::checkpoint_store("cannot open the store " + spec.shown + ": " +
                                         scrub(e.message(), spec));
  };
  if (spec.type == store_spec::kind::sqlite) {
    cano::SqliteCheckpointStore::Options opts;
    opts.create = false; // a mistyped path is an error, not a new empty store
    auto store = cano::SqliteCheckpointStore::open(spec.target, opts);
    if (!store) {
      return fail(store.error_value());
    }
    return std::shared_ptr<cano::CheckpointStore>(*store);
  }
  cano::PostgresOptions opts;
  opts.dsn = spec.target;
  opts.retry_deadline = std::chrono::seconds(5); // a tool answers soon: no long wait for a server
  auto store = cano::PostgresCheckpointStore::open(opts);
  if (!store) {
    return fail(store.error_value());
  }
  return std::shared_ptr<cano::CheckpointStore>(*store);
}

} // namespace cano_cli
