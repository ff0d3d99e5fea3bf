#pragma once
// Platforms by id, kept in memory. Platforms never change after creation, so
// an entry is never stale and nothing invalidates it; the repository fills it
// (found and created platforms) before it answers, so a GET right after a
// POST's 201 finds the new platform here or in the database. Bounded in
// entries and in bytes (its strings count, so a few huge platforms cannot
// fill the memory): each shard forgets its oldest entries when over either.
// Misses are not cached, so an id that does not exist yet never hides a
// later create. Thread-safe.
#include "platform.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <shared_mutex>
#include <unordered_map>

namespace platform {

class platform_cache {
public:
  // `capacity` (entries) or `max_bytes` 0 turns the cache off.
  platform_cache(std::size_t capacity, std::size_t max_bytes);

  std::optional<platform_record> find(std::int32_t id) const;
  void put(const platform_record& p);
  std::size_t size() const;
  std::size_t bytes() const;

  // What one entry costs: the record, its strings and the containers' share.
  static std::size_t cost(const platform_record& p);

private:
  // Shards keep HTTP threads reading different ids off each other's locks.
  static constexpr std::size_t shard_count = 16;
  struct shard {
    std::shared_mutex mutex;
    std::unordered_map<std::int32_t, platform_record> by_id;
    std::deque<std::int32_t> oldest_first;
    std::size_t bytes = 0;
  };
  shard& shard_of(std::int32_t id) const;

  std::size_t shard_capacity_;
  std::size_t shard_bytes_;
  mutable std::array<shard, shard_count> shards_;
};

} // namespace platform
