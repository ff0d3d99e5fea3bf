#pragma once
// What the REST reads are served from when the store is the process's own
// in-memory database: a copy kept by the repository actor (the only writer),
// updated after each commit, read by HTTP threads under a shared lock. It
// saves every GET an actor round trip (~100 us) and the SQL; since no other
// process can write an in-memory database, the copy cannot go stale.
#include "model.hpp"

#include <map>
#include <optional>
#include <shared_mutex>
#include <vector>

namespace command {

class read_model {
public:
  // Replaces everything (the repository does this when it starts).
  void reset(const std::vector<platform>& platforms, const std::vector<command_record>& commands);
  void add_platform(const platform& p); // a known id is left as it is
  void add_command(const command_record& c);

  std::vector<platform> platforms() const;
  bool has_platform(std::int32_t id) const;
  // Empty when the platform is unknown.
  std::optional<std::vector<command_record>> commands(std::int32_t platform_id) const;
  std::optional<command_record> command(std::int32_t platform_id, std::int32_t command_id) const;

private:
  struct entry {
    platform p;
    std::vector<command_record> commands; // by ascending id
  };
  mutable std::shared_mutex mutex_;
  std::map<std::int32_t, entry> platforms_;
};

} // namespace command
