#include "store/repository_actor.hpp"

#include "store/command_store.hpp"

#include <actors/log.hpp>
#include <actors/settings.hpp>
#include <actors/supervisor.hpp>

namespace command {
namespace {

struct repository_state {
  std::string name = "command.repository";
  std::unique_ptr<soci::session> db;
  std::unique_ptr<command_store> store;
  std::shared_ptr<read_model> view;
};

repository_actor::behavior_type
repository(repository_actor::stateful_pointer<repository_state> self, const std::string& database,
           std::shared_ptr<read_model> view) {
  actors::fail_on_exception(self);
  auto& st = self->state;
  st.db = open_session(database);
  st.store = std::make_unique<command_store>(*st.db);
  st.store->migrate();
  st.view = std::move(view);
  if (st.view)
    st.view->reset(st.store->platforms(), st.store->all_commands());
  actors::log::info(st.name, "opened", {{"database", actors::mask_password(database)}});
  return {
    // Refused values come back as the store's error: the caller's answer,
    // while this actor and its session keep serving.
    [=](add_atom, const std::vector<platform>& ps) -> caf::result<std::size_t> {
      auto added = self->state.store->add_platforms(ps);
      if (added && *added > 0 && self->state.view)
        for (auto& p : ps)
          self->state.view->add_platform(p);
      return added;
    },
    // The platforms of a batch of events: one transaction, an outcome each.
    [=](apply_atom, const std::vector<platform>& ps) {
      auto out = self->state.store->add_each(ps);
      if (self->state.view)
        for (std::size_t i = 0; i < ps.size(); ++i)
          if (out[i].added)
            self->state.view->add_platform(ps[i]);
      return out;
    },
    [=](add_atom, std::int32_t platform_id,
        const command_input& in) -> caf::result<command_record> {
      auto c = self->state.store->add_command(platform_id, in);
      if (c && self->state.view)
        self->state.view->add_command(*c);
      return c;
    },
    [=](caf::get_atom) { return self->state.store->platforms(); },
    [=](caf::get_atom, std::int32_t platform_id) -> caf::result<std::vector<command_record>> {
      if (auto cs = self->state.store->commands(platform_id))
        return *cs;
      return unknown_platform(platform_id);
    },
    [=](caf::get_atom, std::int32_t platform_id,
        std::int32_t command_id) -> caf::result<command_record> {
      if (auto c = self->state.store->command(platform_id, command_id))
        return *c;
      if (!self->state.store->has_platform(platform_id))
        return unknown_platform(platform_id);
      return unknown_command(platform_id, command_id);
    },
    [=](ping_atom) { return caf::ok_atom::value; },
  };
}

} // namespace

caf::actor spawn_repository(caf::actor_system& sys, std::string database,
                            std::shared_ptr<read_model> view) {
  return caf::actor_cast<caf::actor>(
    sys.spawn<caf::detached>(repository, std::move(database), std::move(view)));
}

std::shared_ptr<soci::session> keep_database(const std::string& database) {
  if (!is_in_memory(database))
    return nullptr;
  return open_session(database);
}

} // namespace command
