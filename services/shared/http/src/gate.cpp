#include "gate.hpp"

#include "shared/http/problem.hpp"
#include "shared/http/request.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string_view>
#include <system_error>

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

namespace shared::http::detail {

namespace {

using namespace std::chrono_literals;

constexpr auto sweep_interval = 50ms;   // deadlines are kept to about this
constexpr auto linger_time = 2s;        // reading what a refused client still sends
constexpr std::size_t read_chunk = 16 * 1024;
constexpr std::size_t drain_per_event = 256 * 1024;
// A response gathered whole for the gate to write; past it the worker writes
// the rest itself, so a connection buffers at most this much.
constexpr std::size_t buffered_response_limit = 256 * 1024;
constexpr std::uint64_t wake_id = 0;    // connection ids start at 1
constexpr int retry_after_seconds = 1;

const char* reason(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 408: return "Request Timeout";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return "Error";
  }
}

// A whole response that closes the connection.
std::string problem_response(int status, const std::string& detail, const std::string& request_id) {
  auto body = to_json(make_problem(status, detail), request_id);
  std::string r = "HTTP/1.1 " + std::to_string(status) + " " + reason(status) + "\r\n";
  r.append("Content-Type: application/problem+json\r\nContent-Length: ")
    .append(std::to_string(body.size()))
    .append("\r\nX-Request-Id: ")
    .append(request_id)
    .append("\r\nConnection: close\r\n");
  if (status == 503)
    r.append("Retry-After: ").append(std::to_string(retry_after_seconds)).append("\r\n");
  return r.append("\r\n").append(body);
}

// Sends what the (non-blocking) socket takes now: the bytes sent, or nothing
// when the connection failed.
std::optional<std::size_t> send_some(int fd, std::string_view data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    auto n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0)
      sent += static_cast<std::size_t>(n);
    else if (n < 0 && errno == EINTR)
      continue;
    else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      break;
    else
      return std::nullopt;
  }
  return sent;
}

// Best effort: the gate's own answers are small and the socket's buffer is
// empty when they are sent.
void send_now(int fd, std::string_view data) { (void) send_some(fd, data); }

bool wait_for(int fd, short events, std::chrono::milliseconds timeout) {
  pollfd p{fd, events, 0};
  for (;;) {
    auto n = ::poll(&p, 1, static_cast<int>(timeout.count()));
    if (n < 0 && errno == EINTR)
      continue;
    return n > 0;
  }
}

enum class read_result { open, peer_closed, failed };

// Receives what has arrived, up to `limit` bytes, giving each piece to `take`.
template <class Take>
read_result receive(int fd, std::size_t limit, Take take) {
  std::array<char, read_chunk> buf;
  for (std::size_t got = 0; got < limit;) {
    auto n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n > 0) {
      take(buf.data(), static_cast<std::size_t>(n));
      got += static_cast<std::size_t>(n);
      if (static_cast<std::size_t>(n) < buf.size())
        return read_result::open;
    } else if (n == 0) {
      return read_result::peer_closed;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return read_result::open;
    } else if (errno != EINTR) {
      return read_result::failed;
    }
  }
  return read_result::open;
}

// Appends to `input` while it holds less than `limit` bytes.
read_result read_into(int fd, std::string& input, std::size_t limit) {
  if (input.size() >= limit)
    return read_result::open;
  return receive(fd, limit - input.size(),
                 [&input](const char* data, std::size_t n) { input.append(data, n); });
}

read_result discard(int fd, std::size_t limit) {
  return receive(fd, limit, [](const char*, std::size_t) {});
}

std::string numeric_host(const sockaddr_storage& addr, socklen_t len, int& port) {
  std::array<char, NI_MAXHOST> host{};
  std::array<char, NI_MAXSERV> serv{};
  if (::getnameinfo(reinterpret_cast<const sockaddr*>(&addr), len, host.data(), host.size(),
                    serv.data(), serv.size(), NI_NUMERICHOST | NI_NUMERICSERV) != 0)
    return {};
  port = std::atoi(serv.data());
  return host.data();
}

void set_options(int fd) {
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  int yes = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
}

} // namespace

struct connection {
  connection(std::uint64_t id, int fd, const framing_limits& limits)
    : id(id), fd(fd), framer(limits) {}

  enum class state { idle, reading, busy, writing, lingering };

