// The server's limits over real loopback sockets, with short deadlines: each
// limit's answer (problem+json, request id, connection closed), bodies never
// buffered past the cap, slow clients holding no worker, the connection cap,
// and keep-alive still working afterwards.
#include "running_server.hpp"

#include <shared/http/problem.hpp>
#include <shared/http/request.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace shared::http;
using namespace std::chrono_literals;
using nlohmann::json;
using clock_type = std::chrono::steady_clock;

namespace {

struct raw_response {
  int status = 0;
  std::map<std::string, std::string> headers; // names in lower case
  std::string body;

  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// A client that writes exactly the bytes it is given.
class raw_client {
public:
  // `receive_buffer` (bytes, 0: the system's) bounds what the kernel takes
  // for a client that does not read.
  explicit raw_client(int port, int receive_buffer = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (receive_buffer > 0) {
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof(receive_buffer));
      // Small segments: the server's send buffer is sized from them, and
      // loopback's 64 KiB ones would let it take a large answer whole.
      int segment = 536;
      ::setsockopt(fd_, IPPROTO_TCP, TCP_MAXSEG, &segment, sizeof(segment));
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
      throw std::runtime_error("connect failed");
  }
  ~raw_client() { ::close(fd_); }
  raw_client(const raw_client&) = delete;

  bool send(std::string_view data) {
    while (!data.empty()) {
      auto n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0)
        return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // The next response (a 1xx one included), or nullopt when none came whole
  // within `timeout`.
  std::optional<raw_response> read_response(std::chrono::milliseconds timeout = 5s) {
    auto deadline = clock_type::now() + timeout;
    std::size_t head_end;
    while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos)
      if (!receive(deadline))
        return std::nullopt;
    raw_response r;
    r.status = std::stoi(buffer_.substr(9, 3));
    std::size_t pos = buffer_.find("\r\n") + 2;
    while (pos < head_end) {
      auto eol = buffer_.find("\r\n", pos);
      auto line = buffer_.substr(pos, eol - pos);
      auto colon = line.find(':');
      auto name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(), ::tolower);
      r.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
      pos = eol + 2;
    }
    auto length = r.header("content-length").empty() ? 0 : std::stoul(r.header("content-length"));
    while (buffer_.size() < head_end + 4 + length)
      if (!receive(deadline))
        return std::nullopt;
    r.body = buffer_.substr(head_end + 4, length);
    buffer_.erase(0, head_end + 4 + length);
    return r;
  }

  // True when the server closes (or resets) the connection within `timeout`.
  bool closed_by_server(std::chrono::milliseconds timeout = 5s) {
    auto deadline = clock_type::now() + timeout;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
      pollfd p{fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0)
        return false;
      char buf[4096];
      auto n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0)
        return true;
    }
  }

private:
  bool receive(clock_type::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
    pollfd p{fd_, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0)
      return false;
    char buf[65536];
    auto n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0)
      return false;
    buffer_.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  std::string buffer_;
};

