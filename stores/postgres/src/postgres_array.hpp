// A PostgreSQL array literal built from values, bound as one parameter: values never become SQL
// text, and a statement keeps its text whatever the number of values.
#pragma once

#include <optional>
#include <string>

namespace cano::detail {

/// A PostgreSQL array literal ({"a","b",NULL}) built from values, for one array parameter:
/// the values never become SQL text, only a parameter's contents.
class array_literal {
public:
  void add(const std::string& value) {
    sep();
    text_.push_back('"');
    for (char c : value) {
      if (c == '"' || c == '\\') {
        text_.push_back('\\');
      }
      text_.push_back(c);
    }
    text_.push_back('"');
  }
  void add_null() {
    sep();
    text_ += "NULL";
  }
  void add_optional(const std::optional<std::string>& value) {
    if (value) {
      add(*value);
    } else {
      add_null();
    }
  }
  std::string text() const { return text_ + "}"; }

private:
  void sep() {
    if (text_.size() > 1) {
      text_.push_back(',');
    }
  }
  std::string text_ = "{";
};

} // namespace cano::detail