  std::uint64_t id;
  int fd;
  std::string input; // read and not yet answered: the request, then pipelined bytes
  std::string output; // answered and not yet sent: the gate sends it
  request_framer framer;
  std::size_t request_size = 0; // when framed: the request is input's first bytes
  bool continue_sent = false;   // "100 Continue" sent for the request being read
  bool peer_closed = false;
  bool close_after = false;     // set by a worker: no further request
  std::size_t served = 0;
  // Stored last by a worker that re-arms the connection itself, so the
  // gate's sweep, which reads it first, sees the deadline written before.
  std::atomic<state> st = state::idle;
  std::chrono::steady_clock::time_point deadline;
  std::string remote_ip;        // looked up once, by a worker
  int remote_port = -1;
};

namespace {

// What cpp-httplib reads and writes while it serves one framed request: it
// reads the request's bytes (then end of input), and its writes are gathered
// in memory; finish() sends what the socket takes at once and leaves the rest
// in the connection's output for the gate. A chunked response, or one past
// buffered_response_limit, is written by the worker as it comes instead.
class request_stream final : public httplib::Stream {
public:
  request_stream(connection& c, std::chrono::milliseconds write_timeout)
    : c_(c), request_(std::string_view{c.input}.substr(0, c.request_size)),
      write_timeout_(write_timeout), swallow_continue_(c.continue_sent) {}

  bool is_readable() const override { return pos_ < request_.size(); }
  bool is_writable() const override {
    return !direct_ || wait_for(c_.fd, POLLOUT, write_timeout_);
  }

