#include "text_table.hpp"

#include <algorithm>
#include <cstdlib>
#include <numeric>

#include <sys/ioctl.h>
#include <unistd.h>

namespace cano_cli {

namespace {

constexpr const char* ellipsis = "\xE2\x80\xA6"; // U+2026, one column
constexpr std::size_t gap = 2;                   // spaces between columns

bool continuation_byte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

std::string pad(const std::string& text, std::size_t width, bool right) {
  auto w = display_width(text);
  if (w >= width) {
    return text;
  }
  std::string fill(width - w, ' ');
  return right ? fill + text : text + fill;
}

} // namespace

std::size_t display_width(const std::string& text) {
  return static_cast<std::size_t>(
    std::count_if(text.begin(), text.end(), [](char c) { return !continuation_byte(c); }));
}

std::string cut_to(const std::string& text, std::size_t width) {
  if (display_width(text) <= width) {
    return text;
  }
  if (width == 0) {
    return {};
  }
  // Keep width - 1 characters, then the ellipsis.
  std::size_t kept = 0, i = 0;
  while (i < text.size()) {
    if (!continuation_byte(text[i])) {
      if (kept == width - 1) {
        break;
      }
      ++kept;
    }
    ++i;
  }
  return text.substr(0, i) + ellipsis;
}

std::string printable(const std::string& text) {
  std::string out = text;
  for (auto& c : out) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) {
      c = ' ';
    }
  }
  return out;
}

std::size_t output_width(std::size_t requested) {
  if (requested > 0) {
    return requested;
  }
  winsize ws{};
  if (isatty(STDOUT_FILENO) != 0 && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20) {
    return ws.ws_col;
  }
  if (const char* columns = std::getenv("COLUMNS")) {
    char* end = nullptr;
    auto n = std::strtoul(columns, &end, 10);
    if (end != columns && *end == '\0' && n >= 20 && n <= 1000) {
      return n;
    }
  }
  return 80;
}

text_table::text_table(std::vector<column> columns) : columns_(std::move(columns)) {}

void text_table::add(std::vector<cell> row) {
  row.resize(columns_.size());
  for (auto& c : row) {
    for (auto& line : c) {
      line = printable(line);
    }
  }
  rows_.push_back(std::move(row));
}

std::string text_table::render(std::size_t width) const {
  const auto n = columns_.size();
  std::vector<std::size_t> widths(n), floors(n);
  for (std::size_t c = 0; c < n; ++c) {
    widths[c] = display_width(columns_[c].header);
    for (const auto& row : rows_) {
      for (const auto& line : row[c]) {
        widths[c] = std::max(widths[c], display_width(line));
      }
    }
    floors[c] = columns_[c].whole ? widths[c] : std::min(widths[c], std::max(columns_[c].min_width, std::size_t{1}));
  }
  const bool any_whole = std::any_of(columns_.begin(), columns_.end(), [](const column& c) { return c.whole; });
  auto total = [&] { return std::accumulate(widths.begin(), widths.end(), std::size_t{0}) + gap * (n - 1); };
  // Shrink the widest column that can still shrink, one column of text at a time.
  while (n > 0 && total() > width) {
    std::size_t widest = n;
    for (std::size_t c = 0; c < n; ++c) {
      if (widths[c] > floors[c] && (widest == n || widths[c] > widths[widest])) {
        widest = c;
      }
    }
    if (widest == n) {
      break; // every column at its floor: the line runs over rather than lose whole columns
    }
    --widths[widest];
  }
  std::string out;
  auto emit = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (std::size_t c = 0; c < n; ++c) {
      auto text = cut_to(cells[c], widths[c]);
      line += c + 1 == n && !columns_[c].right_aligned ? text : pad(text, widths[c], columns_[c].right_aligned);
      if (c + 1 < n) {
        line += std::string(gap, ' ');
      }
    }
    while (!line.empty() && line.back() == ' ') {
      line.pop_back();
    }
    // Columns at their floors may still not fit: cut the line, unless that would cut a whole one.
    out += (any_whole ? line : cut_to(line, width)) + "\n";
  };
  std::vector<std::string> header;
  for (const auto& c : columns_) {
    header.push_back(c.header);
  }
  emit(header);
  for (const auto& row : rows_) {
    std::size_t lines = 1;
    for (const auto& c : row) {
      lines = std::max(lines, c.size());
    }
    for (std::size_t l = 0; l < lines; ++l) {
      std::vector<std::string> cells(n);
      for (std::size_t c = 0; c < n; ++c) {
        if (l < row[c].size()) {
          cells[c] = row[c][l];
        }
      }
      emit(cells);
    }
  }
  return out;
}

} // namespace cano_cli
