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

// Parses each body: its result when it needs no store, else its platform.
struct parsed_batch {
  std::vector<event_result> results; // one per delivery, in order
  std::vector<platform> platforms;   // to write
  std::vector<std::size_t> at;       // results[at[k]] is platforms[k]'s
};

parsed_batch parse_batch(const std::vector<event_delivery>& batch, const event_limits& limits) {
  parsed_batch out;
  out.results.reserve(batch.size());
  for (auto& d : batch) {
    auto event = parse_event(d.body, limits);
    if (auto* bad = std::get_if<malformed_event>(&event)) {
      out.results.push_back({d.delivery_tag, event_outcome::rejected, bad->reason});
    } else if (auto* other = std::get_if<unknown_event>(&event)) {
      out.results.push_back({d.delivery_tag, event_outcome::ignored, "event type " + other->type});
    } else {
      auto& p = std::get<platform_published>(event).p;
      out.results.push_back({d.delivery_tag, event_outcome::applied,
                             std::string{"platform "}.append(std::to_string(p.id))});
      out.at.push_back(out.results.size() - 1);
      out.platforms.push_back(std::move(p));
    }
  }
  return out;
}

// Values the store refuses never pass: dead-letter the event rather than
// fail the subscriber into redelivering it forever.
void record(event_result& r, const platform_write& w) {
  if (w.refused) {
    r.outcome = event_outcome::rejected;
    r.detail.append(": ").append(actors::describe(w.refused));
  } else if (!w.added) {
    r.outcome = event_outcome::duplicate;
  }
}

event_processor_actor::behavior_type
event_processor(event_processor_actor::stateful_pointer<event_processor_state> self,
                event_processor_config config, actors::handle repository) {
  actors::fail_on_exception(self);
  auto store = repository.as<repository_actor>(); // the handle's front: the same across restarts
  event_limits limits;
  limits.max_bytes = config.max_event_bytes;
  return {
    [=](process_atom,
        const std::vector<event_delivery>& batch) -> caf::result<std::vector<event_result>> {
      auto parsed = parse_batch(batch, limits);
      if (parsed.platforms.empty())
        return std::move(parsed.results);
      auto rp = self->make_response_promise<std::vector<event_result>>();
      auto results = std::move(parsed.results);
      auto at = std::move(parsed.at);
      auto timeout = config.repository_timeout;
      self->request(store, timeout, apply_atom::value, std::move(parsed.platforms))
        .then(
          [=](const std::vector<platform_write>& written) mutable {
            if (written.size() != at.size()) {
              rp.deliver(actors::make_error(actors::errc::unhandled_exception,
                                            "the store answered a batch of the wrong size"));
              return;
            }
            for (std::size_t k = 0; k < at.size(); ++k)
              record(results[at[k]], written[k]);
            rp.deliver(std::move(results));
          },
          [=](caf::error& err) mutable { rp.deliver(std::move(err)); });
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
