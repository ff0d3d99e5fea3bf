#pragma once
// A loopback TCP proxy for tests that need a link to die silently, as a
// pulled cable or a dropped route does (no iptables here): it forwards
// 127.0.0.1:port() to a target until black_hole(), after which the links open
// at that moment carry nothing either way, yet stay open (no FIN, no RST).
// Links opened later are forwarded again, so a client that reconnects works.
// cut() is a partition that lasts: every link open now, and every link opened
// until heal(), carries nothing (a new one is accepted, never answered).
#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace support {

struct link; // a client connection and ours to the target

class tcp_proxy {
public:
  tcp_proxy(std::string target_host, int target_port);
  ~tcp_proxy();
  tcp_proxy(const tcp_proxy&) = delete;
  tcp_proxy& operator=(const tcp_proxy&) = delete;

  int port() const { return port_; }
  // Silences every link open now; returns once the proxy thread applied it.
  void black_hole();
  // A partition: black_hole(), and links opened until heal() are silent too.
  void cut();
  void heal() { cut_ = false; }
  // Links forwarded so far (opened, whether still open or not).
  int links_opened() const { return opened_; }

private:
  void run();
  void accept_link(std::vector<link>& links);

  std::string host_;
  int target_port_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> holes_requested_{0};
  std::atomic<int> holes_applied_{0};
  std::atomic<int> opened_{0};
  std::atomic<bool> cut_{false};
  std::thread thread_;
};

} // namespace support
