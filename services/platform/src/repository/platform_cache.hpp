#pragma once
// Platforms by id, kept in memory. Platforms never change after creation, so
// an entry is never stale and nothing invalidates it; the repository fills it
// (found and created platforms) before it answers, so a GET right after a
// POST's 201 finds the new platform here or in the database. Bounded: each
// shard forgets its oldest entry when full. Misses are not cached, so an id
// that does not exist yet never hides a later create. Thread-safe.
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
  // `capacity` 0 turns the cache off.
  explicit platform_cache(std::size_t capacity);

  std::optional<platform_record> find(std::int32_t id) const;
  void put(const platform_record& p);
  std::size_t size() const;

private:
  // Shards keep HTTP threads reading different ids off each other's locks.
  static constexpr std::size_t shard_count = 16;
  struct shard {
    std::shared_mutex mutex;
    std::unordered_map<std::int32_t, platform_record> by_id;
    std::deque<std::int32_t> oldest_first;
  };
  shard& shard_of(std::int32_t id) const;

  std::size_t shard_capacity_;
  mutable std::array<shard, shard_count> shards_;
};

} // namespace platform
