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
  platform_cache cache{100, 1 << 20};
  EXPECT_FALSE(cache.find(7));
  cache.put(numbered(7));
  auto found = cache.find(7);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->id, 7);
  EXPECT_EQ(found->name, "name-7");
  EXPECT_FALSE(cache.find(8));
}

TEST(platform_cache, stays_within_its_capacity_forgetting_the_oldest) {
  platform_cache cache{32, 1 << 20}; // 2 per shard
  for (std::int32_t id = 1; id <= 1000; ++id)
    cache.put(numbered(id));
  EXPECT_LE(cache.size(), 32u);
  EXPECT_TRUE(cache.find(1000)) << "the newest stays";
  EXPECT_FALSE(cache.find(1)) << "the oldest went";
}

TEST(platform_cache, putting_an_id_twice_keeps_one_entry) {
  platform_cache cache{32, 1 << 20};
  cache.put(numbered(5));
  cache.put(numbered(5));
  EXPECT_EQ(cache.size(), 1u);
}

TEST(platform_cache, capacity_zero_caches_nothing) {
  platform_cache cache{0, 1 << 20};
  cache.put(numbered(1));
  EXPECT_FALSE(cache.find(1));
  EXPECT_EQ(cache.size(), 0u);
}

TEST(platform_cache, concurrent_readers_and_writers_see_whole_records) {
  platform_cache cache{1'000, 1 << 20};
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

TEST(platform_cache, stays_within_its_bytes_however_large_the_platforms) {
  constexpr std::size_t budget = 16 * 64 * 1024; // 64 KiB a shard
  platform_cache cache{100'000, budget};
  for (std::int32_t id = 1; id <= 2'000; ++id)
    cache.put({id, std::string(10'000, 'n'), "publisher", "Free"});
  EXPECT_LE(cache.bytes(), budget);
  EXPECT_GT(cache.size(), 16u * 5) << "still caches what fits";
  EXPECT_LT(cache.size(), 16u * 7) << "about six 10 KB platforms a shard";
  EXPECT_TRUE(cache.find(2'000)) << "the newest stays";
  cache.put({5'000, std::string(100'000, 'x'), "p", "c"});
  EXPECT_FALSE(cache.find(5'000)) << "larger than a shard's budget: not cached";
}

TEST(platform_cache, zero_bytes_caches_nothing) {
  platform_cache cache{100, 0};
  cache.put(numbered(1));
  EXPECT_FALSE(cache.find(1));
}
