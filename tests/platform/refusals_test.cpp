// What the relay does with rows the broker will not take: too large ones are
// parked before publishing, a row nacked while others pass is parked at the
// third nack, a broker refusing everything parks nothing and pauses sending
// with backoff, and a channel closed with 406 is pinned on the row in flight.
#include <outbox/refusals.hpp>

#include <gtest/gtest.h>

using namespace platform;
using namespace std::chrono_literals;
using clock_type = refusal_tracker::clock;

namespace {

outbox_event event(std::int64_t id, std::size_t payload_bytes = 10) {
  auto n = std::to_string(id);
  return {id, std::string{"m"}.append(n), "Platform_Published", std::string(payload_bytes, 'x'),
          std::string{"r"}.append(n), ""};
}

std::vector<std::int64_t> ids_of(const std::vector<outbox_event>& events) {
  std::vector<std::int64_t> ids;
  for (auto& e : events)
    ids.push_back(e.id);
  return ids;
}

std::vector<std::int64_t> ids_of(const std::vector<parked_event>& parked) {
  std::vector<std::int64_t> ids;
  for (auto& p : parked)
    ids.push_back(p.event.id);
  return ids;
}

// A settled batch: `acked` and `nacked` ids.
batch_outcome outcome(std::vector<std::int64_t> acked, std::vector<std::int64_t> nacked) {
  batch_outcome out;
  out.confirmed = std::move(acked);
  for (auto id : nacked)
    out.nacked.push_back(event(id));
  return out;
}

refusal_policy policy() {
  refusal_policy p;
  p.max_event_bytes = 100;
  p.max_nacks = 3;
  p.pause = {100ms, 400ms, 0};
  return p;
}

} // namespace

TEST(refusal_tracker, parks_rows_over_the_size_limit_before_they_are_published) {
  refusal_tracker t{policy()};
  std::vector<outbox_event> batch = {event(1, 100), event(2, 101), event(3, 5), event(4, 5000)};
  auto parked = t.too_large(batch);
  EXPECT_EQ(ids_of(batch), (std::vector<std::int64_t>{1, 3})) << "the rest keep their order";
  ASSERT_EQ(ids_of(parked), (std::vector<std::int64_t>{2, 4}));
  EXPECT_EQ(parked[0].reason, park_reason::too_large);
  EXPECT_EQ(parked[0].detail, "101 bytes, over OutboxMaxEventBytes (100)");
  EXPECT_EQ(parked[1].event.message_id, "m4") << "the whole row, for the log";
  EXPECT_STREQ(to_string(parked[1].reason), "too_large");
}

TEST(refusal_tracker, a_row_nacked_three_times_while_others_pass_is_parked) {
  refusal_tracker t{policy()};
  auto now = clock_type::now();
  EXPECT_TRUE(t.settled(outcome({1, 2}, {3}), now).empty()) << "first nack";
  EXPECT_FALSE(t.paused(now)) << "the broker took others: no pause";
  EXPECT_TRUE(t.settled(outcome({4}, {3}), now).empty()) << "second nack";
  auto parked = t.settled(outcome({5, 6}, {3}), now);
  ASSERT_EQ(ids_of(parked), (std::vector<std::int64_t>{3}));
  EXPECT_EQ(parked[0].reason, park_reason::nacked);
  EXPECT_EQ(parked[0].detail, "nacked 3 times while the broker took other events");
  // Parked rows are forgotten: a later nack of the same id starts again.
  EXPECT_TRUE(t.settled(outcome({7}, {3}), now).empty());
}

TEST(refusal_tracker, an_ack_between_nacks_clears_the_row) {
  refusal_tracker t{policy()};
  auto now = clock_type::now();
  t.settled(outcome({1}, {2}), now);
  t.settled(outcome({3}, {2}), now);
  t.settled(outcome({2}, {}), now); // the broker took it in the end
  EXPECT_TRUE(t.settled(outcome({4}, {2}), now).empty()) << "counted from one again";
  EXPECT_TRUE(t.settled(outcome({5}, {2}), now).empty());
  EXPECT_EQ(t.settled(outcome({6}, {2}), now).size(), 1u);
}