long status_kb(const std::string& field) {
  std::ifstream in{"/proc/self/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field + ":", 0) == 0)
      return std::stol(line.substr(field.size() + 1));
  return -1;
}

std::size_t thread_count() {
  auto tasks = std::filesystem::directory_iterator{"/proc/self/task"};
  return static_cast<std::size_t>(std::distance(tasks, std::filesystem::directory_iterator{}));
}

std::string request(const std::string& method, const std::string& target,
                    const std::string& headers = "", const std::string& body = "") {
  auto r = method + " " + target + " HTTP/1.1\r\nHost: test\r\n" + headers;
  if (!body.empty())
    r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  return r + "\r\n" + body;
}

std::string chunk(std::string_view data) {
  std::ostringstream size;
  size << std::hex << data.size();
  return size.str() + "\r\n" + std::string{data} + "\r\n";
}

class limited_server : public ::testing::Test {
protected:
  static server_options options() {
    server_options o;
    o.max_connections = 512;
    o.max_body = 64 * 1024;
    o.max_header_count = 100;
    o.max_header_bytes = 16 * 1024;
    o.request_read_timeout = 1500ms;
    o.keep_alive_timeout = 1s;
    return o;
  }

  void start(const server_options& o = options()) {
    auto ok = [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"status":"Healthy"})", "application/json");
    };
    auto echo = [](const httplib::Request& req, httplib::Response& res) {
      res.status = 201;
      res.set_content(json{{"length", req.body.size()}}.dump(), "application/json");
    };
    svr = std::make_unique<running_server>(
      o, metrics,
      std::vector<route>{{"/healthz", "/healthz", ok, nullptr}, {"/items", "/items", ok, echo}});
  }

  void SetUp() override { start(); }

  int port() const { return svr->port(); }

  // The answer is a closing problem with the standard type and title, and
  // the request id (given or generated) as header and traceId.
  static void expect_problem(const raw_response& r, int status, const std::string& detail_part,
                             const std::string& request_id = "") {
    EXPECT_EQ(r.status, status);
    EXPECT_EQ(r.header("content-type"), "application/problem+json");
    EXPECT_EQ(r.header("connection"), "close");
    auto p = json::parse(r.body);
    EXPECT_EQ(p["type"], problem_type(status));
    EXPECT_EQ(p["title"], make_problem(status).title);
    EXPECT_EQ(p["status"], status);
    EXPECT_NE(p.value("detail", "").find(detail_part), std::string::npos) << p.dump();
    EXPECT_EQ(p["traceId"], r.header("x-request-id"));
    if (!request_id.empty())
      EXPECT_EQ(r.header("x-request-id"), request_id);
    else
      EXPECT_TRUE(valid_request_id(r.header("x-request-id")));
  }

  // Answers `raw` with `status`, then closes the connection.
  void expect_refused(const std::string& raw, int status, const std::string& detail_part) {
    raw_client c{port()};
    c.send(raw);
    auto r = c.read_response();
    ASSERT_TRUE(r) << "no answer to " << raw.substr(0, 80);
    expect_problem(*r, status, detail_part);
    EXPECT_TRUE(c.closed_by_server());
  }

  void expect_serving() {
    raw_client c{port()};
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(c.send(request("GET", "/healthz")));
      auto r = c.read_response();
      ASSERT_TRUE(r);
      EXPECT_EQ(r->status, 200);
    }
  }

  double rejected(const std::string& method, int status) {
    return metrics.counter("http_requests_total", "").value({method, "rejected",
                                                             std::to_string(status)});
  }

  shared::metrics::registry metrics;
  std::unique_ptr<running_server> svr;
};

} // namespace

TEST_F(limited_server, content_length_over_the_cap_is_413_before_the_body_is_sent) {
  raw_client c{port()};
  c.send(request("POST", "/items", "X-Request-Id: big-1\r\nContent-Type: application/json\r\n"
                                   "Content-Length: 100000000\r\n"));
  auto r = c.read_response(2s); // no body was sent: the answer cannot wait for it
  ASSERT_TRUE(r);
  expect_problem(*r, 413, "larger than 65536 bytes", "big-1");
  EXPECT_TRUE(c.closed_by_server());
  EXPECT_EQ(rejected("POST", 413), 1);
  expect_serving();
}

TEST_F(limited_server, chunked_body_is_cut_at_the_cap_and_never_buffered) {
  auto rss_before = status_kb("VmRSS");
  raw_client c{port()};
  c.send(request("POST", "/items", "Content-Type: application/json\r\n"
                                   "Transfer-Encoding: chunked\r\n"));
  // 100 MB of chunks and never the last one: only a cut at the cap answers
  // before the read deadline.
  std::atomic<std::size_t> sent{0};
  std::thread sender([&] {
    auto piece = chunk(std::string(64 * 1024, 'a'));
    while (sent < 100'000'000 && c.send(piece))
      sent += 64 * 1024;
  });
  auto start = clock_type::now();
  auto r = c.read_response(5s);
  auto waited = clock_type::now() - start;
  sender.join();
  ASSERT_TRUE(r);
  expect_problem(*r, 413, "larger than 65536 bytes");
  EXPECT_LT(waited, options().request_read_timeout);
  EXPECT_TRUE(c.closed_by_server());
  EXPECT_LT(status_kb("VmRSS") - rss_before, 4 * 1024) << "kB grown; " << sent << " bytes sent";
  expect_serving();
}

