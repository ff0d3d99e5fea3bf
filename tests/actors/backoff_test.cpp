#include <actors/backoff.hpp>
#include <actors/restart_window.hpp>

#include <gtest/gtest.h>

using namespace std::chrono_literals;
using actors::backoff_delay;
using actors::backoff_policy;

TEST(backoff, doubles_from_min_up_to_max_without_jitter) {
  backoff_policy p{100ms, 1000ms, 0.0};
  EXPECT_EQ(backoff_delay(p, 1, 0.7), 100ms);
  EXPECT_EQ(backoff_delay(p, 2, 0.7), 200ms);
  EXPECT_EQ(backoff_delay(p, 3, 0.7), 400ms);
  EXPECT_EQ(backoff_delay(p, 4, 0.7), 800ms);
  EXPECT_EQ(backoff_delay(p, 5, 0.7), 1000ms);
  EXPECT_EQ(backoff_delay(p, 6, 0.7), 1000ms);
}

TEST(backoff, huge_attempts_stay_at_max) {
  backoff_policy p{100ms, 30'000ms, 0.0};
  EXPECT_EQ(backoff_delay(p, 1'000'000, 0.5), 30'000ms);
}

TEST(backoff, jitter_spreads_symmetrically_around_the_delay) {
  backoff_policy p{100ms, 1000ms, 0.2};
  EXPECT_EQ(backoff_delay(p, 1, 0.0), 80ms);
  EXPECT_EQ(backoff_delay(p, 1, 0.5), 100ms);
  EXPECT_EQ(backoff_delay(p, 1, 1.0), 120ms);
  EXPECT_EQ(backoff_delay(p, 5, 1.0), 1200ms); // jitter applies after the cap
}

TEST(backoff, random_source_stays_within_the_jitter_band) {
  backoff_policy p{200ms, 1000ms, 0.5};
  for (int i = 0; i < 1000; ++i) {
    auto d = backoff_delay(p, 2);
    ASSERT_GE(d, 200ms);
    ASSERT_LE(d, 600ms);
  }
}

TEST(restart_window, allows_max_restarts_within_the_window_then_refuses) {
  actors::restart_window w{{3, 1000ms}};
  auto t0 = actors::restart_window::clock::time_point{} + 1h;
  EXPECT_TRUE(w.try_record(t0));
  EXPECT_TRUE(w.try_record(t0 + 100ms));
  EXPECT_TRUE(w.try_record(t0 + 200ms));
  EXPECT_EQ(w.recent(), 3u);
  EXPECT_FALSE(w.try_record(t0 + 300ms));
  EXPECT_EQ(w.recent(), 3u) << "a refused restart is not recorded";
}

TEST(restart_window, old_restarts_leave_the_window) {
  actors::restart_window w{{2, 1000ms}};
  auto t0 = actors::restart_window::clock::time_point{} + 1h;
  EXPECT_TRUE(w.try_record(t0));
  EXPECT_TRUE(w.try_record(t0 + 500ms));
  EXPECT_FALSE(w.try_record(t0 + 900ms));
  EXPECT_TRUE(w.try_record(t0 + 1001ms)); // t0 dropped out
  EXPECT_EQ(w.recent(), 2u);
  EXPECT_TRUE(w.try_record(t0 + 5000ms)); // a quiet period resets the attempt count
  EXPECT_EQ(w.recent(), 1u);
}