TEST(refusal_tracker, a_broker_refusing_everything_parks_nothing_and_pauses_with_backoff) {
  refusal_tracker t{policy()};
  auto now = clock_type::now();
  for (int round = 0; round < 10; ++round)
    EXPECT_TRUE(t.settled(outcome({}, {1, 2, 3}), now).empty()) << "round " << round;
  EXPECT_TRUE(t.paused(now));
  EXPECT_EQ(t.resume_at(), now + 400ms) << "100, 200, 400 ms: capped";
  EXPECT_FALSE(t.paused(now + 400ms));

  t.settled(outcome({}, {1}), now);
  EXPECT_EQ(t.resume_at(), now + 400ms);
  t.settled(outcome({4}, {}), now); // the broker takes events again
  EXPECT_FALSE(t.paused(now));
  t.settled(outcome({}, {1}), now);
  EXPECT_EQ(t.resume_at(), now + 100ms) << "the backoff starts over";
}

TEST(refusal_tracker, a_lone_row_nacked_with_no_other_traffic_is_held_but_not_parked) {
  refusal_tracker t{policy()};
  auto now = clock_type::now();
  for (int i = 0; i < 5; ++i)
    EXPECT_TRUE(t.settled(outcome({}, {9}), now).empty()) << "no evidence against the row";
  EXPECT_TRUE(t.paused(now)) << "nor is it sent again at once";
  // Traffic resumes: others pass while it is nacked, three times.
  t.settled(outcome({10}, {9}), now);
  t.settled(outcome({11}, {9}), now);
  EXPECT_EQ(ids_of(t.settled(outcome({12}, {9}), now)), (std::vector<std::int64_t>{9}));
}

TEST(refusal_tracker, a_channel_refused_with_one_row_in_flight_parks_that_row) {
  refusal_tracker t{policy()};
  auto parked = t.channel_refused({event(5)}, "406 PRECONDITION_FAILED - message size 5000 ...");
  ASSERT_TRUE(parked);
  EXPECT_EQ(parked->event.id, 5);
  EXPECT_EQ(parked->reason, park_reason::refused);
  EXPECT_EQ(parked->detail, "406 PRECONDITION_FAILED - message size 5000 ...");
  EXPECT_FALSE(t.isolating());
}

TEST(refusal_tracker, several_rows_in_flight_are_sent_one_at_a_time_until_the_culprit_is_alone) {
  refusal_tracker t{policy()};
  EXPECT_EQ(t.batch_size(500), 500u);
  EXPECT_FALSE(t.channel_refused({event(3), event(4), event(5), event(6)}, "406"));
  EXPECT_TRUE(t.isolating());
  EXPECT_EQ(t.batch_size(500), 1u);

  t.fetched({event(3)});
  t.settled(outcome({3}, {}), clock_type::now()); // innocent
  EXPECT_TRUE(t.isolating());
  t.fetched({event(4)});
  auto parked = t.channel_refused({event(4)}, "406 too big"); // alone: the culprit
  ASSERT_TRUE(parked);
  EXPECT_EQ(parked->event.id, 4);
  EXPECT_TRUE(t.isolating()) << "5 and 6 are still suspects";
  t.fetched({event(6)}); // 5 was published by someone else meanwhile: no longer pending
  t.settled(outcome({6}, {}), clock_type::now());
  EXPECT_FALSE(t.isolating());
  EXPECT_EQ(t.batch_size(500), 500u);
}

TEST(refusal_tracker, suspects_end_when_nothing_is_pending) {
  refusal_tracker t{policy()};
  t.channel_refused({event(1), event(2)}, "406");
  t.fetched({});
  EXPECT_FALSE(t.isolating());
}
