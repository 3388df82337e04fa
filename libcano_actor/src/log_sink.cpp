#include "cano/log_sink.hpp"

#include <cstdio>

#include "format.hpp"

namespace cano {

const char* to_string(log_level level) noexcept {
  switch (level) {
    case log_level::trace: return "trace";
    case log_level::debug: return "debug";
    case log_level::info: return "info";
    case log_level::warn: return "warn";
    case log_level::error: return "error";
    case log_level::off: return "off";
  }
  return "off";
}

const std::string* log_record::field(const std::string& key) const {
  for (const auto& f : fields) {
    if (f.key == key) {
      return &f.value;
    }
  }
  return nullptr;
}

namespace {

bool needs_quotes(const std::string& v) {
  if (v.empty()) {
    return true;
  }
  for (char c : v) {
    auto u = static_cast<unsigned char>(c);
    if (c == ' ' || c == '=' || c == '"' || c == '\\' || u < 0x20 || u == 0x7F) {
      return true;
    }
  }
  return false;
}

class stderr_sink final : public log_sink {
public:
  void write(const log_record& record) override {
    // One fwrite per line, so concurrent lines do not interleave.
    std::string out = "cano: " + logfmt(record) + "\n";
    std::fwrite(out.data(), 1, out.size(), stderr);
  }
};

bool is_key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/// Masks the value after `key=` wherever `key` ends a word (conninfo style: `password=abc`,
/// `password='a b'`).
void mask_pairs(std::string& text, const std::string& key) {
  std::size_t from = 0;
  for (;;) {
    auto at = text.find(key + "=", from);
    if (at == std::string::npos) {
      return;
    }
    from = at + key.size() + 1;
    if (at > 0 && is_key_char(text[at - 1])) {
      continue; // part of a longer word ("nopassword=")
    }
    std::size_t end = from;
    if (end < text.size() && (text[end] == '\'' || text[end] == '"')) {
      char q = text[end];
      ++end;
      while (end < text.size() && text[end] != q) {
        end += text[end] == '\\' ? 2 : 1;
      }
      end = end < text.size() ? end + 1 : text.size();
    } else {
      while (end < text.size() && text[end] != ' ' && text[end] != '&' && text[end] != ';' && text[end] != ',' &&
             text[end] != '\n') {
        ++end;
      }
    }
    if (end > from) {
      text.replace(from, end - from, "***");
      from += 3;
    }
  }
}

/// Masks the password of `scheme://user:password@host`.
void mask_uri_passwords(std::string& text) {
  std::size_t from = 0;
  for (;;) {
    auto scheme_end = text.find("://", from);
    if (scheme_end == std::string::npos) {
      return;
    }
    auto start = scheme_end + 3;
    auto stop = text.find_first_of(" /?#\"'\n", start);
    auto authority_end = stop == std::string::npos ? text.size() : stop;
    auto at = text.rfind('@', authority_end == 0 ? 0 : authority_end - 1);
    from = start;
    if (at == std::string::npos || at < start || at >= authority_end) {
      continue;
    }
    auto colon = text.find(':', start);
    if (colon == std::string::npos || colon > at) {
      continue;
    }
    text.replace(colon + 1, at - colon - 1, "***");
    from = colon + 4;
  }
}

} // namespace

std::string logfmt(const log_record& record) {
  std::string out = detail::escape_controls(record.message);
  for (const auto& f : record.fields) {
    if (!out.empty()) {
      out += ' ';
    }
    out += f.key;
    out += '=';
    out += f.quoted && needs_quotes(f.value) ? detail::debug_quote(f.value) : detail::escape_controls(f.value);
  }
  return out;
}

std::shared_ptr<log_sink> stderr_log_sink() {
  static const auto sink = std::make_shared<stderr_sink>();
  return sink;
}

std::string mask_secrets(std::string text) {
  for (const char* key : {"password", "pass", "secret", "token", "sslpassword", "PGPASSWORD"}) {
    mask_pairs(text, key);
  }
  mask_uri_passwords(text);
  return text;
}

} // namespace cano
