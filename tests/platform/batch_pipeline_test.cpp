// The relay's pipeline bookkeeping: batches in flight, their id span, and
// settlements arriving in any grouping.
#include <outbox/batch_pipeline.hpp>

#include <gtest/gtest.h>

using namespace platform;
using shared::amqp::confirm_status;

namespace {

std::vector<outbox_event> events(std::int64_t first_id, std::size_t n) {
  std::vector<outbox_event> out;
  for (std::size_t i = 0; i < n; ++i) {
    auto id = first_id + static_cast<std::int64_t>(i);
    auto n = std::to_string(id);
    out.push_back({id, std::string{"m"}.append(n), "Platform_Published", "{}", std::string{"r"}.append(n),
                   ""});
  }
  return out;
}

} // namespace

TEST(batch_pipeline, fills_up_to_its_limit_and_spans_the_ids_in_flight) {
  batch_pipeline p{2};
  EXPECT_EQ(p.in_flight(), 0u);
  EXPECT_FALSE(p.full());
  auto empty = p.in_flight_ids();
  EXPECT_LT(empty.last, empty.first) << "nothing in flight: an empty span";
  p.sent(events(10, 3), 1);
  EXPECT_FALSE(p.full());
  p.sent({}, 4);
  EXPECT_EQ(p.in_flight(), 1u) << "an empty batch is not a batch";
  p.sent(events(20, 2), 4);
  EXPECT_TRUE(p.full());
  auto span = p.in_flight_ids();
  EXPECT_EQ(span.first, 10);
  EXPECT_EQ(span.last, 21);
  EXPECT_EQ(p.oldest_last_sequence(), 3u);
}

TEST(batch_pipeline, settles_across_batches_and_releases_the_oldest_once_complete) {
  batch_pipeline p{2};
  p.sent(events(1, 3), 1); // sequences 1..3
  p.sent(events(4, 2), 4); // sequences 4..5
  p.settle({{1, confirm_status::acked}, {4, confirm_status::acked}});
  EXPECT_EQ(p.oldest_unsettled(), 2u);
  EXPECT_THROW(p.take_oldest(), std::logic_error) << "not settled yet";
  p.settle({{2, confirm_status::nacked}, {3, confirm_status::returned}, {5, confirm_status::acked}});
  EXPECT_EQ(p.oldest_unsettled(), 0u);
  auto first = p.take_oldest();
  EXPECT_EQ(first.confirmed, (std::vector<std::int64_t>{1, 3})) << "returned ones are published";
  ASSERT_EQ(first.nacked.size(), 1u);
  EXPECT_EQ(first.nacked[0].id, 2) << "nacked rows are told by id, for refusal_tracker";
  ASSERT_EQ(first.returned.size(), 1u);
  EXPECT_EQ(first.returned[0].message_id, "m3");
  EXPECT_EQ(first.returned[0].correlation_id, "r3");
  EXPECT_EQ(p.in_flight(), 1u);
  EXPECT_EQ(p.oldest_unsettled(), 0u) << "the second batch was settled meanwhile";
  EXPECT_EQ(p.take_oldest().confirmed, (std::vector<std::int64_t>{4, 5}));
  EXPECT_EQ(p.in_flight(), 0u);
}

TEST(batch_pipeline, ignores_settlements_it_does_not_know_and_repeats) {
  batch_pipeline p{1};
  p.sent(events(7, 2), 10);
  p.settle({{9, confirm_status::acked}, {12, confirm_status::acked}, {10, confirm_status::acked}});
  EXPECT_EQ(p.oldest_unsettled(), 1u);
  p.settle({{10, confirm_status::nacked}}); // a repeat does not count twice nor change it
  EXPECT_EQ(p.oldest_unsettled(), 1u);
  p.settle({{11, confirm_status::acked}});
  EXPECT_EQ(p.take_oldest().confirmed, (std::vector<std::int64_t>{7, 8}));
}

TEST(batch_pipeline, tells_which_events_in_flight_are_not_settled_yet) {
  batch_pipeline p{2};
  EXPECT_TRUE(p.unsettled().empty());
  p.sent(events(1, 3), 1); // sequences 1..3
  p.sent(events(4, 2), 4); // sequences 4..5
  p.settle({{1, confirm_status::acked}, {2, confirm_status::nacked}, {5, confirm_status::acked}});
  std::vector<std::int64_t> ids;
  for (auto& e : p.unsettled())
    ids.push_back(e.id);
  EXPECT_EQ(ids, (std::vector<std::int64_t>{3, 4})) << "across batches, oldest first";
}
