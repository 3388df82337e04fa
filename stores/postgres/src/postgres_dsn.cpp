#include "postgres_dsn.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <memory>
#include <optional>

#include <libpq-fe.h>

#include "cano/postgres_checkpoint_store.hpp"

namespace cano::detail {

namespace {

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

/// %XX decoding as libpq does it for URIs; nothing when an escape is malformed.
std::optional<std::string> percent_decode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size() || !std::isxdigit(static_cast<unsigned char>(s[i + 1])) ||
        !std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      return std::nullopt;
    }
    out.push_back(static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16)));
    i += 2;
  }
  return out;
}

/// Where a password may be written in a URI DSN: everything after the first ':' of what could
/// be the user info (up to the last '@' before the query, so a password holding '/' or '@' is
/// covered, whatever libpq makes of it), and every `password=` query value.
void uri_ranges(const std::string& dsn, std::size_t prefix, std::vector<dsn_secrets::range>& out) {
  auto query = dsn.find('?', prefix);
  auto end_of_authority = query == std::string::npos ? dsn.size() : query;
  auto at = dsn.rfind('@', end_of_authority == 0 ? 0 : end_of_authority - 1);
  if (at != std::string::npos && at >= prefix) {
    auto colon = dsn.find(':', prefix);
    if (colon < at) {
      out.push_back({colon + 1, at - colon - 1});
    }
  }
  if (query == std::string::npos) {
    return;
  }
  for (std::size_t start = query + 1; start <= dsn.size();) {
    auto end = std::min(dsn.find('&', start), dsn.size());
    auto eq = dsn.find('=', start);
    if (eq < end && percent_decode(dsn.substr(start, eq - start)).value_or("") == "password") {
      out.push_back({eq + 1, end - eq - 1});
    }
    start = end + 1;
  }
}

/// Where a password is written in a key/value DSN, read the way libpq reads it: the raw value
/// (quotes and backslashes included, up to an unterminated end), and the value it stands for.
void keyword_ranges(const std::string& dsn, std::vector<dsn_secrets::range>& out, std::vector<std::string>& values,
                    std::vector<std::string>& keys) {
  std::size_t i = 0;
  const auto n = dsn.size();
  while (i < n) {
    while (i < n && is_space(dsn[i])) {
      ++i;
    }
    auto key_start = i;
    while (i < n && !is_space(dsn[i]) && dsn[i] != '=') {
      ++i;
    }
    auto key = dsn.substr(key_start, i - key_start);
    while (i < n && is_space(dsn[i])) {
      ++i;
    }
    if (i >= n || dsn[i] != '=') {
      continue; // libpq rejects this; the keyword itself holds no value
    }
    // Only a word followed by '=' is an option name: a word without one may be the rest of an
    // unquoted password that held a space.
    if (!key.empty() && key != "password") {
      keys.push_back(key);
    }
    ++i;
    while (i < n && is_space(dsn[i])) {
      ++i;
    }
    auto value_start = i;
    std::string value;
    if (i < n && dsn[i] == '\'') {
      for (++i; i < n && dsn[i] != '\''; ++i) {
        if (dsn[i] == '\\' && i + 1 < n) {
          ++i;
        }
        value.push_back(dsn[i]);
      }
      if (i < n) {
        ++i; // the closing quote
      }
    } else {
      for (; i < n && !is_space(dsn[i]); ++i) {
        if (dsn[i] == '\\' && i + 1 < n) {
          ++i;
        }
        value.push_back(dsn[i]);
      }
    }
    if (key == "password") {
      out.push_back({value_start, i - value_start});
      values.push_back(value);
    }
  }
}

/// True when `fragment` and some secret overlap as strings (one holds the other).
bool touches_secret(const std::string& fragment, const std::vector<std::string>& secrets) {
  return std::any_of(secrets.begin(), secrets.end(), [&](const std::string& s) {
    return fragment.find(s) != std::string::npos || s.find(fragment) != std::string::npos;
  });
}

using conninfo_ptr = std::unique_ptr<PQconninfoOption, void (*)(PQconninfoOption*)>;

/// libpq's reading of `dsn` (null when it cannot parse it); its error text is dropped unread, as
/// it may quote the password.
conninfo_ptr parse_conninfo(const std::string& dsn) {
  char* err = nullptr;
  conninfo_ptr options(PQconninfoParse(dsn.c_str(), &err), PQconninfoFree);
  if (err != nullptr) {
    PQfreemem(err);
  }
  return options;
}

/// The options `dsn` sets, keyword to value, leaving out `except`; empty when it cannot be parsed.
std::vector<std::pair<std::string, std::string>> options_set(const conninfo_ptr& options, const char* except) {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto* o = options.get(); o != nullptr && o->keyword != nullptr; ++o) {
    if (o->val != nullptr && std::string(o->keyword) != except) {
      out.emplace_back(o->keyword, o->val);
    }
  }
  return out;
}

} // namespace