TEST_F(limited_server, a_body_at_the_cap_is_served_chunked_or_not) {
  raw_client c{port()};
  std::string body(64 * 1024, 'x');
  c.send(request("POST", "/items", "Content-Type: application/json\r\n", body));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->body, R"({"length":65536})");
  c.send(request("POST", "/items", "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n")
         + chunk(body.substr(0, 40'000)) + chunk(body.substr(40'000)) + "0\r\n\r\n");
  auto chunked = c.read_response();
  ASSERT_TRUE(chunked);
  EXPECT_EQ(chunked->status, 201);
  EXPECT_EQ(chunked->body, R"({"length":65536})");
}

TEST_F(limited_server, compressed_body_is_415_naming_the_encoding_before_it_is_read) {
  for (std::string encoding : {"gzip", "br", "deflate"}) {
    raw_client c{port()};
    // Announced but not sent: the answer does not wait for the body.
    c.send(request("POST", "/items", "Content-Type: application/json\r\nContent-Encoding: "
                                       + encoding + "\r\nContent-Length: 19000\r\n"));
    auto r = c.read_response(2s);
    ASSERT_TRUE(r) << encoding;
    expect_problem(*r, 415, "'" + encoding + "'");
    EXPECT_TRUE(c.closed_by_server());
  }
  EXPECT_EQ(rejected("POST", 415), 3);
}

TEST_F(limited_server, more_than_100_headers_is_431_and_100_pass) {
  std::string hundred;
  for (int i = 0; i < 99; ++i) // and Host
    hundred += "X-H" + std::to_string(i) + ": v\r\n";
  raw_client c{port()};
  c.send(request("GET", "/healthz", hundred));
  auto ok = c.read_response();
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  expect_refused(request("GET", "/healthz", hundred + "X-Last: v\r\n"), 431,
                 "More than 100 header fields");
}

TEST_F(limited_server, header_block_over_16_kib_is_431) {
  std::string fields;
  for (int i = 0; i < 20; ++i)
    fields += "X-H" + std::to_string(i) + ": " + std::string(1000, 'v') + "\r\n";
  expect_refused(request("GET", "/healthz", fields), 431, "larger than 16384 bytes");
  expect_refused(request("GET", "/healthz", "X-Big: " + std::string(9000, 'v') + "\r\n"), 431,
                 "longer than 8192 bytes");
}

TEST_F(limited_server, request_line_over_8_kib_is_414) {
  expect_refused(request("GET", "/healthz?q=" + std::string(9000, 'a')), 414,
                 "longer than 8192 bytes");
}

TEST_F(limited_server, malformed_framing_is_400_and_closes) {
  expect_refused(request("POST", "/items", "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n"),
                 400, "both");
  expect_refused(request("POST", "/items", "Transfer-Encoding: gzip\r\n"), 501, "'gzip'");
}

TEST_F(limited_server, a_request_not_whole_by_the_deadline_is_408_and_closed) {
  raw_client c{port()};
  auto start = clock_type::now();
  c.send("GET /healthz HTTP/1.1\r\nX-Request-Id: slow-1\r\nHo");
  auto r = c.read_response(5s);
  auto waited = clock_type::now() - start;
  ASSERT_TRUE(r);
  expect_problem(*r, 408, "within 1500 ms", "slow-1");
  EXPECT_GE(waited, 1400ms);
  EXPECT_LT(waited, 3s);
  EXPECT_TRUE(c.closed_by_server());
}

TEST_F(limited_server, an_idle_keep_alive_connection_is_closed_quietly) {
  raw_client c{port()};
  c.send(request("GET", "/healthz"));
  ASSERT_TRUE(c.read_response());
  auto start = clock_type::now();
  EXPECT_TRUE(c.closed_by_server(5s)); // keep_alive_timeout 1 s, no 408 sent
  EXPECT_LT(clock_type::now() - start, 3s);
}

