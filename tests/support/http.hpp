// A tiny HTTP/1.0 client for tests (127.0.0.1 only, bounded waits) and a reader of Prometheus'
// text exposition format, so metric tests assert on what an endpoint really serves.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace test {

struct http_response {
  int status = 0; // 0: no answer (connection refused, timed out)
  std::string headers;
  std::string body;
  std::string error;
};

/// `method path` against 127.0.0.1:port, read to the end (HTTP/1.0: the server closes).
inline http_response http_request(std::uint16_t port, const std::string& method, const std::string& path,
                                  std::chrono::milliseconds limit = std::chrono::seconds(30)) {
  http_response r;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    r.error = "socket failed";
    return r;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    r.error = std::string("connect: ") + std::strerror(errno);
    ::close(fd);
    return r;
  }
  std::string request = method + " " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  request += method == "POST" ? "Content-Length: 0\r\n\r\n" : "\r\n";
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string raw;
  auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      r.error = "timed out";
      break;
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      continue;
    }
    char buf[16384];
    auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      break;
    }
    raw.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  auto end = raw.find("\r\n\r\n");
  if (raw.compare(0, 5, "HTTP/") != 0 || end == std::string::npos) {
    if (r.error.empty()) {
      r.error = "not an HTTP answer: " + raw.substr(0, 200);
    }
    return r;
  }
  r.status = std::stoi(raw.substr(raw.find(' ') + 1, 3));
  r.headers = raw.substr(0, end);
  r.body = raw.substr(end + 4);
  return r;
}

inline http_response http_get(std::uint16_t port, const std::string& path) { return http_request(port, "GET", path); }

/// The samples of one scrape, by series: "name{k1=\"v1\",k2=\"v2\"}" with labels sorted.
class scrape {
public:
  explicit scrape(const std::string& text) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') {
        continue;
      }
      parse(line);
    }
  }

  /// The sample's value, or NaN when the series is absent.
  double value(const std::string& name, const std::map<std::string, std::string>& labels = {}) const {
    auto it = samples_.find(key(name, labels));
    return it == samples_.end() ? std::numeric_limits<double>::quiet_NaN() : it->second;
  }
  /// The value, or 0 when absent (Prometheus counts a missing counter as zero).
  double count(const std::string& name, const std::map<std::string, std::string>& labels = {}) const {
    auto v = value(name, labels);
    return std::isnan(v) ? 0.0 : v;
  }
  bool has(const std::string& name, const std::map<std::string, std::string>& labels = {}) const {
    return samples_.count(key(name, labels)) != 0;
  }
  /// Every series whose name is `name` (any labels).
  std::vector<std::pair<std::string, double>> series(const std::string& name) const {
    std::vector<std::pair<std::string, double>> out;
    for (const auto& [k, v] : samples_) {
      if (k == name || k.rfind(name + "{", 0) == 0) {
        out.emplace_back(k, v);
      }
    }
    return out;
  }
  std::size_t size() const { return samples_.size(); }

  static std::string key(const std::string& name, const std::map<std::string, std::string>& labels) {
    if (labels.empty()) {
      return name;
    }
    std::string out = name + "{";
    bool first = true;
    for (const auto& [k, v] : labels) {
      out += (first ? "" : ",") + k + "=\"" + v + "\"";
      first = false;
    }
    return out + "}";
  }

private:
  void parse(const std::string& line) {
    auto brace = line.find('{');
    auto space = line.find(' ');
    std::string name;
    std::map<std::string, std::string> labels;
    std::size_t rest = 0;
    if (brace != std::string::npos && brace < space) {
      name = line.substr(0, brace);
      std::size_t i = brace + 1;
      while (i < line.size() && line[i] != '}') {
        auto eq = line.find('=', i);
        auto label = line.substr(i, eq - i);
        std::string value;
        std::size_t j = eq + 2; // past ="
        while (j < line.size() && line[j] != '"') {
          if (line[j] == '\\' && j + 1 < line.size()) {
            ++j;
            value += line[j] == 'n' ? '\n' : line[j];
          } else {
            value += line[j];
          }
          ++j;
        }
        labels[label] = value;
        i = j + 1;
        if (i < line.size() && line[i] == ',') {
          ++i;
        }
      }
      rest = i + 2; // past "} "
    } else {
      name = line.substr(0, space);
      rest = space + 1;
    }
    auto value_text = line.substr(rest);
    auto end = value_text.find(' '); // an optional timestamp follows
    samples_[key(name, labels)] = std::stod(value_text.substr(0, end));
  }

  std::map<std::string, double> samples_;
};

/// Scrapes http://127.0.0.1:port/metrics.
inline scrape scrape_metrics(std::uint16_t port) {
  auto r = http_get(port, "/metrics");
  if (r.status != 200) {
    throw std::runtime_error("scrape of 127.0.0.1:" + std::to_string(port) +
                             "/metrics failed: " + (r.error.empty() ? "status " + std::to_string(r.status) : r.error));
  }
  return scrape(r.body);
}

} // namespace test