  ssize_t read(char* ptr, size_t size) override {
    auto n = std::min(size, request_.size() - pos_);
    std::memcpy(ptr, request_.data() + pos_, n);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    std::string_view data{ptr, size};
    // The gate already sent "100 Continue"; cpp-httplib would send it again.
    if (swallow_continue_ && data.starts_with("HTTP/1.1 100 ")) {
      swallow_continue_ = false;
      return static_cast<ssize_t>(size);
    }
    out_.append(data);
    // A chunked response is a stream (server-sent events): each piece leaves
    // as it is written, not when the response ends.
    if (!direct_)
      direct_ = out_.size() > buffered_response_limit
                || (data.starts_with("HTTP/")
                    && data.find("\r\nTransfer-Encoding: chunked\r\n") != std::string_view::npos);
    if (direct_ && !flush())
      return -1;
    return static_cast<ssize_t>(size);
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    if (c_.remote_port < 0) {
      sockaddr_storage addr{};
      socklen_t len = sizeof(addr);
      if (::getpeername(c_.fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
        c_.remote_ip = numeric_host(addr, len, c_.remote_port);
    }
    ip = c_.remote_ip;
    port = c_.remote_port;
  }

  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    if (::getsockname(c_.fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
      ip = numeric_host(addr, len, port);
  }

  socket_t socket() const override { return c_.fd; }

  // After the response: false when the connection failed.
  bool finish() {
    if (direct_)
      return flush();
    auto sent = send_some(c_.fd, out_);
    if (sent)
      c_.output.append(out_, *sent);
    return sent.has_value();
  }

private:
  bool flush() {
    bool ok = send_all(out_);
    out_.clear();
    return ok;
  }

  bool send_all(std::string_view data) const {
    while (!data.empty()) {
      auto n = ::send(c_.fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n > 0)
        data.remove_prefix(static_cast<std::size_t>(n));
      else if (n < 0 && errno == EINTR)
        continue;
      else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (!wait_for(c_.fd, POLLOUT, write_timeout_))
          return false;
      } else
        return false;
    }
    return true;
  }

  connection& c_;
  std::string_view request_;
  std::size_t pos_ = 0;
  std::chrono::milliseconds write_timeout_;
  bool swallow_continue_;
  std::string out_;
  bool direct_ = false; // a stream or a large response: the worker writes it
};

} // namespace

bool worker_pool::submit(std::function<void()> task) {
  std::unique_lock lock{mutex_};
  if (stopping_)
    return false;
  if (!idle_.empty()) {
    auto worker = std::move(idle_.back());
    idle_.pop_back();
    worker->task = std::move(task);
    lock.unlock();
    worker->woken.notify_one();
    return true;
  }
  tasks_.push_back(std::move(task));
  if (threads_.size() < max_) {
    try {
      std::thread t{[this] { work(); }};
      auto id = t.get_id();
      threads_.emplace(id, std::move(t));
    } catch (const std::system_error&) {
      // No thread now: a running one takes the task when it is done.
    }
  }
  return true;
}

void worker_pool::stop() {
  std::unordered_map<std::thread::id, std::thread> threads;
  std::thread retired;
  {
    std::lock_guard lock{mutex_};
    stopping_ = true;
    threads.swap(threads_);
    retired = std::move(retired_);
    for (auto& worker : idle_)
      worker->woken.notify_one();
  }
  for (auto& [id, t] : threads)
    t.join();
  if (retired.joinable())
    retired.join();
}

void worker_pool::work() {
  auto me = std::make_shared<idle_worker>();
  std::unique_lock lock{mutex_};
  std::function<void()> task;
  while (wait_for_task(lock, me, task)) {
    lock.unlock();
    task();
    task = nullptr;
    lock.lock();
  }
  if (stopping_)
    return; // stop() joins this thread
  auto earlier = retire();
  lock.unlock();
  if (earlier.joinable())
    earlier.join();
}

bool worker_pool::wait_for_task(std::unique_lock<std::mutex>& lock,
                                const std::shared_ptr<idle_worker>& me,
                                std::function<void()>& task) {
  for (;;) {
    if (!tasks_.empty()) {
      task = std::move(tasks_.front());
      tasks_.pop_front();
      return true;
    }
    if (stopping_)
      return false;
    idle_.push_back(me);
    me->woken.wait_for(lock, idle_timeout_, [&] { return me->task || stopping_; });
    if (me->task) { // submit took it off the stack
      task = std::move(me->task);
      return true;
    }
    idle_.erase(std::find(idle_.begin(), idle_.end(), me));
    if (!stopping_ && threads_.size() > kept_)
      return false;
  }
}

std::thread worker_pool::retire() {
  auto self = threads_.find(std::this_thread::get_id());
  auto earlier = std::move(retired_);
  retired_ = std::move(self->second);
  threads_.erase(self);
  return earlier;
}

gate::gate(const server_options& options, request_runner run, gate_hooks hooks)
  : options_(options), limits_(options.framing()), run_(std::move(run)), hooks_(std::move(hooks)),
    workers_(options.workers, options.workers_kept, options.worker_idle_timeout) {
  epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = wake_id;
  if (epoll_ < 0 || wake_fd_ < 0 || ::epoll_ctl(epoll_, EPOLL_CTL_ADD, wake_fd_, &ev) != 0) {
    auto err = errno;
    if (epoll_ >= 0)
      ::close(epoll_);
    if (wake_fd_ >= 0)
      ::close(wake_fd_);
    throw std::system_error(err, std::generic_category(), "HTTP gate: epoll/eventfd");
  }
  thread_ = std::thread([this] { loop(); });
}

gate::~gate() {
  stopping_ = true;
  workers_.stop();
  draining_ = true;
  wake();
  thread_.join();
  for (auto& [id, c] : connections_)
    ::close(c->fd);
  for (int fd : accepted_)
    ::close(fd);
  ::close(wake_fd_);
  ::close(epoll_);
}

void gate::admit(int fd) {
  if (stopping_) {
    ::close(fd);
    return;
  }
  set_options(fd);
  if (open_.fetch_add(1) >= options_.max_connections) {
    open_.fetch_sub(1);
    turn_away(fd);
    return;
  }
  {
    std::lock_guard lock{handoff_mutex_};
    accepted_.push_back(fd);
  }
  wake();
}

// Past the cap: answer at once, without reading the request.
void gate::turn_away(int fd) {
  discard(fd, read_chunk); // what already came: closing on unread bytes would reset
  auto id = generate_request_id();
  auto detail = "More than " + std::to_string(options_.max_connections)
                + " connections are open; retry after " + std::to_string(retry_after_seconds)
                + " s.";
  hooks_.refused({"other", 503, detail, id}); // counted before the client can see it
  send_now(fd, problem_response(503, detail, id));
  ::shutdown(fd, SHUT_WR);
  ::close(fd);
}

void gate::wake() {
  std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof(one));
}

void gate::loop() {
  std::array<epoll_event, 128> events;
  std::optional<clock::time_point> drain_until;
  for (;;) {
    int timeout = connections_.empty() && !draining_ ? -1 : static_cast<int>(sweep_interval.count());
    int n = ::epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), timeout);
    auto now = clock::now();
    for (int i = 0; i < n; ++i) {
      auto id = events[static_cast<std::size_t>(i)].data.u64;
      if (id == wake_id) {
        take_handoffs(now);
      } else if (auto it = connections_.find(id); it != connections_.end()) {
        auto& c = *it->second;
        if (c.st == connection::state::writing)
          on_writable(c, now);
        else if (c.st != connection::state::busy)
          on_readable(c, now);
      }
    }
    if (now >= next_sweep_) {
      sweep(now);
      next_sweep_ = now + sweep_interval;
    }
    if (draining_) {
      if (!drain_until) {
        take_handoffs(now); // the workers are done: what they gave back is all
        drain_until = now + options_.write_timeout;
      }
      if (!drain(now >= *drain_until))
        return;
    }
  }
}

