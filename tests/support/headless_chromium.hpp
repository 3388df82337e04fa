// Headless Chromium for tests of web pages: the DOM a page has once loaded (--dump-dom, scripts
// and styles applied, serialized back as HTML) and screenshots. Each call is one browser with a
// throwaway profile, in a process group of its own that is killed and reaped when the call
// returns. The binary's path comes from CMake (CANO_CHROMIUM, Debian package `chromium`).
#pragma once

#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include "support/command.hpp"
#include "support/temp_dir.hpp"

namespace test {

#ifndef CANO_CHROMIUM
#define CANO_CHROMIUM ""
#endif

/// The browser's path; empty when CMake found none.
inline std::string chromium_path() { return CANO_CHROMIUM; }

/// Runs headless Chromium with `args` (and a profile of its own) to its end, at most `limit`.
inline command_result run_chromium(std::vector<std::string> args,
                                   std::chrono::seconds limit = std::chrono::seconds(90)) {
  temp_dir profile;
  // --no-sandbox: the tests may run as root, where Chromium's sandbox refuses to start.
  std::vector<std::string> argv{chromium_path(),
                                "--headless",
                                "--no-sandbox",
                                "--disable-gpu",
                                "--no-first-run",
                                "--no-default-browser-check",
                                "--disable-extensions",
                                "--disable-crash-reporter",
                                "--user-data-dir=" + profile.path()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, {}, {}, limit, true);
}

/// The DOM of `url` after it loaded (what the browser shows, not the bytes the server sent).
inline command_result browser_dom(const std::string& url) { return run_chromium({"--dump-dom", url}); }

/// A PNG screenshot of `url` at width × height into `png_path`.
inline command_result browser_screenshot(const std::string& url, const std::string& png_path, int width = 1280,
                                         int height = 900) {
  return run_chromium({"--screenshot=" + png_path,
                       "--window-size=" + std::to_string(width) + "," + std::to_string(height), "--hide-scrollbars",
                       url});
}

/// True when `path` holds a PNG image (its signature) of at least `min_bytes`.
inline bool is_png(const std::string& path, std::size_t min_bytes) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return bytes.size() >= min_bytes && bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0;
}

} // namespace test
