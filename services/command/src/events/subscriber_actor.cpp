#include "events/subscriber_actor.hpp"

#include "events/event_processor_actor.hpp"

#include <actors/errors.hpp>
#include <actors/log.hpp>

#include <map>

namespace command {

std::string dead_letter_exchange(const subscriber_config& config) {
  return config.queue + ".dlx";
}

std::string dead_letter_queue(const subscriber_config& config) {
  return config.queue + ".dead";
}

namespace {

namespace amqp = shared::amqp;
using clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

const std::string name = "command.subscriber";

void declare_topology(amqp::connection& c, const subscriber_config& config) {
  amqp::exchange_options trigger;
  trigger.durable = config.exchange_durable;
  c.declare_exchange(config.exchange, trigger);
  c.declare_exchange(dead_letter_exchange(config));
  c.declare_queue(dead_letter_queue(config));
  c.bind_queue(dead_letter_queue(config), dead_letter_exchange(config));
  amqp::queue_options queue;
  queue.dead_letter_exchange = dead_letter_exchange(config);
  c.declare_queue(config.queue, queue);
  c.bind_queue(config.queue, config.exchange);
}

// One connected instance: deliveries out to the processor, results back.
class consumer {
public:
  consumer(caf::blocking_actor* self, const subscriber_config& config, actors::handle processor,
           shared::http::counter_family& events)
    : self_(self), config_(config), processor_(std::move(processor)), events_(events),
      conn_(config.broker) {
    declare_topology(conn_, config);
    conn_.qos(config.prefetch);
    conn_.consume(config.queue);
  }

  const std::string& peer() const { return conn_.peer(); }

  // Returns after an exit_msg, once the events in flight are settled.
  void run() {
    while (!stopping_ || !in_flight_.empty()) {
      take_deliveries();
      take_results();
      check_deadline();
    }
  }

private:
  void take_deliveries() {
    while (!stopping_ && in_flight_.size() < config_.prefetch) {
      auto d = conn_.next(in_flight_.empty() ? config_.poll : 0ms);
      if (!d)
        return;
      in_flight_.emplace(d->delivery_tag, clock::now());
      self_->send(processor_.actor(), process_atom::value, d->delivery_tag, std::move(d->body));
    }
  }

  // Waits briefly for the first result when events are in flight, then
  // takes whatever else is already there.
  void take_results() {
    auto wait = in_flight_.empty() ? 0ms : 5ms;
    for (bool more = true; more; wait = 0ms)
      self_->receive(
        [&](event_result& r) { settle(r); },
        [&](caf::error& err) {
          throw std::runtime_error("event processor failed: " + actors::describe(err));
        },
        [&](caf::exit_msg& em) {
          stopping_ = true;
          self_->fail_state(std::move(em.reason));
        },
        caf::after(wait) >> [&] { more = false; });
  }

  void settle(const event_result& r) {
    if (r.outcome == event_outcome::rejected) {
      conn_.reject(r.delivery_tag, false);
      actors::log::warn(name, "event_dead_lettered",
                        {{"delivery_tag", r.delivery_tag}, {"reason", r.detail},
                         {"queue", dead_letter_queue(config_)}});
    } else {
      conn_.ack(r.delivery_tag);
      if (r.outcome == event_outcome::ignored)
        actors::log::info(name, "event_ignored", {{"delivery_tag", r.delivery_tag},
                                                  {"detail", r.detail}});
      else
        actors::log::debug(name, "event_committed",
                           {{"outcome", to_string(r.outcome)}, {"detail", r.detail}});
    }
    events_.inc({to_string(r.outcome)});
    in_flight_.erase(r.delivery_tag);
  }

  void check_deadline() {
    if (in_flight_.empty())
      return;
    auto oldest = std::min_element(in_flight_.begin(), in_flight_.end(),
                                   [](auto& a, auto& b) { return a.second < b.second; });
    if (clock::now() - oldest->second > config_.event_timeout)
      throw std::runtime_error("delivery " + std::to_string(oldest->first) + " not processed within "
                               + std::to_string(config_.event_timeout.count()) + "ms");
  }

  caf::blocking_actor* self_;
  const subscriber_config& config_;
  actors::handle processor_;
  shared::http::counter_family& events_;
  amqp::connection conn_;
  std::map<std::uint64_t, clock::time_point> in_flight_; // delivery tag -> sent
  bool stopping_ = false;
};

void subscriber(caf::blocking_actor* self, subscriber_config config, actors::handle processor,
                actors::handle platform_sync, std::shared_ptr<subscriber_status> status,
                std::shared_ptr<shared::http::metrics_registry> metrics) {
  auto& events = metrics->counter("command_events_total",
                                  "Events from the bus by outcome", {"outcome"});
  try {
    consumer c{self, config, std::move(processor), events};
    status->consuming = true;
    actors::log::info(name, "consuming", {{"broker", c.peer()}, {"queue", config.queue},
                                          {"exchange", config.exchange},
                                          {"prefetch", config.prefetch}});
    // A gap may have opened while we were away: let the sync close it.
    caf::anon_send(platform_sync.actor(), sync_atom::value);
    c.run();
    status->consuming = false;
  } catch (const std::exception& e) {
    status->consuming = false;
    actors::log::error(name, "failed", {{"error", e.what()}});
    self->fail_state(actors::make_error(actors::errc::unhandled_exception, e.what()));
  }
}

} // namespace

caf::actor spawn_subscriber(caf::actor_system& sys, subscriber_config config,
                            actors::handle processor, actors::handle platform_sync,
                            std::shared_ptr<subscriber_status> status,
                            std::shared_ptr<shared::http::metrics_registry> metrics) {
  return sys.spawn(subscriber, std::move(config), std::move(processor), std::move(platform_sync),
                   std::move(status), std::move(metrics));
}

} // namespace command