// At shutdown: the answers still being sent (and refusals lingering) go on,
// for at most write_timeout; every other connection is closed. False once
// nothing is left.
bool gate::drain(bool give_up) {
  bool sending = false;
  for (auto it = connections_.begin(); it != connections_.end();) {
    auto& c = *it->second;
    ++it; // close() erases c
    auto st = c.st.load();
    if (!give_up && (st == connection::state::writing || st == connection::state::lingering))
      sending = true;
    else
      close(c);
  }
  return sending;
}

void gate::take_handoffs(clock::time_point now) {
  std::uint64_t count;
  [[maybe_unused]] auto n = ::read(wake_fd_, &count, sizeof(count));
  std::vector<int> accepted;
  std::vector<connection*> returned;
  {
    std::lock_guard lock{handoff_mutex_};
    accepted.swap(accepted_);
    returned.swap(returned_);
  }
  for (int fd : accepted) {
    auto c = std::make_unique<connection>(next_id_++, fd, limits_);
    c->deadline = now + options_.keep_alive_timeout;
    auto& ref = *c;
    connections_.emplace(ref.id, std::move(c));
    arm(ref, EPOLL_CTL_ADD);
  }
  if (!accepted.empty())
    hooks_.connections(open_);
  for (auto* c : returned) {
    if (c->output.empty())
      answered(*c, now);
    else
      on_writable(*c, now);
  }
}

// Sends what a worker left; the deadline restarts whenever bytes leave.
void gate::on_writable(connection& c, clock::time_point now) {
  auto sent = send_some(c.fd, c.output);
  if (!sent)
    return close(c);
  c.output.erase(0, *sent);
  if (c.output.empty())
    return answered(c, now);
  if (c.st != connection::state::writing || *sent > 0) {
    c.st = connection::state::writing;
    c.deadline = now + options_.write_timeout;
  }
  arm(c, EPOLL_CTL_MOD, EPOLLOUT);
}

// The answers are sent: the next request, if any.
void gate::answered(connection& c, clock::time_point now) {
  std::string{}.swap(c.output);
  if (c.close_after)
    linger(c, now);
  else
    proceed(c, now);
}

void gate::on_readable(connection& c, clock::time_point now) {
  if (c.st == connection::state::lingering) {
    if (discard(c.fd, drain_per_event) == read_result::open)
      arm(c, EPOLL_CTL_MOD);
    else
      close(c);
    return;
  }
  // Bytes past the limits are never needed: the framer refuses before.
  auto limit = limits_.max_request_line + 2 * limits_.max_header_bytes + limits_.max_body
               + read_chunk;
  auto r = read_into(c.fd, c.input, limit);
  if (r == read_result::failed)
    return close(c);
  c.peer_closed = r == read_result::peer_closed;
  proceed(c, now);
}

