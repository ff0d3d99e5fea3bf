#include "repository/repository_actor.hpp"

#include "store/platform_store.hpp"

#include <actors/bridge.hpp>
#include <actors/errors.hpp>
#include <actors/log.hpp>
#include <actors/supervisor.hpp>
#include <actors/trace.hpp>

namespace platform {

namespace {

struct repository_state {
  std::string name = "platform.repository";
  std::unique_ptr<platform_store> store;
  std::shared_ptr<platform_cache> cache;
};

bool unavailable(const caf::error& err) {
  return err.category() == caf::atom("actors")
         && err.code() == static_cast<std::uint8_t>(actors::errc::child_unavailable);
}

repository_actor::behavior_type repository(repository_actor::stateful_pointer<repository_state> self,
                                           repository_config cfg, unsigned index,
                                           std::shared_ptr<platform_cache> cache) {
  actors::fail_on_exception(self);
  auto& st = self->state;
  st.name += "." + std::to_string(index);
  st.cache = std::move(cache);
  // Connecting here: if the database is away, the start fails and the
  // supervisor tries again after its backoff.
  st.store = std::make_unique<platform_store>(cfg.database);
  actors::log::info(st.name, "database_ready");
  return {
    [=](list_atom) { return self->state.store->all(); },
    [=](page_atom, std::int32_t after_id, std::int32_t limit) {
      return self->state.store->page(after_id, static_cast<std::size_t>(std::max(limit, 0)));
    },
    [=](caf::get_atom, std::int32_t id) -> caf::result<platform_record> {
      if (auto p = self->state.store->find(id)) {
        self->state.cache->put(*p);
        return *p;
      }
      return make_error(platform_errc::not_found,
                        std::string{"Platform "}.append(std::to_string(id)).append(" is unknown."));
    },
    [=](create_atom, const new_platform& p,
        const create_origin& origin) -> caf::result<created_platform> {
      actors::log::context_scope trace{actors::trace::same_span(origin.traceparent).log_fields()};
      auto created = self->state.store->create(p, origin);
      if (!created) // refused values or a reused key: the caller's answer, not a failure
        return std::move(created.error());
      self->state.cache->put(created->platform); // before the 201: read-your-writes
      actors::log::info(self->state.name,
                        created->replayed ? "platform_create_replayed" : "platform_created",
                        {{"id", created->platform.id}, {"request_id", origin.request_id}});
      return std::move(*created);
    },
    [=](ping_atom) {
      self->state.store->ping();
      return caf::ok_atom::value;
    },
  };
}

} // namespace

caf::actor spawn_repository(caf::actor_system& sys, const repository_config& cfg, unsigned index,
                            std::shared_ptr<platform_cache> cache) {
  return caf::actor_cast<caf::actor>(
    sys.spawn<caf::detached>(repository, cfg, index, std::move(cache)));
}

repository_client::repository_client(caf::actor_system& sys, std::vector<actors::handle> pool,
                                     std::chrono::milliseconds deadline,
                                     std::shared_ptr<const platform_cache> cache)
  : sys_(&sys), pool_(std::move(pool)), deadline_(deadline), cache_(std::move(cache)) {}

template <class Result, class... Ts>
caf::expected<Result> repository_client::call(const Ts&... xs) {
  auto until = std::chrono::steady_clock::now() + deadline_;
  auto first = next_->fetch_add(1, std::memory_order_relaxed);
  caf::expected<Result> result{caf::error{}};
  for (std::size_t i = 0; i < pool_.size(); ++i) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      until - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      break;
    result = actors::call<Result>(*sys_, pool_[(first + i) % pool_.size()], left, xs...);
    // Only a message no member received is safe to send to another (a
    // create that failed mid-commit must not be repeated).
    if (result || !unavailable(result.error()))
      return result;
  }
  return result;
}

caf::expected<std::vector<platform_record>> repository_client::all() {
  return call<std::vector<platform_record>>(list_atom::value);
}

caf::expected<std::vector<platform_record>> repository_client::page(std::int32_t after_id,
                                                                   std::int32_t limit) {
  return call<std::vector<platform_record>>(page_atom::value, after_id, limit);
}

caf::expected<platform_record> repository_client::find(std::int32_t id) {
  if (auto cached = cache_->find(id))
    return std::move(*cached);
  return call<platform_record>(caf::get_atom::value, id);
}

caf::expected<created_platform> repository_client::create(const new_platform& p,
                                                          const create_origin& origin) {
  return call<created_platform>(create_atom::value, p, origin);
}

caf::expected<caf::ok_atom> repository_client::ping() {
  return call<caf::ok_atom>(ping_atom::value);
}

} // namespace platform
