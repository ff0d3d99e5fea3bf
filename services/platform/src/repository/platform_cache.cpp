#include "repository/platform_cache.hpp"

#include <mutex>

namespace platform {

platform_cache::platform_cache(std::size_t capacity, std::size_t max_bytes)
  : shard_capacity_(max_bytes == 0 ? 0 : (capacity + shard_count - 1) / shard_count),
    shard_bytes_(max_bytes / shard_count) {}

std::size_t platform_cache::cost(const platform_record& p) {
  constexpr std::size_t node_overhead = 64; // hash node, bucket and queue slot, roughly
  return sizeof(platform_record) + node_overhead + p.name.size() + p.publisher.size()
         + p.cost.size();
}

platform_cache::shard& platform_cache::shard_of(std::int32_t id) const {
  return shards_[static_cast<std::uint32_t>(id) % shard_count];
}

std::optional<platform_record> platform_cache::find(std::int32_t id) const {
  auto& s = shard_of(id);
  std::shared_lock lock{s.mutex};
  auto i = s.by_id.find(id);
  if (i == s.by_id.end())
    return std::nullopt;
  return i->second;
}

void platform_cache::put(const platform_record& p) {
  auto size = cost(p);
  if (shard_capacity_ == 0 || size > shard_bytes_)
    return;
  auto& s = shard_of(p.id);
  std::unique_lock lock{s.mutex};
  if (!s.by_id.emplace(p.id, p).second)
    return;
  s.oldest_first.push_back(p.id);
  s.bytes += size;
  while (s.oldest_first.size() > shard_capacity_ || s.bytes > shard_bytes_) {
    auto oldest = s.by_id.find(s.oldest_first.front());
    s.bytes -= cost(oldest->second);
    s.by_id.erase(oldest);
    s.oldest_first.pop_front();
  }
}

std::size_t platform_cache::bytes() const {
  std::size_t n = 0;
  for (auto& s : shards_) {
    std::shared_lock lock{s.mutex};
    n += s.bytes;
  }
  return n;
}

std::size_t platform_cache::size() const {
  std::size_t n = 0;
  for (auto& s : shards_) {
    std::shared_lock lock{s.mutex};
    n += s.by_id.size();
  }
  return n;
}

} // namespace platform
