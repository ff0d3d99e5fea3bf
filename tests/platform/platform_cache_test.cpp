// The by-id platform cache: pure logic, no servers.
#include "repository/platform_cache.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

using platform::platform_cache;
using platform::platform_record;

namespace {

platform_record numbered(std::int32_t id) {
  return {id, "name-" + std::to_string(id), "publisher", "Free"};
}

} // namespace

TEST(platform_cache, answers_what_was_put_and_nothing_else) {
  platform_cache cache{100};
  EXPECT_FALSE(cache.find(7));
  cache.put(numbered(7));
  auto found = cache.find(7);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->id, 7);
  EXPECT_EQ(found->name, "name-7");
  EXPECT_FALSE(cache.find(8));
}

TEST(platform_cache, stays_within_its_capacity_forgetting_the_oldest) {
  platform_cache cache{32}; // 2 per shard
  for (std::int32_t id = 1; id <= 1000; ++id)
    cache.put(numbered(id));
  EXPECT_LE(cache.size(), 32u);
  EXPECT_TRUE(cache.find(1000)) << "the newest stays";
  EXPECT_FALSE(cache.find(1)) << "the oldest went";
}

TEST(platform_cache, putting_an_id_twice_keeps_one_entry) {
  platform_cache cache{32};
  cache.put(numbered(5));
  cache.put(numbered(5));
  EXPECT_EQ(cache.size(), 1u);
}

TEST(platform_cache, capacity_zero_caches_nothing) {
  platform_cache cache{0};
  cache.put(numbered(1));
  EXPECT_FALSE(cache.find(1));
  EXPECT_EQ(cache.size(), 0u);
}

TEST(platform_cache, concurrent_readers_and_writers_see_whole_records) {
  platform_cache cache{1'000};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&cache, t] {
      for (std::int32_t id = 1; id <= 20'000; ++id) {
        if (t % 2 == 0) {
          cache.put(numbered(id));
        } else if (auto p = cache.find(id)) {
          EXPECT_EQ(p->name, "name-" + std::to_string(id));
        }
      }
    });
  for (auto& t : threads)
    t.join();
  EXPECT_LE(cache.size(), 1'008u);
}
