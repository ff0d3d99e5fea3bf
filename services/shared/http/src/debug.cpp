#include "shared/http/debug.hpp"

#include "shared/http/problem.hpp"

#include <actors/log.hpp>

#include <nlohmann/json.hpp>

#include <atomic>
#include <charconv>

namespace shared::http {

namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr int max_streams = 8;

json to_json(const actors::board_entry& e) {
  json j = {{"name", e.name}, {"state", actors::to_string(e.state)}};
  if (!e.supervisor.empty()) { // a child (the root is none)
    j["instance"] = e.instance;
    j["restarts"] = e.restarts;
    j["intensity"] = {{"max_restarts", e.intensity.max_restarts},
                      {"within_ms", e.intensity.within.count()}};
  }
  if (e.state == actors::child_state::backing_off)
    j["backoff_left_ms"] = e.backoff_left.count();
  if (e.state == actors::child_state::running)
    j["uptime_ms"] = e.uptime.count();
  if (!e.last_failure.empty())
    j["last_failure"] = {{"reason", e.last_failure},
                         {"at", actors::log::utc_time(e.last_failure_at)}};
  if (e.held)
    j["held"] = *e.held;
  if (!e.children.empty()) {
    j["children"] = json::array();
    for (auto& c : e.children)
      j["children"].push_back(to_json(c));
  }
  return j;
}

std::string dump(const json& j) {
  // A reason may quote bytes that are not UTF-8: never fail to answer because of it.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// An event's id: the board's epoch and the event's sequence ("<epoch>.<seq>"),
// so that a client reconnecting to a restarted service does not skip the
// new process's first events.
std::string server_sent(const actors::board_event& e, std::uint64_t epoch) {
  auto& ev = e.event;
  json data = {{"seq", e.seq},
               {"at", actors::log::utc_time(e.at)},
               {"kind", actors::to_string(ev.kind)},
               {"supervisor", ev.supervisor},
               {"child", ev.child},
               {"instance", ev.instance},
               {"attempt", ev.attempt},
               {"backoff_ms", ev.backoff.count()},
               {"reason", ev.reason}};
  return std::string{"id: "}
    .append(std::to_string(epoch))
    .append(".")
    .append(std::to_string(e.seq))
    .append("\nevent: supervision\ndata: ")
    .append(dump(data))
    .append("\n\n");
}

// Where a stream starts: after a reconnecting client's Last-Event-ID when this
// board wrote it, else from the start of the history.
std::uint64_t resume_point(const httplib::Request& req, const actors::supervision_board& board) {
  auto text = req.get_header_value("Last-Event-ID");
  auto prefix = std::to_string(board.epoch()) + ".";
  if (!text.starts_with(prefix))
    return 0;
  std::uint64_t seq = 0;
  auto* first = text.data() + prefix.size();
  auto* last = text.data() + text.size();
  auto [end, ec] = std::from_chars(first, last, seq);
  if (ec != std::errc{} || end != last || seq > board.last_seq())
    return 0;
  return seq;
}

bool is_loopback(const std::string& addr) {
  return addr.starts_with("127.") || addr == "::1" || addr.starts_with("::ffff:127.");
}

// The route's handler, answering 403 to a peer the access setting excludes.
handler guarded(debug_access access, handler h) {
  if (access == debug_access::on)
    return h;
  return [h = std::move(h)](const httplib::Request& req, httplib::Response& res) {
    if (!is_loopback(req.remote_addr))
      return reply(res, make_problem(403, "The supervision view answers loopback clients only "
                                          "(DebugSupervision=loopback)."));
    h(req, res);
  };
}

} // namespace

std::vector<route> debug_routes(std::shared_ptr<const actors::supervision_board> board,
                                debug_access access) {
  if (access == debug_access::off)
    return {};
  auto snapshot = [board](const httplib::Request&, httplib::Response& res) {
    json tree = json::array();
    for (auto& root : board->tree())
      tree.push_back(to_json(root));
    json body = {{"at", actors::log::utc_time(std::chrono::system_clock::now())}, {"tree", tree}};
    res.set_header("Cache-Control", "no-store");
    res.set_content(dump(body), "application/json; charset=utf-8");
  };
  auto streams = std::make_shared<std::atomic<int>>(0);
  auto events = [board, streams](const httplib::Request& req, httplib::Response& res) {
    if (streams->fetch_add(1) >= max_streams) {
      --*streams;
      return reply(res, make_problem(503, "Too many supervision event streams are open; retry "
                                          "later."));
    }
    auto last = std::make_shared<std::uint64_t>(resume_point(req, *board));
    res.set_header("Cache-Control", "no-store");
    res.set_header("X-Accel-Buffering", "no"); // a proxy passes each event on at once
    res.set_chunked_content_provider(
      "text/event-stream",
      [board, last](std::size_t, httplib::DataSink& sink) {
        auto news = board->wait_after(*last, 1s);
        std::string out;
        if (news.missed && *last != 0)
          out.append("event: missed\ndata: ")
            .append(std::to_string(news.missed))
            .append("\n\n");
        for (auto& e : news.events) {
          out += server_sent(e, board->epoch());
          *last = e.seq;
        }
        if (out.empty())
          out = ": quiet\n\n";
        return sink.write(out.data(), out.size());
      },
      [streams](bool) { --*streams; });
  };
  return {
    {"/debug/supervision", "/debug/supervision", guarded(access, snapshot), {}},
    {"/debug/supervision/events", "/debug/supervision/events", guarded(access, events), {}},
  };
}

} // namespace shared::http
