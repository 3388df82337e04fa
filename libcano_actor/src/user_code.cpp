#include "user_code.hpp"

#include <exception>

namespace cano::detail {

std::string current_exception_text() {
  try {
    throw;
  } catch (const std::exception& e) {
    try {
      return e.what();
    } catch (...) {
      return "<an exception whose what() threw>";
    }
  } catch (const std::string& s) {
    return s;
  } catch (const char* s) {
    return s == nullptr ? std::string("<non-string panic payload>") : std::string(s);
  } catch (...) {
    return "<non-string panic payload>";
  }
}

} // namespace cano::detail