TEST_F(limited_server, trickling_connections_hold_no_worker_and_healthz_answers) {
  // 300 connections each sending one byte of a request line every 200 ms.
  std::vector<std::unique_ptr<raw_client>> slow;
  for (int i = 0; i < 300; ++i)
    slow.push_back(std::make_unique<raw_client>(port()));
  auto threads_before = thread_count();
  std::string line = "GET /healthz?trickle HTTP/1.1\r\n";
  auto start = clock_type::now();
  std::atomic<bool> done{false};
  std::thread trickle([&] {
    for (std::size_t i = 0; !done && i < line.size(); ++i) {
      for (auto& s : slow)
        s->send(line.substr(i, 1));
      std::this_thread::sleep_for(200ms);
    }
  });
  std::size_t probes = 0;
  auto slowest = clock_type::duration::zero();
  std::size_t most_threads = threads_before;
  while (clock_type::now() - start < 1200ms) {
    auto asked = clock_type::now();
    raw_client probe{port()};
    probe.send(request("GET", "/healthz"));
    auto r = probe.read_response(1s);
    ASSERT_TRUE(r) << "healthz did not answer within 1 s";
    EXPECT_EQ(r->status, 200);
    slowest = std::max(slowest, clock_type::now() - asked);
    most_threads = std::max(most_threads, thread_count());
    ++probes;
    std::this_thread::sleep_for(50ms);
  }
  done = true;
  trickle.join();
  EXPECT_GE(probes, 5u);
  EXPECT_LT(slowest, 1s);
  EXPECT_LT(most_threads - threads_before, 16u) << "threads while 300 clients trickle";
  // Their deadline (1.5 s from the first byte) ends them with 408.
  for (auto& s : slow) {
    auto r = s->read_response(3s);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 408);
  }
  EXPECT_EQ(rejected("other", 408), 300); // the method never arrived whole
  expect_serving();
}

TEST_F(limited_server, a_burst_s_workers_end_once_idle_even_under_light_load) {
  svr.reset();
  auto o = options();
  o.workers_kept = 2;
  o.worker_idle_timeout = 300ms;
  o.keep_alive_timeout = 10s; // the burst's connections outlast the test
  // Requests to /held wait until released: each holds a worker meanwhile.
  // Shared with the handlers, which may outlive a failed test's body.
  struct latch {
    std::mutex m;
    std::condition_variable cv;
    std::size_t holding = 0;
    bool released = false;
  };
  auto l = std::make_shared<latch>();
  auto held = [l](const httplib::Request&, httplib::Response& res) {
    std::unique_lock lock{l->m};
    ++l->holding;
    l->cv.notify_all();
    l->cv.wait_for(lock, 10s, [&] { return l->released; });
    res.set_content("{}", "application/json");
  };
  auto quick = [](const httplib::Request&, httplib::Response& res) {
    res.set_content("{}", "application/json");
  };
  svr = std::make_unique<running_server>(
    o, metrics,
    std::vector<route>{{"/held", "/held", held, nullptr}, {"/quick", "/quick", quick, nullptr}});
  auto threads_before = thread_count();
  std::vector<std::unique_ptr<raw_client>> burst;
  for (int i = 0; i < 64; ++i) {
    burst.push_back(std::make_unique<raw_client>(port()));
    burst.back()->send(request("GET", "/held"));
  }
  {
    std::unique_lock lock{l->m};
    ASSERT_TRUE(l->cv.wait_for(lock, 10s, [&] { return l->holding == 64; }))
      << l->holding << " held";
  }
  EXPECT_GE(thread_count(), threads_before + 64) << "workers during the burst";
  {
    std::lock_guard lock{l->m};
    l->released = true;
  }
  l->cv.notify_all();
  for (auto& c : burst) {
    auto r = c->read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }
  // A request every 20 ms on a connection kept open, as a light client
  // sends them: the same few workers serve it, the others end.
  raw_client light{port()};
  auto deadline = clock_type::now() + 5s;
  auto threads = thread_count();
  while (clock_type::now() < deadline && threads > threads_before + o.workers_kept) {
    ASSERT_TRUE(light.send(request("GET", "/quick")));
    auto r = light.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    std::this_thread::sleep_for(20ms);
    threads = thread_count();
  }
  EXPECT_LE(threads, threads_before + o.workers_kept) << "threads after the burst";
  // The burst's connections are still open, and served by new workers.
  for (auto& c : burst)
    ASSERT_TRUE(c->send(request("GET", "/quick")));
  for (auto& c : burst) {
    auto r = c->read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }
}

