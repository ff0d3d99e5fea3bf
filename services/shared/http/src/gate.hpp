#pragma once
// The server's front door (private to shared_http). One thread watches, with
// epoll, every connection that is not being answered: it reads each request
// whole under request_framer's limits and the read deadline, answers what it
// refuses itself (problem+json, then a half-close and a short drain so the
// client reads the answer), and hands each complete request to a worker, which
// runs cpp-httplib on the bytes already read. A slow or idle client holds a
// descriptor and a buffer, never a worker, so trickling connections cannot
// starve the others; a connection past `max_connections` is answered 503
// with Retry-After and closed.
//
// Workers are bounded (`workers`); past the bound, complete requests wait in
// one FIFO queue, so under overload every request waits its turn instead of
// hundreds of threads sharing the cores. A worker gathers the response in
// memory, sends what the socket takes at once (never waiting) and gives the
// connection back; the gate writes the rest when the socket has room
// (EPOLLOUT), so a client that does not read its answer costs a buffer, not
// a worker, and is closed when no byte leaves for `write_timeout`. A worker
// also serves pipelined requests already read, but never waits for a
// keep-alive follow-up: it puts the idle connection back in epoll itself (no
// wake-up of the gate) and the gate watches for the next request.
//
// What still holds a worker while the client reads: a chunked response (a
// stream, e.g. the list without a limit or server-sent events, at most 8 of
// those: each piece leaves as it is written) and a response past
// `buffered_response_limit` (256 KiB); each of their sends waits at most
// `write_timeout` for room. So the bytes buffered per connection are at most
// that limit. The time a handler takes is bounded by the handlers' own
// RequestTimeout. At shutdown, once the workers are done, the gate sends the
// answers it still holds for at most `write_timeout`, then closes the rest.
#include "shared/http/request_framing.hpp"
#include "shared/http/server.hpp"

#include <httplib.h>
#include <sys/epoll.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace shared::http::detail {

// cpp-httplib's processing of one request read from `strm`.
using request_runner =
  std::function<bool(httplib::Stream& strm, bool close_connection, bool& connection_closed)>;

// A request the gate answered itself.
struct refusal {
  std::string method; // "other" when unknown
  int status = 0;
  std::string detail;
  std::string request_id;
};

struct gate_hooks {
  std::function<void(const refusal&)> refused;
  std::function<void(std::size_t open)> connections; // on every open and close
};

// Threads started as requests wait, up to `max`; past it, tasks wait in FIFO
// order for the next thread to finish. An idle thread waits on its
// own, the most recently idle one takes the next task, so under light load the
// same few threads serve and the rest stay idle: past `kept`, a thread idle
// for `idle_timeout` ends, and a burst's threads (and their stacks) go away.
class worker_pool {
public:
  worker_pool(std::size_t max, std::size_t kept, std::chrono::milliseconds idle_timeout)
    : max_(max), kept_(kept), idle_timeout_(idle_timeout) {}
  ~worker_pool() { stop(); }

  // False once stopping: the task will not run.
  bool submit(std::function<void()> task);
  // Runs what was submitted, then joins the threads.
  void stop();

private:
  // A thread's own, shared with a submit that wakes it after unlocking (a
  // thread woken under the lock would at once block on it again).
  struct idle_worker {
    std::condition_variable woken;
    std::function<void()> task; // given by submit
  };

  void work();
  // Under the lock: false when this thread is to end (stopping, or idle too long).
  bool wait_for_task(std::unique_lock<std::mutex>& lock, const std::shared_ptr<idle_worker>& me,
                     std::function<void()>& task);
  // Under the lock: this thread leaves the pool; returns the thread to join.
  std::thread retire();

  std::size_t max_;
  std::size_t kept_;
  std::chrono::milliseconds idle_timeout_;
  std::mutex mutex_;
  std::deque<std::function<void()>> tasks_; // waiting for a busy thread to finish
  std::vector<std::shared_ptr<idle_worker>> idle_; // a stack: the back is the most recent
  std::unordered_map<std::thread::id, std::thread> threads_;
  std::thread retired_; // the last thread that ended, joined by the next one or by stop
  bool stopping_ = false;
};

struct connection;

class gate {
public:
  gate(const server_options& options, request_runner run, gate_hooks hooks);
  // Lets requests in flight finish and their answers leave (for at most
  // write_timeout), then closes every connection.
  ~gate();

  gate(const gate&) = delete;
  gate& operator=(const gate&) = delete;

  // A connection just accepted (from the accept thread); the gate owns it.
  void admit(int fd);

private:
  using clock = std::chrono::steady_clock;

  void loop();
  void take_handoffs(clock::time_point now);
  void on_readable(connection& c, clock::time_point now);
  void on_writable(connection& c, clock::time_point now);
  void answered(connection& c, clock::time_point now);
  void proceed(connection& c, clock::time_point now);
  void refuse(connection& c, int status, const std::string& detail, clock::time_point now);
  void linger(connection& c, clock::time_point now);
  void sweep(clock::time_point now);
  bool drain(bool give_up);
  void arm(connection& c, int op, std::uint32_t events = EPOLLIN);
  void close(connection& c);
  void turn_away(int fd);
  void serve(connection& c);
  bool wait_idle(connection& c);
  void give_back(connection& c);
  void wake();

  server_options options_;
  framing_limits limits_;
  request_runner run_;
  gate_hooks hooks_;
  int epoll_ = -1;
  int wake_fd_ = -1;
  std::atomic<bool> stopping_{false}; // no new work; requests in flight finish
  std::atomic<bool> draining_{false}; // the workers are done: send what is left, then end
  std::atomic<std::size_t> open_{0};

  std::mutex handoff_mutex_;
  std::vector<int> accepted_;
  std::vector<connection*> returned_;

  // Gate thread only (a connection handed to a worker is the worker's until
  // it is given back).
  std::unordered_map<std::uint64_t, std::unique_ptr<connection>> connections_;
  std::uint64_t next_id_ = 1;
  clock::time_point next_sweep_;

  worker_pool workers_;
  std::thread thread_; // last: starts once the rest is ready
};

} // namespace shared::http::detail
