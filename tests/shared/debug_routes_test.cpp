// The supervision debug routes over loopback: the tree's JSON, the event
// stream (replay, live events, resuming after Last-Event-ID), the bound on
// streams, and DebugSupervision=off.
#include "eventually.hpp"
#include "running_server.hpp"

#include <shared/http/debug.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

using namespace std::chrono_literals;
using actors::supervision_event;

namespace {

supervision_event event(supervision_event::kind_type kind, std::string child) {
  supervision_event ev;
  ev.kind = kind;
  ev.supervisor = "svc.root";
  ev.child = std::move(child);
  ev.instance = 1;
  ev.intensity = {5, 30s};
  return ev;
}

// An event stream read on its own thread until the test ends it.
class stream_reader {
public:
  stream_reader(int port, httplib::Headers headers = {})
    : thread_([this, port, headers] {
        httplib::Client cli{"127.0.0.1", port};
        auto res = cli.Get("/debug/supervision/events", headers,
                           [this](const char* data, std::size_t size) {
                             std::lock_guard guard{mutex_};
                             text_.append(data, size);
                             changed_.notify_all();
                             return !stop_;
                           });
        std::lock_guard guard{mutex_};
        status_ = res ? res->status : -1;
        done_ = true;
        changed_.notify_all();
      }) {}
  ~stream_reader() {
    stop();
    thread_.join();
  }

  // The next piece (a comment within a second) ends the read.
  void stop() { stop_ = true; }

  // Waits until the text read contains `what`.
  bool wait_for(const std::string& what, std::chrono::milliseconds deadline = 5s) {
    std::unique_lock lock{mutex_};
    return changed_.wait_for(lock, deadline,
                             [&] { return text_.find(what) != std::string::npos; });
  }
  // Waits until the request ended; its status (-1: no response).
  int status(std::chrono::milliseconds deadline = 5s) {
    std::unique_lock lock{mutex_};
    changed_.wait_for(lock, deadline, [&] { return done_; });
    return status_;
  }
  std::string text() {
    std::lock_guard guard{mutex_};
    return text_;
  }

private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::string text_;
  int status_ = 0;
  bool done_ = false;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

class debug_routes_test : public ::testing::Test {
protected:
  void serve(shared::http::debug_access access) {
    svr = std::make_unique<running_server>(shared::http::server_options{}, metrics,
                                           shared::http::debug_routes(board, access));
  }

  std::shared_ptr<actors::supervision_board> board = std::make_shared<actors::supervision_board>();
  shared::metrics::registry metrics;
  std::unique_ptr<running_server> svr;
};

} // namespace

TEST_F(debug_routes_test, the_tree_is_json_with_each_childs_state_and_budget) {
  board->record(event(supervision_event::child_started, "svc.worker"));
  auto failed = event(supervision_event::child_failed, "svc.worker");
  failed.reason = "broker away";
  board->record(failed);
  auto scheduled = event(supervision_event::restart_scheduled, "svc.worker");
  scheduled.backoff = 60s;
  board->record(scheduled);
  serve(shared::http::debug_access::on);

  httplib::Client cli{"127.0.0.1", svr->port()};
  auto res = cli.Get("/debug/supervision");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json; charset=utf-8");
  auto body = nlohmann::json::parse(res->body);
  auto& root = body["tree"][0];
  EXPECT_EQ(root["name"], "svc.root");
  EXPECT_EQ(root["state"], "running");
  EXPECT_FALSE(root.contains("intensity")); // the root answers to nobody
  auto& worker = root["children"][0];
  EXPECT_EQ(worker["name"], "svc.worker");
  EXPECT_EQ(worker["state"], "backing_off");
  EXPECT_GT(worker["backoff_left_ms"].get<int>(), 50'000);
  EXPECT_LE(worker["backoff_left_ms"].get<int>(), 60'000);
  EXPECT_EQ(worker["restarts"], 1);
  EXPECT_EQ(worker["intensity"], (nlohmann::json{{"max_restarts", 5}, {"within_ms", 30'000}}));
  EXPECT_EQ(worker["last_failure"]["reason"], "broker away");
  EXPECT_FALSE(worker.contains("uptime_ms")); // not running
}

TEST_F(debug_routes_test, the_stream_replays_then_follows_and_resumes_after_the_last_id) {
  board->record(event(supervision_event::child_started, "svc.a"));
  board->record(event(supervision_event::child_started, "svc.b"));
  serve(shared::http::debug_access::on);

  auto id = [&](int seq) {
    return std::string{"id: "} + std::to_string(board->epoch()) + "." + std::to_string(seq) + "\n";
  };
  stream_reader all{svr->port()};
  ASSERT_TRUE(all.wait_for(id(2)));
  EXPECT_NE(all.text().find(id(1) + "event: supervision\ndata: {"), std::string::npos);
  board->record(event(supervision_event::child_started, "svc.c"));
  ASSERT_TRUE(all.wait_for(id(3), 2s)); // live, not when the stream ends
  EXPECT_NE(all.text().find("\"child\":\"svc.c\""), std::string::npos);

  auto last = std::to_string(board->epoch()) + ".2";
  stream_reader resumed{svr->port(), {{"Last-Event-ID", last}}};
  ASSERT_TRUE(resumed.wait_for(id(3)));
  EXPECT_EQ(resumed.text().find(id(2)), std::string::npos);

  // An id from another process (a restarted service): the history again.
  stream_reader elsewhere{svr->port(), {{"Last-Event-ID", "12345.2"}}};
  EXPECT_TRUE(elsewhere.wait_for(id(1)));
}

TEST_F(debug_routes_test, at_most_eight_streams_at_once) {
  serve(shared::http::debug_access::on);
  std::vector<std::unique_ptr<stream_reader>> open;
  for (int i = 0; i < 8; ++i)
    open.push_back(std::make_unique<stream_reader>(svr->port()));
  for (auto& reader : open)
    ASSERT_TRUE(reader->wait_for(": quiet\n"));
  stream_reader ninth{svr->port()};
  EXPECT_EQ(ninth.status(), 503);
  EXPECT_NE(ninth.text().find("Too many supervision event streams"), std::string::npos);
  open.pop_back(); // its slot is freed once the server notices the client left
  EXPECT_TRUE(support::eventually(
    [&] {
      stream_reader next{svr->port()};
      return next.wait_for(": quiet\n", 1500ms);
    },
    10s));
  for (auto& reader : open)
    reader->stop(); // all at once: each takes up to a second
}

TEST_F(debug_routes_test, off_means_the_routes_do_not_exist) {
  serve(shared::http::debug_access::off);
  httplib::Client cli{"127.0.0.1", svr->port()};
  auto res = cli.Get("/debug/supervision");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
}
