#include "store/read_model.hpp"

#include <algorithm>
#include <mutex>

namespace command {

void read_model::reset(const std::vector<platform>& platforms,
                       const std::vector<command_record>& commands) {
  std::map<std::int32_t, entry> fresh;
  for (auto& p : platforms)
    fresh[p.id].p = p;
  for (auto& c : commands)
    if (auto i = fresh.find(c.platform_id); i != fresh.end())
      i->second.commands.push_back(c);
  std::unique_lock lock{mutex_};
  platforms_.swap(fresh);
}

void read_model::add_platform(const platform& p) {
  std::unique_lock lock{mutex_};
  platforms_.try_emplace(p.id, entry{p, {}});
}

void read_model::add_command(const command_record& c) {
  std::unique_lock lock{mutex_};
  if (auto i = platforms_.find(c.platform_id); i != platforms_.end())
    i->second.commands.push_back(c);
}

std::vector<platform> read_model::platforms() const {
  std::shared_lock lock{mutex_};
  std::vector<platform> out;
  out.reserve(platforms_.size());
  for (auto& [id, e] : platforms_)
    out.push_back(e.p);
  return out;
}

bool read_model::has_platform(std::int32_t id) const {
  std::shared_lock lock{mutex_};
  return platforms_.count(id) > 0;
}

std::optional<std::vector<command_record>> read_model::commands(std::int32_t platform_id) const {
  std::shared_lock lock{mutex_};
  auto i = platforms_.find(platform_id);
  if (i == platforms_.end())
    return std::nullopt;
  return i->second.commands;
}

std::optional<command_record> read_model::command(std::int32_t platform_id,
                                                  std::int32_t command_id) const {
  std::shared_lock lock{mutex_};
  auto i = platforms_.find(platform_id);
  if (i == platforms_.end())
    return std::nullopt;
  auto& cs = i->second.commands;
  auto c = std::lower_bound(cs.begin(), cs.end(), command_id,
                            [](const command_record& r, std::int32_t id) { return r.id < id; });
  if (c == cs.end() || c->id != command_id)
    return std::nullopt;
  return *c;
}

} // namespace command