// An answer the client does not read is the gate's to send: it holds a
// buffer, not a worker, and the connection closes once no byte has left for
// write_timeout; a client that reads late gets the whole answer.
TEST_F(limited_server, clients_that_do_not_read_their_answers_hold_no_worker) {
  svr.reset();
  auto o = options();
  o.workers = 2;
  o.write_timeout = 3s; // blocked workers would keep /healthz waiting this long
  o.keep_alive_timeout = 10s;
  const std::string big(240 * 1024, 'x'); // below what a connection buffers
  auto large = [&big](const httplib::Request&, httplib::Response& res) {
    res.set_content(big, "text/plain");
  };
  auto ok = [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"status":"Healthy"})", "application/json");
  };
  svr = std::make_unique<running_server>(
    o, metrics, std::vector<route>{{"/big", "/big", large, nullptr},
                                   {"/healthz", "/healthz", ok, nullptr}});
  constexpr int silent = 8; // four times the workers
  std::vector<std::unique_ptr<raw_client>> readers;
  for (int i = 0; i < silent; ++i) {
    readers.push_back(std::make_unique<raw_client>(port(), 4096));
    ASSERT_TRUE(readers.back()->send(request("GET", "/big")));
  }
  std::this_thread::sleep_for(200ms); // every /big answered, none read
  for (int i = 0; i < 3; ++i) {
    raw_client c{port()};
    ASSERT_TRUE(c.send(request("GET", "/healthz")));
    auto r = c.read_response(1500ms);
    ASSERT_TRUE(r) << "no worker free while " << silent << " clients do not read";
    EXPECT_EQ(r->status, 200);
  }
  // Read late, within write_timeout: the whole answer, and the connection
  // serves the next request.
  auto late = readers.front()->read_response();
  ASSERT_TRUE(late);
  EXPECT_EQ(late->status, 200);
  EXPECT_EQ(late->body.size(), big.size());
  EXPECT_TRUE(late->body == big);
  ASSERT_TRUE(readers.front()->send(request("GET", "/healthz")));
  auto next = readers.front()->read_response();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200);
  // Never read: cut after write_timeout without progress, so the answer
  // never arrives whole.
  std::this_thread::sleep_for(o.write_timeout + 500ms);
  auto cut = readers.back()->read_response(2s);
  EXPECT_FALSE(cut) << "a whole answer after write_timeout";
  EXPECT_TRUE(readers.back()->closed_by_server(1s));
}

// A shutdown sends the answers the gate still holds before it closes: a
// client that reads its answer late, while the server stops, gets it whole.
TEST_F(limited_server, a_shutdown_sends_the_answers_still_held_then_ends) {
  svr.reset();
  auto o = options();
  o.write_timeout = 5s;
  const std::string big(240 * 1024, 'y');
  auto large = [&big](const httplib::Request&, httplib::Response& res) {
    res.set_content(big, "text/plain");
  };
  svr = std::make_unique<running_server>(o, metrics,
                                         std::vector<route>{{"/big", "/big", large, nullptr}});
  raw_client slow{port(), 4096};
  ASSERT_TRUE(slow.send(request("GET", "/big")));
  std::this_thread::sleep_for(200ms); // answered, most of it held by the gate
  auto began = std::chrono::steady_clock::now();
  std::thread stopping{[this] { svr.reset(); }};
  std::this_thread::sleep_for(300ms); // the server is stopping meanwhile
  auto late = slow.read_response();
  stopping.join();
  auto took = std::chrono::steady_clock::now() - began;
  ASSERT_TRUE(late) << "the answer was dropped at shutdown";
  EXPECT_EQ(late->status, 200);
  EXPECT_TRUE(late->body == big) << late->body.size() << " of " << big.size() << " bytes";
  EXPECT_LT(took, o.write_timeout) << "the drain ends once the answer is sent";
}