// Frames what has been read: hands a complete request to a worker, answers
// one that is refused, or waits for more.
void gate::proceed(connection& c, clock::time_point now) {
  c.input.erase(0, c.framer.skippable(c.input));
  if (c.input.empty()) {
    if (c.peer_closed)
      return close(c);
    if (c.input.capacity() > 2 * read_chunk)
      std::string{}.swap(c.input); // an idle connection keeps no large buffer
    c.st = connection::state::idle;
    c.deadline = now + options_.keep_alive_timeout;
    return arm(c, EPOLL_CTL_MOD);
  }
  if (c.st != connection::state::reading) {
    c.st = connection::state::reading;
    c.deadline = now + options_.request_read_timeout;
  }
  auto v = c.framer.advance(c.input);
  if (v.kind == framing_verdict::refused)
    return refuse(c, v.status, v.detail, now);
  if (v.kind == framing_verdict::complete) {
    c.request_size = v.size;
    c.st = connection::state::busy;
    if (!workers_.submit([this, &c] { serve(c); }))
      close(c);
    return;
  }
  if (c.peer_closed)
    return close(c);
  if (c.framer.expects_continue() && !c.continue_sent) {
    send_now(c.fd, "HTTP/1.1 100 Continue\r\n\r\n");
    c.continue_sent = true;
  }
  arm(c, EPOLL_CTL_MOD);
}

void gate::refuse(connection& c, int status, const std::string& detail, clock::time_point now) {
  auto id = c.framer.request_id().empty() ? generate_request_id() : c.framer.request_id();
  auto method = c.framer.method().empty() ? std::string{"other"} : c.framer.method();
  hooks_.refused({method, status, detail, id}); // counted before the client can see it
  send_now(c.fd, problem_response(status, detail, id));
  linger(c, now);
}

// Half-closes, then reads and drops what the client still sends (for up to
// linger_time) so that closing does not reset the connection before the
// client has read the answer.
void gate::linger(connection& c, clock::time_point now) {
  ::shutdown(c.fd, SHUT_WR);
  std::string{}.swap(c.input);
  c.st = connection::state::lingering;
  c.deadline = now + linger_time;
  arm(c, EPOLL_CTL_MOD);
}

void gate::sweep(clock::time_point now) {
  for (auto it = connections_.begin(); it != connections_.end();) {
    auto& c = *it->second;
    ++it; // close() erases c
    if (c.st == connection::state::busy || now < c.deadline)
      continue;
    if (c.st == connection::state::reading)
      refuse(c, 408, "The request did not arrive whole within "
                       + std::to_string(options_.request_read_timeout.count()) + " ms.", now);
    else
      close(c);
  }
}

void gate::arm(connection& c, int op, std::uint32_t events) {
  epoll_event ev{};
  ev.events = events | EPOLLONESHOT;
  ev.data.u64 = c.id;
  if (::epoll_ctl(epoll_, op, c.fd, &ev) != 0)
    close(c);
}

void gate::close(connection& c) {
  ::close(c.fd);
  connections_.erase(c.id);
  hooks_.connections(--open_);
}

// On a worker: serves the framed request and the pipelined ones already read,
// while every answer has left at once.
void gate::serve(connection& c) {
  for (;;) {
    bool close_connection = ++c.served >= options_.keep_alive_max_requests || stopping_;
    bool connection_closed = false;
    bool ok;
    {
      request_stream strm{c, options_.write_timeout};
      ok = run_(strm, close_connection, connection_closed);
      ok = strm.finish() && ok;
    }
    c.input.erase(0, c.request_size);
    c.request_size = 0;
    c.continue_sent = false;
    c.framer.reset();
    if (!ok || close_connection || connection_closed) {
      c.close_after = true;
      break;
    }
    c.input.erase(0, c.framer.skippable(c.input));
    if (c.input.empty() || !c.output.empty())
      break;
    auto v = c.framer.advance(c.input);
    if (v.kind != framing_verdict::complete)
      break; // the gate answers, or waits for the rest
    c.request_size = v.size;
  }
  if (!wait_idle(c))
    give_back(c);
}

// On a worker: a keep-alive connection with nothing left to send or to
// serve goes straight back to epoll, without waking the gate (the common
// case: one request, its answer sent at once).
bool gate::wait_idle(connection& c) {
  if (c.close_after || c.peer_closed || !c.input.empty() || !c.output.empty())
    return false;
  if (c.input.capacity() > 2 * read_chunk)
    std::string{}.swap(c.input);
  c.deadline = clock::now() + options_.keep_alive_timeout;
  c.st = connection::state::idle; // before arming: the gate ignores a busy one's events
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLONESHOT;
  ev.data.u64 = c.id;
  if (::epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev) == 0)
    return true;
  c.st = connection::state::busy;
  return false;
}

void gate::give_back(connection& c) {
  {
    std::lock_guard lock{handoff_mutex_};
    returned_.push_back(&c);
  }
  wake();
}

} // namespace shared::http::detail
