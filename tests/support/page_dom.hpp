#pragma once
// Reading the status page's DOM (as headless Chromium serializes it) in tests.

#include <cstddef>
#include <string>

namespace test {

/// The part of `dom` from the element with id `id` to the end of its table ("" when absent).
inline std::string table_of(const std::string& dom, const std::string& id) {
  auto start = dom.find("id=\"" + id + "\"");
  if (start == std::string::npos) {
    return {};
  }
  auto end = dom.find("</table>", start);
  return dom.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

/// The data-status of the table row whose link text is `id_text` (as the DOM serializes it), or
/// "<absent>".
inline std::string row_status(const std::string& table, const std::string& id_text) {
  auto at = table.find(">" + id_text + "</a>");
  if (at == std::string::npos) {
    return "<absent>";
  }
  auto attr = table.rfind("data-status=\"", at);
  if (attr == std::string::npos) {
    return "<absent>";
  }
  attr += 13;
  return table.substr(attr, table.find('"', attr) - attr);
}

/// How many times `what` occurs in `text`, without overlaps.
inline std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) {
    ++n;
  }
  return n;
}

} // namespace test
