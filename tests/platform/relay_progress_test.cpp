// What the relay tells about its leadership and the backlog it found.
#include <outbox/relay_progress.hpp>

#include <gtest/gtest.h>

using namespace platform;
using namespace std::chrono_literals;

TEST(relay_leadership, stands_by_once_then_leads_for_good) {
  relay_leadership l;
  using change = relay_leadership::change;
  EXPECT_FALSE(l.leading());
  EXPECT_FALSE(l.standing_by()) << "not tried yet";
  EXPECT_EQ(l.observe(false), change::standing_by);
  EXPECT_TRUE(l.standing_by());
  EXPECT_EQ(l.observe(false), change::none) << "the standby is told once";
  EXPECT_FALSE(l.leading());
  EXPECT_EQ(l.observe(true), change::took_lead);
  EXPECT_TRUE(l.leading());
  EXPECT_FALSE(l.standing_by());
  EXPECT_EQ(l.observe(true), change::none);
  EXPECT_EQ(l.observe(false), change::none) << "the lock lives as long as the session";
  EXPECT_TRUE(l.leading());
}

TEST(backlog_tracker, tells_a_found_backlog_drained_once) {
  backlog_tracker b;
  auto t0 = backlog_tracker::clock::now();
  EXPECT_FALSE(b.idle(t0)) << "nothing found, nothing to tell";
  b.found(50, t0);
  b.published(30);
  b.published(20);
  auto drained = b.idle(t0 + 4ms);
  ASSERT_TRUE(drained);
  EXPECT_EQ(drained->published, 50u);
  EXPECT_EQ(drained->took, 4ms);
  EXPECT_FALSE(b.idle(t0 + 5ms)) << "told once";
  b.found(0, t0);
  EXPECT_FALSE(b.idle(t0)) << "an empty outbox has no backlog to tell";
}
