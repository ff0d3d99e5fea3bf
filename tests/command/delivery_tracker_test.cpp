// The subscriber's deliveries in flight: settling by tag, request ids, and
// the oldest delivery's deadline with the error text the subscriber fails with.
#include "events/delivery_tracker.hpp"

#include <gtest/gtest.h>

using namespace command;
using namespace std::chrono_literals;

namespace {

const auto t0 = delivery_tracker::clock::time_point{} + 1h;
const auto ack = delivery_tracker::settlement::ack;
const auto reject = delivery_tracker::settlement::reject;

} // namespace

TEST(delivery_tracker, settles_each_tracked_delivery_once_with_its_request_id) {
  delivery_tracker t{5s};
  EXPECT_TRUE(t.empty());
  t.track(1, {"req-1", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}, t0);
  t.track(2, {}, t0);
  EXPECT_EQ(t.size(), 2u);
  auto second = t.settle(2, ack);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->request_id, "") << "tracked without a request id";
  EXPECT_EQ(second->traceparent, "");
  auto first = t.settle(1, ack);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->request_id, "req-1");
  EXPECT_EQ(first->traceparent, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  EXPECT_TRUE(t.empty());
  EXPECT_EQ(t.settle(1, ack), std::nullopt) << "already settled";
  EXPECT_EQ(t.settle(3, ack), std::nullopt) << "never tracked";
}

TEST(delivery_tracker, nothing_is_overdue_up_to_the_timeout) {
  delivery_tracker t{5s};
  EXPECT_EQ(t.overdue(t0), std::nullopt) << "nothing in flight";
  t.track(1, {"req-1", ""}, t0);
  EXPECT_EQ(t.overdue(t0 + 5s), std::nullopt);
  EXPECT_EQ(t.overdue(t0 + 5s + 1ns), "delivery 1 (request_id req-1) not processed within 5000ms");
  t.settle(1, ack);
  EXPECT_EQ(t.overdue(t0 + 1h), std::nullopt) << "settled deliveries have no deadline";
}

TEST(delivery_tracker, the_oldest_delivery_is_reported_whatever_its_tag) {
  delivery_tracker t{250ms};
  t.track(7, {"req-7", ""}, t0 + 100ms);
  t.track(9, {}, t0);
  t.track(3, {"req-3", ""}, t0 + 200ms);
  EXPECT_EQ(t.overdue(t0 + 300ms), "delivery 9 not processed within 250ms")
    << "no request id: none in the text";
  t.settle(9, ack);
  EXPECT_EQ(t.overdue(t0 + 300ms), std::nullopt);
  EXPECT_EQ(t.overdue(t0 + 400ms), "delivery 7 (request_id req-7) not processed within 250ms");
}

TEST(delivery_tracker, a_settled_run_is_acked_once_up_to_the_oldest_delivery_in_flight) {
  delivery_tracker t{5s};
  for (std::uint64_t tag = 1; tag <= 6; ++tag)
    t.track(tag, {}, t0);
  EXPECT_EQ(t.take_ackable(), std::nullopt) << "nothing settled";
  t.settle(2, ack);
  t.settle(3, ack);
  EXPECT_EQ(t.take_ackable(), std::nullopt) << "1 is still in flight: acking 3 would ack it";
  t.settle(1, ack);
  t.settle(5, ack);
  EXPECT_EQ(t.take_ackable(), 3u) << "1-3 settled, 4 in flight";
  EXPECT_EQ(t.take_ackable(), std::nullopt) << "1-3 are acked already";
  t.settle(4, reject);
  t.settle(6, ack);
  EXPECT_EQ(t.take_ackable(), 6u) << "4 was rejected on its own; 5 and 6 go in one ack";
  EXPECT_EQ(t.take_ackable(), std::nullopt);
  EXPECT_TRUE(t.empty());
}

TEST(delivery_tracker, rejected_deliveries_alone_leave_nothing_to_ack) {
  delivery_tracker t{5s};
  t.track(1, {}, t0);
  t.track(2, {}, t0);
  t.settle(2, reject);
  t.settle(1, reject);
  EXPECT_EQ(t.take_ackable(), std::nullopt);
  t.track(3, {}, t0);
  t.settle(3, ack);
  EXPECT_EQ(t.take_ackable(), 3u) << "an ack with multiple over 1-3 leaves the rejected ones alone";
}
