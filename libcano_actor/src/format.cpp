#include "format.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cxxabi.h>
#include <memory>
#include <typeinfo>

#include "cano/debug_quote.hpp"
#include "cano/resources.hpp"
#include "cano/task.hpp"

namespace cano::detail {

namespace {

/// Decodes one UTF-8 code point at `s[i]` (strict: no overlong forms, surrogates or values past
/// U+10FFFF). Returns its length, or 0 when the byte at `i` does not start a valid sequence.
std::size_t decode_utf8(const std::string& s, std::size_t i, char32_t& cp) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  auto cont = [&](std::size_t k) { return k < s.size() && (byte(k) & 0xC0) == 0x80; };
  unsigned char b = byte(i);
  if (b < 0x80) {
    cp = b;
    return 1;
  }
  std::size_t len = 0;
  char32_t min = 0;
  if ((b & 0xE0) == 0xC0) {
    len = 2, cp = b & 0x1F, min = 0x80;
  } else if ((b & 0xF0) == 0xE0) {
    len = 3, cp = b & 0x0F, min = 0x800;
  } else if ((b & 0xF8) == 0xF0) {
    len = 4, cp = b & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  for (std::size_t k = 1; k < len; ++k) {
    if (!cont(i + k)) {
      return 0;
    }
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    return 0;
  }
  return len;
}

/// Code points Rust's Debug prints as \u{...} that we recognise: controls (Cc), separators other
/// than the ASCII space (Zs, Zl, Zp), the common format characters (Cf: soft hyphen, zero-width
/// and direction marks, bidi embeddings and isolates, the BOM, ...), private use (Co) and
/// noncharacters. Unassigned code points and combining marks, which Rust also escapes, print
/// as they are here.
bool escaped_as_unicode(char32_t c) {
  struct range {
    char32_t lo, hi;
  };
  static constexpr range ranges[] = {
    {0x0000, 0x001F}, {0x007F, 0x009F},   {0x00A0, 0x00A0},   {0x00AD, 0x00AD},    {0x0600, 0x0605}, {0x061C, 0x061C},
    {0x06DD, 0x06DD}, {0x070F, 0x070F},   {0x1680, 0x1680},   {0x180E, 0x180E},    {0x2000, 0x200F}, {0x2028, 0x202F},
    {0x205F, 0x2064}, {0x2066, 0x206F},   {0x3000, 0x3000},   {0xE000, 0xF8FF},    {0xFDD0, 0xFDEF}, {0xFEFF, 0xFEFF},
    {0xFFF9, 0xFFFB}, {0xE0001, 0xE0001}, {0xE0020, 0xE007F}, {0xF0000, 0x10FFFF},
  };
  for (const auto& r : ranges) {
    if (c >= r.lo && c <= r.hi) {
      return true;
    }
  }
  return (c & 0xFFFE) == 0xFFFE; // U+FFFE, U+FFFF, U+1FFFE, ... (noncharacters)
}

/// Appends `s` escaped like Rust's str Debug (without the surrounding quotes). With
/// `quote_specials` false, `"` and `\` stay as they are (for whole log lines).
void escape_debug_into(std::string& out, const std::string& s, bool quote_specials) {
  static const char* hex = "0123456789abcdef";
  static const char* upper_hex = "0123456789ABCDEF";
  for (std::size_t i = 0; i < s.size();) {
    char32_t c = 0;
    auto len = decode_utf8(s, i, c);
    if (len == 0) { // not UTF-8: the byte itself, like Rust's Debug of lossy bytes
      auto b = static_cast<unsigned char>(s[i]);
      out += "\\x";
      out.push_back(upper_hex[b >> 4]);
      out.push_back(upper_hex[b & 0xF]);
      ++i;
      continue;
    }
    switch (c) {
      case U'\0': out += "\\0"; break;
      case U'\t': out += "\\t"; break;
      case U'\r': out += "\\r"; break;
      case U'\n': out += "\\n"; break;
      case U'"': out += quote_specials ? "\\\"" : "\""; break;
      case U'\\': out += quote_specials ? "\\\\" : "\\"; break;
      default:
        if (escaped_as_unicode(c)) {
          std::string digits;
          for (auto v = static_cast<std::uint32_t>(c); v != 0 || digits.empty(); v >>= 4) {
            digits.insert(digits.begin(), hex[v & 0xF]);
          }
          out += "\\u{" + digits + "}";
        } else {
          out.append(s, i, len);
        }
    }
    i += len;
  }
}

} // namespace

std::string debug_quote(const std::string& s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('"');
  escape_debug_into(out, s, true);
  out.push_back('"');
  return out;
}

std::string escape_controls(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  escape_debug_into(out, s, false);
  return out;
}

std::string display_float(double v) {
  if (std::isnan(v)) {
    return "NaN";
  }
  if (std::isinf(v)) {
    return v > 0 ? "inf" : "-inf";
  }
  char buf[64];
  // Shortest round-trip digits, written without an exponent like Rust's Display.
  auto res = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed);
  return std::string(buf, res.ptr);
}

std::string debug_float(double v) {
  auto out = display_float(v);
  if (std::isfinite(v) && out.find_first_of(".e") == std::string::npos) {
    out += ".0";
  }
  return out;
}

std::string debug_duration(std::chrono::nanoseconds d) {
  // Rust's Debug picks the largest unit with a non-zero integer part and prints the rest as a
  // trimmed fraction: 1.5s, 50ms, 250µs, 10ns.
  auto ns = static_cast<unsigned long long>(d.count() < 0 ? 0 : d.count());
  struct unit {
    unsigned long long size;
    const char* suffix;
  };
  const unit units[] = {{1000000000ULL, "s"}, {1000000ULL, "ms"}, {1000ULL, "µs"}, {1ULL, "ns"}};
  for (const auto& u : units) {
    if (ns >= u.size || u.size == 1) {
      auto whole = ns / u.size;
      auto frac = ns % u.size;
      std::string out = std::to_string(whole);
      if (frac != 0) {
        std::string digits = std::to_string(frac + u.size).substr(1); // zero-padded
        while (!digits.empty() && digits.back() == '0') {
          digits.pop_back();
        }
        out += "." + digits;
      }
      return out + u.suffix;
    }
  }
  return "0ns";
}

std::string demangle(const char* mangled) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> out(abi::__cxa_demangle(mangled, nullptr, nullptr, &status), std::free);
  return status == 0 && out ? std::string(out.get()) : std::string(mangled);
}

std::string type_name_of(const std::type_info& info) { return demangle(info.name()); }

error unimplemented_task_error(const std::string& type_name) {
  return error::configuration("Task<" + type_name +
                              ">: neither `run` nor `run_bare` was implemented; override one of them");
}

} // namespace cano::detail

namespace cano {

std::string debug_quote(const std::string& s) { return detail::debug_quote(s); }

} // namespace cano
