#include "tcp_proxy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace support {

// A client's connection and ours to the target (-1: that end is closed),
// forwarded both ways unless silent.
struct link {
  int client;
  int server;
  bool silent = false;
};

namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error("tcp_proxy: " + what + ": " + std::strerror(errno));
}

sockaddr_in loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

// Writes all of `n` bytes (blocking sockets; test traffic is small).
bool write_all(int fd, const char* data, ssize_t n) {
  while (n > 0) {
    auto w = ::send(fd, data, static_cast<std::size_t>(n), MSG_NOSIGNAL);
    if (w <= 0)
      return false;
    data += w;
    n -= w;
  }
  return true;
}

void close_end(int& fd) {
  if (fd >= 0)
    ::close(fd);
  fd = -1;
}

void close_both(link& l) {
  close_end(l.client);
  close_end(l.server);
}

// Moves what `from` has to `to`. A live link closes both ends on EOF or an
// error; a silent one swallows data and closes only the end that closed, so
// the other side learns nothing.
void forward(link& l, int& from, int& to, short revents, std::vector<char>& buffer) {
  if (from < 0 || !(revents & (POLLIN | POLLHUP | POLLERR)))
    return;
  auto n = ::recv(from, buffer.data(), buffer.size(), 0);
  if (l.silent) {
    if (n <= 0)
      close_end(from);
    return;
  }
  if (n <= 0 || !write_all(to, buffer.data(), n))
    close_both(l);
}

} // namespace

tcp_proxy::tcp_proxy(std::string target_host, int target_port)
  : host_(std::move(target_host)), target_port_(target_port) {
  listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (listener_ < 0)
    fail("socket");
  auto addr = loopback(0);
  if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0
      || ::listen(listener_, 16) != 0)
    fail("bind/listen on 127.0.0.1");
  socklen_t len = sizeof addr;
  ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { run(); });
}

tcp_proxy::~tcp_proxy() {
  stop_ = true;
  thread_.join();
  ::close(listener_);
}

void tcp_proxy::accept_link(std::vector<link>& links) {
  int client = ::accept(listener_, nullptr, nullptr);
  if (client < 0)
    return;
  if (cut_) {
    links.push_back({client, -1, true}); // across the partition: nothing answers
    return;
  }
  int server = ::socket(AF_INET, SOCK_STREAM, 0);
  auto target = loopback(target_port_);
  ::inet_pton(AF_INET, host_.c_str(), &target.sin_addr);
  if (::connect(server, reinterpret_cast<sockaddr*>(&target), sizeof target) != 0) {
    ::close(client); // the client sees the refusal, as without the proxy
    ::close(server);
    return;
  }
  int one = 1;
  ::setsockopt(server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  links.push_back({client, server});
  ++opened_;
}

void tcp_proxy::black_hole() {
  auto wanted = ++holes_requested_;
  while (holes_applied_ < wanted)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

void tcp_proxy::cut() {
  cut_ = true;
  black_hole();
}

void tcp_proxy::run() {
  std::vector<link> links;
  std::vector<char> buffer(64 * 1024);
  while (!stop_) {
    if (auto wanted = holes_requested_.load(); holes_applied_ < wanted) {
      for (auto& l : links)
        l.silent = true;
      holes_applied_ = wanted;
    }
    std::vector<pollfd> fds{{listener_, POLLIN, 0}};
    for (auto& l : links) {
      fds.push_back({l.client, POLLIN, 0}); // a closed end (-1) is skipped by poll
      fds.push_back({l.server, POLLIN, 0});
    }
    if (::poll(fds.data(), fds.size(), 20) <= 0)
      continue;
    for (std::size_t i = 0; i < links.size(); ++i) {
      auto& l = links[i];
      forward(l, l.client, l.server, fds[1 + 2 * i].revents, buffer);
      forward(l, l.server, l.client, fds[2 + 2 * i].revents, buffer);
    }
    std::erase_if(links, [](const link& l) { return l.client < 0 && l.server < 0; });
    // Only now: a link accepted before the loop would have no entry in `fds`.
    if (fds[0].revents & POLLIN)
      accept_link(links);
  }
  for (auto& l : links)
    close_both(l);
}

} // namespace support
