#include "format.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cxxabi.h>
#include <memory>
#include <typeinfo>

#include "cano/resources.hpp"
#include "cano/task.hpp"

namespace cano::detail {

std::string debug_quote(const std::string& s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('"');
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: out.push_back(c);
    }
  }
  out.push_back('"');
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
  std::unique_ptr<char, void (*)(void*)> out(abi::__cxa_demangle(mangled, nullptr, nullptr, &status),
                                             std::free);
  return status == 0 && out ? std::string(out.get()) : std::string(mangled);
}

std::string type_name_of(const std::type_info& info) { return demangle(info.name()); }

error unimplemented_task_error(const std::string& type_name) {
  return error::configuration("Task<" + type_name +
                              ">: neither `run` nor `run_bare` was implemented; override one of them");
}

} // namespace cano::detail
