// The supervision board as pure logic: events in, a tree and an event
// history out, with explicit times (no actors, no sleeps).
#include <actors/supervision_board.hpp>

#include <gtest/gtest.h>

using namespace std::chrono_literals;
using actors::child_state;
using actors::supervision_event;
using clock_type = actors::supervision_board::clock;

namespace {

const actors::restart_intensity limits{3, 10s};

supervision_event event(supervision_event::kind_type kind, std::string supervisor,
                        std::string child, unsigned instance = 1) {
  supervision_event ev;
  ev.kind = kind;
  ev.supervisor = std::move(supervisor);
  ev.child = std::move(child);
  ev.instance = instance;
  ev.intensity = limits;
  return ev;
}

supervision_event scheduled(std::string supervisor, std::string child,
                            std::chrono::milliseconds backoff) {
  auto ev = event(supervision_event::restart_scheduled, std::move(supervisor), std::move(child));
  ev.backoff = backoff;
  return ev;
}

supervision_event failed(std::string supervisor, std::string child, std::string reason) {
  auto ev = event(supervision_event::child_failed, std::move(supervisor), std::move(child));
  ev.reason = std::move(reason);
  return ev;
}

const actors::board_entry* find(const std::vector<actors::board_entry>& entries,
                                const std::string& name) {
  for (auto& e : entries) {
    if (e.name == name)
      return &e;
    if (auto* inner = find(e.children, name))
      return inner;
  }
  return nullptr;
}

} // namespace

TEST(supervision_board, nests_supervisors_whatever_order_their_events_come_in) {
  actors::supervision_board board;
  auto t0 = clock_type::now();
  // The nested supervisor's child reports before the root reports the nested one.
  board.record(event(supervision_event::child_started, "svc.bus", "svc.subscriber"), t0);
  board.record(event(supervision_event::child_started, "svc.root", "svc.bus"), t0);
  board.record(event(supervision_event::child_started, "svc.root", "svc.rest"), t0);
  auto tree = board.tree(t0 + 5s);
  ASSERT_EQ(tree.size(), 1u);
  EXPECT_EQ(tree[0].name, "svc.root");
  ASSERT_EQ(tree[0].children.size(), 2u);
  EXPECT_EQ(tree[0].children[0].name, "svc.bus");
  EXPECT_EQ(tree[0].children[1].name, "svc.rest");
  ASSERT_EQ(tree[0].children[0].children.size(), 1u);
  auto& subscriber = tree[0].children[0].children[0];
  EXPECT_EQ(subscriber.name, "svc.subscriber");
  EXPECT_EQ(subscriber.state, child_state::running);
  EXPECT_EQ(subscriber.uptime, 5s);
  EXPECT_EQ(subscriber.intensity.max_restarts, 3u);
}

TEST(supervision_board, a_failed_child_backs_off_then_restarts_then_runs) {
  actors::supervision_board board;
  auto t0 = clock_type::now();
  board.record(event(supervision_event::child_started, "svc.bus", "svc.subscriber"), t0);
  board.record(failed("svc.bus", "svc.subscriber", "amqp: connection refused"), t0 + 1s);
  board.record(scheduled("svc.bus", "svc.subscriber", 2000ms), t0 + 1s);

  auto tree = board.tree(t0 + 1500ms);
  auto* during = find(tree, "svc.subscriber");
  ASSERT_NE(during, nullptr);
  EXPECT_EQ(during->state, child_state::backing_off);
  EXPECT_EQ(during->backoff_left, 1500ms);
  EXPECT_EQ(during->restarts, 1u);
  EXPECT_EQ(during->last_failure, "amqp: connection refused");

  EXPECT_EQ(find(board.tree(t0 + 3500ms), "svc.subscriber")->state, child_state::restarting);

  board.record(event(supervision_event::child_restarted, "svc.bus", "svc.subscriber", 2),
               t0 + 4s);
  tree = board.tree(t0 + 5s);
  auto* after = find(tree, "svc.subscriber");
  EXPECT_EQ(after->state, child_state::running);
  EXPECT_EQ(after->instance, 2u);
  EXPECT_EQ(after->uptime, 1s);
  EXPECT_EQ(after->last_failure, "amqp: connection refused"); // kept: why it last failed
}

TEST(supervision_board, restarts_count_only_inside_the_window) {
  actors::supervision_board board;
  auto t0 = clock_type::now();
  board.record(event(supervision_event::child_started, "svc.root", "svc.worker"), t0);
  board.record(scheduled("svc.root", "svc.worker", 10ms), t0);
  board.record(scheduled("svc.root", "svc.worker", 10ms), t0 + 4s);
  EXPECT_EQ(find(board.tree(t0 + 5s), "svc.worker")->restarts, 2u);
  EXPECT_EQ(find(board.tree(t0 + 12s), "svc.worker")->restarts, 1u); // the first left the window
  EXPECT_EQ(find(board.tree(t0 + 15s), "svc.worker")->restarts, 0u);
}

TEST(supervision_board, giving_up_marks_the_child_and_its_supervisor) {
  actors::supervision_board board;
  auto t0 = clock_type::now();
  board.record(event(supervision_event::child_started, "svc.root", "svc.store"), t0);
  board.record(event(supervision_event::child_started, "svc.store", "svc.repository"), t0);
  auto ev = event(supervision_event::gave_up, "svc.store", "svc.repository");
  ev.reason = "database away";
  board.record(ev, t0 + 1s);
  auto tree = board.tree(t0 + 1s);
  EXPECT_EQ(find(tree, "svc.repository")->state, child_state::gave_up);
  EXPECT_EQ(find(tree, "svc.repository")->last_failure, "database away");
  EXPECT_EQ(find(tree, "svc.store")->state, child_state::gave_up);
  EXPECT_EQ(find(tree, "svc.root")->state, child_state::running);
}

TEST(supervision_board, a_reader_gets_the_events_after_its_last_and_is_told_what_it_missed) {
  actors::supervision_board board{2};
  auto t0 = clock_type::now();
  EXPECT_TRUE(board.wait_after(0, 1ms).events.empty()); // nothing yet: the wait times out
  board.record(event(supervision_event::child_started, "svc.root", "a"), t0);
  board.record(event(supervision_event::child_started, "svc.root", "b"), t0);
  auto news = board.wait_after(1, 1s);
  ASSERT_EQ(news.events.size(), 1u);
  EXPECT_EQ(news.events[0].seq, 2u);
  EXPECT_EQ(news.events[0].event.child, "b");
  EXPECT_EQ(news.missed, 0u);

  board.record(event(supervision_event::child_started, "svc.root", "c"), t0);
  board.record(event(supervision_event::child_started, "svc.root", "d"), t0);
  news = board.wait_after(1, 1s); // history of 2: event 2 is gone
  ASSERT_EQ(news.events.size(), 2u);
  EXPECT_EQ(news.events[0].seq, 3u);
  EXPECT_EQ(news.missed, 1u);
  EXPECT_EQ(board.last_seq(), 4u);
}
