#pragma once
// The repository: a pool of actors, each owning one database session (a
// platform_store) on its own thread, so concurrent requests are not
// serialised behind one connection. A create whose values the database
// refuses is answered with the store's error (kind invalid: 400) and the
// member keeps serving; any other database error fails the member and its
// supervisor restarts it (the schema is applied before, by platform.migrations).
#include "config.hpp"
#include "platform.hpp"
#include "repository/platform_cache.hpp"

#include <actors/handle.hpp>

#include <caf/all.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

namespace platform {

using repository_actor = caf::typed_actor<
  caf::replies_to<list_atom>::with<std::vector<platform_record>>,
  caf::replies_to<page_atom, std::int32_t, std::int32_t>::with<std::vector<platform_record>>,
  caf::replies_to<caf::get_atom, std::int32_t>::with<platform_record>, // or not_found
  caf::replies_to<create_atom, new_platform, create_origin>::with<created_platform>,
  caf::replies_to<ping_atom>::with<caf::ok_atom>>; // the database answers

// Member `index` of the pool, named "platform.repository.<index>". It puts
// each platform it finds or creates into `cache` before answering.
caf::actor spawn_repository(caf::actor_system& sys, const repository_config& cfg, unsigned index,
                            std::shared_ptr<platform_cache> cache);

// The callers' side (HTTP and gRPC threads): answers `find` from the cache
// when it can; otherwise spreads requests over the pool's handles, skips
// members that are down, and gives each request one deadline.
class repository_client {
public:
  repository_client(caf::actor_system& sys, std::vector<actors::handle> pool,
                    std::chrono::milliseconds deadline, std::shared_ptr<const platform_cache> cache);

  caf::expected<std::vector<platform_record>> all();
  // Up to `limit` platforms with ids above `after_id`, ascending.
  caf::expected<std::vector<platform_record>> page(std::int32_t after_id, std::int32_t limit);
  caf::expected<platform_record> find(std::int32_t id);
  caf::expected<created_platform> create(const new_platform& p, const create_origin& origin);
  // Ok when a member's database session answers.
  caf::expected<caf::ok_atom> ping();

  void set_deadline(std::chrono::milliseconds deadline) { deadline_ = deadline; }

private:
  // Starts at the next member in turn; a member that is down (restarting
  // after a failure) passes the request on to the next, within the deadline.
  template <class Result, class... Ts>
  caf::expected<Result> call(const Ts&... xs);

  caf::actor_system* sys_;
  std::vector<actors::handle> pool_;
  std::chrono::milliseconds deadline_;
  std::shared_ptr<const platform_cache> cache_;
  std::shared_ptr<std::atomic<std::size_t>> next_ = std::make_shared<std::atomic<std::size_t>>(0);
};

} // namespace platform