// Past HttpWorkers, requests wait in one queue and are served in the order
// they arrived.
TEST_F(limited_server, past_the_workers_requests_are_served_in_arrival_order) {
  svr.reset();
  auto o = options();
  o.workers = 1;
  o.workers_kept = 1;
  struct log {
    std::mutex m;
    std::condition_variable cv;
    bool holding = false;
    bool released = false;
    std::vector<std::string> served;
  };
  auto l = std::make_shared<log>();
  auto held = [l](const httplib::Request&, httplib::Response& res) {
    std::unique_lock lock{l->m};
    l->holding = true;
    l->cv.notify_all();
    l->cv.wait_for(lock, 10s, [&] { return l->released; });
    res.set_content("{}", "application/json");
  };
  auto noted = [l](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock{l->m};
    l->served.push_back(req.get_param_value("n"));
    res.set_content("{}", "application/json");
  };
  svr = std::make_unique<running_server>(
    o, metrics,
    std::vector<route>{{"/held", "/held", held, nullptr}, {"/noted", "/noted", noted, nullptr}});
  raw_client first{port()};
  ASSERT_TRUE(first.send(request("GET", "/held")));
  {
    std::unique_lock lock{l->m};
    ASSERT_TRUE(l->cv.wait_for(lock, 5s, [&] { return l->holding; }));
  }
  std::vector<std::unique_ptr<raw_client>> waiting;
  std::vector<std::string> sent;
  for (int i = 0; i < 8; ++i) {
    waiting.push_back(std::make_unique<raw_client>(port()));
    sent.push_back(std::to_string(i));
    ASSERT_TRUE(waiting.back()->send(request("GET", "/noted?n=" + sent.back())));
    std::this_thread::sleep_for(20ms); // the gate has read it before the next
  }
  {
    std::lock_guard lock{l->m};
    EXPECT_TRUE(l->served.empty()) << "served past the one worker";
    l->released = true;
  }
  l->cv.notify_all();
  ASSERT_TRUE(first.read_response());
  for (auto& c : waiting) {
    auto r = c->read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }
  std::lock_guard lock{l->m};
  EXPECT_EQ(l->served, sent);
}

TEST_F(limited_server, past_the_connection_cap_is_503_with_retry_after) {
  svr.reset();
  auto o = options();
  o.max_connections = 4;
  start(o);
  std::vector<std::unique_ptr<raw_client>> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(std::make_unique<raw_client>(port()));
    held.back()->send(request("GET", "/healthz"));
    ASSERT_TRUE(held.back()->read_response()); // admitted, kept alive
  }
  raw_client extra{port()};
  extra.send(request("GET", "/healthz"));
  auto r = extra.read_response();
  ASSERT_TRUE(r);
  expect_problem(*r, 503, "More than 4 connections");
  EXPECT_EQ(r->header("retry-after"), "1");
  EXPECT_TRUE(extra.closed_by_server());
  EXPECT_EQ(rejected("other", 503), 1);
  // A closed connection frees its place.
  held.pop_back();
  auto deadline = clock_type::now() + 5s;
  std::optional<raw_response> again;
  while (clock_type::now() < deadline) {
    raw_client c{port()};
    c.send(request("GET", "/healthz"));
    again = c.read_response();
    if (again && again->status == 200)
      break;
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
  EXPECT_NE(metrics.expose().find("http_connections_open"), std::string::npos);
}

TEST_F(limited_server, keep_alive_and_pipelining_still_work_and_bodies_are_never_requests) {
  raw_client c{port()};
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(c.send(request("GET", "/healthz")));
    auto r = c.read_response();
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->header("connection"), "");
  }
  // Three requests in one write, answered in order; the GET's body (which
  // looks like a request) is read and dropped with it.
  auto smuggled = request("GET", "/nope");
  c.send(request("POST", "/items", "Content-Type: application/json\r\n", "{}")
         + request("GET", "/healthz", "", smuggled) + request("GET", "/healthz"));
  auto first = c.read_response();
  auto second = c.read_response();
  auto third = c.read_response();
  ASSERT_TRUE(first && second && third);
  EXPECT_EQ(first->status, 201);
  EXPECT_EQ(second->status, 200);
  EXPECT_EQ(third->status, 200);
  EXPECT_FALSE(c.read_response(300ms)) << "the body was answered as a request";
}

TEST_F(limited_server, expect_100_continue_is_answered_once_then_the_response) {
  raw_client c{port()};
  c.send(request("POST", "/items", "Content-Type: application/json\r\nExpect: 100-continue\r\n"
                                   "Content-Length: 2\r\n"));
  auto interim = c.read_response(2s);
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  c.send("{}");
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201);
}
