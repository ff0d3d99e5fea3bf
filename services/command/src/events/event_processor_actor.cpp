#include "events/event_processor_actor.hpp"

#include "events/event_parser.hpp"
#include "store/repository_actor.hpp"

#include <actors/errors.hpp>
#include <actors/supervisor.hpp>

namespace command {

const char* to_string(event_outcome outcome) {
  switch (outcome) {
    case event_outcome::applied: return "applied";
    case event_outcome::duplicate: return "duplicate";
    case event_outcome::ignored: return "ignored";
    case event_outcome::rejected: return "rejected";
  }
  return "unknown";
}

namespace {

struct event_processor_state {
  std::string name = "command.event_processor";
};

event_processor_actor::behavior_type
event_processor(event_processor_actor::stateful_pointer<event_processor_state> self,
                event_processor_config config, actors::handle repository) {
  actors::fail_on_exception(self);
  auto store = repository.as<repository_actor>(); // the handle's front: the same across restarts
  event_limits limits;
  limits.max_bytes = config.max_event_bytes;
  return {
    [=](process_atom, std::uint64_t tag, const std::string& body) -> caf::result<event_result> {
      auto event = parse_event(body, limits);
      if (auto* bad = std::get_if<malformed_event>(&event))
        return event_result{tag, event_outcome::rejected, bad->reason};
      if (auto* other = std::get_if<unknown_event>(&event))
        return event_result{tag, event_outcome::ignored, "event type " + other->type};
      auto p = std::get<platform_published>(event).p;
      auto detail = "platform " + std::to_string(p.id);
      auto rp = self->make_response_promise<event_result>();
      self->request(store, config.repository_timeout, add_atom::value, p)
        .then(
          [=](bool added) mutable {
            rp.deliver(event_result{tag, added ? event_outcome::applied : event_outcome::duplicate,
                                    detail});
          },
          [=](caf::error& err) mutable {
            // Values the store refuses never pass: dead-letter the event
            // rather than fail the subscriber into redelivering it forever.
            if (actors::kind_of(err) == actors::error_kind::invalid)
              rp.deliver(event_result{tag, event_outcome::rejected,
                                      detail + ": " + actors::describe(err)});
            else
              rp.deliver(std::move(err));
          });
      return rp;
    },
  };
}

} // namespace

caf::actor spawn_event_processor(caf::actor_system& sys, event_processor_config config,
                                 actors::handle repository) {
  return caf::actor_cast<caf::actor>(sys.spawn(event_processor, config, std::move(repository)));
}

} // namespace command