std::string with_default_connect_timeout(const std::string& dsn) {
  if (const char* env = std::getenv("PGCONNECT_TIMEOUT"); env != nullptr && *env != '\0') {
    return dsn;
  }
  auto given = parse_conninfo(dsn);
  if (!given) {
    return dsn;
  }
  for (auto* o = given.get(); o->keyword != nullptr; ++o) {
    if (o->val != nullptr && std::string(o->keyword) == "connect_timeout") {
      return dsn;
    }
  }
  auto timeout = "connect_timeout=" + std::to_string(default_connect_timeout_seconds);
  std::string out;
  if (dsn.rfind("postgresql://", 0) == 0 || dsn.rfind("postgres://", 0) == 0) {
    out = dsn + (dsn.find('?') == std::string::npos ? "?" : "&") + timeout;
  } else {
    out = dsn + (dsn.empty() ? "" : " ") + timeout;
  }
  // Only when libpq reads everything else as before (a trailing backslash, say, would swallow
  // the added space).
  auto added = parse_conninfo(out);
  if (!added || options_set(added, "connect_timeout") != options_set(given, "connect_timeout")) {
    return dsn;
  }
  return out;
}

dsn_secrets dsn_secrets::of(const std::string& dsn) {
  dsn_secrets out;
  out.dsn_ = dsn;
  std::vector<std::string> found;
  std::size_t prefix = 0;
  for (const char* scheme : {"postgresql://", "postgres://"}) {
    if (dsn.rfind(scheme, 0) == 0) {
      prefix = std::char_traits<char>::length(scheme);
    }
  }
  if (prefix != 0) {
    uri_ranges(dsn, prefix, out.ranges_);
  } else {
    keyword_ranges(dsn, out.ranges_, found, out.keys_);
  }
  for (const auto& r : out.ranges_) {
    found.push_back(dsn.substr(r.start, r.size));
    if (prefix != 0) {
      if (auto decoded = percent_decode(found.back())) {
        found.push_back(*decoded);
      }
    }
  }
  auto options = parse_conninfo(dsn);
  out.parsed_ = options != nullptr;
  if (options) {
    for (auto* o = options.get(); o->keyword != nullptr; ++o) {
      if (o->val != nullptr && std::string(o->keyword) == "password") {
        found.emplace_back(o->val);
      }
    }
  }
  found.erase(std::remove(found.begin(), found.end(), std::string()), found.end());
  std::sort(found.begin(), found.end(), [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  found.erase(std::unique(found.begin(), found.end()), found.end());
  out.secrets_ = std::move(found);
  return out;
}

bool dsn_secrets::overlaps_range(const std::string& fragment) const {
  for (auto at = dsn_.find(fragment); at != std::string::npos; at = dsn_.find(fragment, at + 1)) {
    for (const auto& r : ranges_) {
      if (at < r.start + r.size && r.start < at + fragment.size()) {
        return true;
      }
    }
  }
  return false;
}

std::string dsn_secrets::scrub(std::string message) const {
  // Quoted fragments first, while they are whole: libpq quotes what it read from the DSN.
  bool hid_fragment = false;
  if (!parsed_ || !secrets_.empty()) {
    std::string rebuilt;
    std::size_t pos = 0;
    for (;;) {
      auto open = message.find('"', pos);
      auto close = open == std::string::npos ? open : message.find('"', open + 1);
      if (close == std::string::npos) {
        rebuilt.append(message, pos, std::string::npos);
        break;
      }
      auto fragment = message.substr(open + 1, close - open - 1);
      rebuilt.append(message, pos, open - pos + 1);
      // "=" and "]" are libpq's own words ('missing "=" after', 'matching "]"'), not the DSN's.
      // "***" is a fragment masked already (a message scrubbed twice).
      bool literal = fragment == "=" || fragment == "]" || fragment == "***";
      // An option name of the DSN ('invalid connection option "bogusopt"') holds no value.
      bool key = std::find(keys_.begin(), keys_.end(), fragment) != keys_.end();
      bool touches = touches_secret(fragment, secrets_) || overlaps_range(fragment);
      bool mask = !fragment.empty() && !literal && (touches || (!parsed_ && !key));
      rebuilt += mask ? "***" : fragment;
      hid_fragment = hid_fragment || mask;
      rebuilt.push_back('"');
      pos = close + 1;
    }
    message = std::move(rebuilt);
  }
  if (!parsed_ && hid_fragment) {
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
      message.pop_back();
    }
    message += " (the connection string could not be parsed; its quoted parts are hidden, as they may hold "
               "its password)";
  }
  for (const auto& secret : secrets_) {
    for (auto at = message.find(secret); at != std::string::npos; at = message.find(secret, at + 3)) {
      message.replace(at, secret.size(), "***");
    }
  }
  return message;
}

} // namespace cano::detail

namespace cano {

std::string mask_dsn_password(const std::string& dsn, std::string text) {
  return detail::dsn_secrets::of(dsn).scrub(std::move(text));
}

} // namespace cano
