// A TCP socket on 127.0.0.1 that listens and never answers: the kernel completes every
// handshake (up to the backlog), nobody accepts or reads. A database that hangs looks like this
// to a client.
#pragma once

#include <cstdint>
#include <string>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace test {

class silent_listener {
public:
  silent_listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 64) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return;
    }
    port_ = ntohs(addr.sin_port);
  }
  ~silent_listener() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  silent_listener(const silent_listener&) = delete;
  silent_listener& operator=(const silent_listener&) = delete;

  /// The port it listens on; 0 when the socket could not be set up.
  std::uint16_t port() const noexcept { return port_; }
  std::string port_text() const { return std::to_string(port_); }

private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

} // namespace test
