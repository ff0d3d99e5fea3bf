#include "actors/supervision_board.hpp"

#include <algorithm>

namespace actors {

const char* to_string(child_state state) {
  switch (state) {
    case child_state::running: return "running";
    case child_state::backing_off: return "backing_off";
    case child_state::restarting: return "restarting";
    case child_state::stopped: return "stopped";
    case child_state::gave_up: return "gave_up";
  }
  return "unknown";
}

supervision_board::supervision_board(std::size_t history)
  : history_(history),
    epoch_(static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count())) {}

supervision_board::node& supervision_board::node_of(const std::string& name) {
  auto [it, added] = nodes_.try_emplace(name);
  if (added) {
    order_.push_back(name);
    it->second.up_since = clock::now();
  }
  return it->second;
}

void supervision_board::record(const supervision_event& ev, clock::time_point now) {
  using kind = supervision_event::kind_type;
  std::lock_guard guard{mutex_};
  // A nested supervisor's children may report before its parent reports it:
  // each is a root until its parent names it.
  node_of(ev.supervisor);
  auto& n = node_of(ev.child);
  n.supervisor = ev.supervisor;
  n.intensity = ev.intensity;
  switch (ev.kind) {
    case kind::child_started:
      n.restarts.clear(); // a (re)started supervisor counts afresh
      [[fallthrough]];
    case kind::child_restarted:
      n.state = child_state::running;
      n.instance = ev.instance;
      n.up_since = now;
      break;
    case kind::child_failed:
      n.last_failure = ev.reason;
      n.last_failure_at = std::chrono::system_clock::now();
      n.state = child_state::stopped; // until a restart is scheduled
      break;
    case kind::child_exited:
    case kind::child_stopped:
      n.state = child_state::stopped;
      break;
    case kind::restart_scheduled:
      n.state = child_state::backing_off;
      n.restart_at = now + ev.backoff;
      n.restarts.push_back(now);
      break;
    case kind::gave_up:
      n.state = child_state::gave_up;
      n.last_failure = ev.reason;
      n.last_failure_at = std::chrono::system_clock::now();
      nodes_[ev.supervisor].state = child_state::gave_up;
      break;
    case kind::child_killed:
      break; // its exit follows
  }
  events_.push_back({++seq_, std::chrono::system_clock::now(), ev});
  if (events_.size() > history_)
    events_.pop_front();
  news_.notify_all();
}

void supervision_board::track(const handle& h) {
  std::lock_guard guard{mutex_};
  if (h.held())
    held_[h.name()] = h.held();
}

board_entry supervision_board::draw(const std::string& name, clock::time_point now) const {
  auto& n = nodes_.at(name);
  board_entry e;
  e.name = name;
  e.supervisor = n.supervisor;
  e.state = n.state;
  e.instance = n.instance;
  e.intensity = n.intensity;
  e.restarts = static_cast<std::size_t>(
    std::count_if(n.restarts.begin(), n.restarts.end(),
                  [&](auto at) { return now - at <= n.intensity.within; }));
  if (n.state == child_state::backing_off) {
    if (now >= n.restart_at)
      e.state = child_state::restarting;
    else
      e.backoff_left = std::chrono::ceil<std::chrono::milliseconds>(n.restart_at - now);
  }
  if (e.state == child_state::running)
    e.uptime = std::chrono::duration_cast<std::chrono::milliseconds>(now - n.up_since);
  e.last_failure = n.last_failure;
  e.last_failure_at = n.last_failure_at;
  if (auto held = held_.find(name); held != held_.end())
    e.held = held->second->load();
  for (auto& child : order_)
    if (nodes_.at(child).supervisor == name)
      e.children.push_back(draw(child, now));
  return e;
}

std::vector<board_entry> supervision_board::tree(clock::time_point now) const {
  std::lock_guard guard{mutex_};
  std::vector<board_entry> roots;
  for (auto& name : order_)
    if (nodes_.at(name).supervisor.empty())
      roots.push_back(draw(name, now));
  return roots;
}

board_news supervision_board::wait_after(std::uint64_t seq,
                                         std::chrono::milliseconds timeout) const {
  std::unique_lock lock{mutex_};
  news_.wait_for(lock, timeout, [&] { return seq_ > seq; });
  board_news news;
  for (auto& e : events_)
    if (e.seq > seq)
      news.events.push_back(e);
  if (!news.events.empty() && news.events.front().seq > seq + 1)
    news.missed = news.events.front().seq - seq - 1;
  return news;
}

std::uint64_t supervision_board::last_seq() const {
  std::lock_guard guard{mutex_};
  return seq_;
}

} // namespace actors
