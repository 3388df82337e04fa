// Tables for a terminal: columns sized to their contents and shrunk to fit a width, cells cut
// with "…", multi-line cells (a pretty-printed JSON blob) continued on the rows below, and
// control characters from the data never reaching the terminal.
//
//   text_table t({{"ID"}, {"STATUS"}, {"ATT", 3, true}});
//   t.add({{"order-1"}, {"completed"}, {"1"}});
//   std::cout << t.render(80);
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace cano_cli {

/// Display columns of UTF-8 text (code points; every character counts as one column).
std::size_t display_width(const std::string& text);
/// `text` cut to `width` columns, ending in "…" when cut.
std::string cut_to(const std::string& text, std::size_t width);
/// `text` with control characters (newlines too) shown as spaces: data never drives the terminal.
std::string printable(const std::string& text);
/// The width to draw for: `requested` when non-zero, else the terminal's (stdout a terminal),
/// else $COLUMNS, else 80.
std::size_t output_width(std::size_t requested);

class text_table {
public:
  struct column {
    std::string header;
    std::size_t min_width = 4; // never shrunk below this (nor below the header's width, if smaller)
    bool right_aligned = false;
    /// Never cut (ids must stay whole to be copied): rows run over the width instead.
    bool whole = false;
  };
  /// One cell: one line, or several (continued under the same column on the rows below).
  using cell = std::vector<std::string>;

  explicit text_table(std::vector<column> columns);
  void add(std::vector<cell> row);
  /// The table, header first, fitted into `width` columns: the widest columns shrink first.
  std::string render(std::size_t width) const;
  bool empty() const noexcept { return rows_.empty(); }

private:
  std::vector<column> columns_;
  std::vector<std::vector<cell>> rows_;
};

} // namespace cano_cli
