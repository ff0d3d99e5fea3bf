#include "events/subscriber_actor.hpp"

#include "events/delivery_tracker.hpp"
#include "events/event_processor_actor.hpp"

#include <actors/errors.hpp>
#include <actors/log.hpp>
#include <actors/trace.hpp>
#include <shared/amqp/topology.hpp>

#include <utility>
#include <vector>

namespace command {

std::string dead_letter_exchange(const subscriber_config& config) {
  return config.queue + ".dlx";
}

std::string dead_letter_queue(const subscriber_config& config) {
  return config.queue + ".dead";
}

namespace {

namespace amqp = shared::amqp;
using namespace std::chrono_literals;

const std::string name = "command.subscriber";

// One batch commits while the next one gathers (and is sent, so that it is
// next in the store's mailbox).
constexpr unsigned max_batches_in_flight = 2;

void declare_topology(amqp::connection& c, const subscriber_config& config) {
  amqp::declare_trigger(c, config.broker);
  c.declare_exchange(dead_letter_exchange(config));
  amqp::declare_durable_queue(c, config.broker, dead_letter_queue(config));
  c.bind_queue(dead_letter_queue(config), dead_letter_exchange(config));
  amqp::queue_options queue;
  queue.dead_letter_exchange = dead_letter_exchange(config);
  amqp::declare_durable_queue(c, config.broker, config.queue, queue);
  c.bind_queue(config.queue, config.broker.exchange);
}

// One connected instance: deliveries out to the processor, results back.
class consumer {
public:
  consumer(caf::blocking_actor* self, const subscriber_config& config,
           const actors::handle& processor, shared::metrics::counter_family& events)
    : self_(self), config_(config), processor_(processor.as<event_processor_actor>()),
      events_(events), conn_(config.broker.connection), in_flight_(config.event_timeout) {
    declare_topology(conn_, config);
    conn_.qos(config.prefetch);
    conn_.consume(config.queue);
  }

  const std::string& peer() const { return conn_.peer(); }

  // Returns after an exit_msg, once the events in flight are settled (or
  // left to the broker when the processor stops first).
  void run() {
    while (!abandoned_ && (!stopping_ || !in_flight_.empty())) {
      take_deliveries();
      take_results();
      check_deadline();
    }
  }

private:
  // Reads whatever has arrived, up to the prefetch; waits only when nothing
  // is in flight, and then only for the first delivery.
  void take_deliveries() {
    while (!stopping_ && in_flight_.size() < config_.prefetch) {
      auto d = conn_.next(in_flight_.empty() ? config_.poll : 0ms);
      if (!d)
        break;
      // This service's span of the trace the event carries (or of a new one).
      auto trace = actors::trace::child_of(d->props.headers["traceparent"]);
      in_flight_.track(d->delivery_tag,
                       {std::move(d->props.correlation_id), trace.traceparent()});
      waiting_.push_back({d->delivery_tag, std::move(d->body)});
    }
    dispatch();
  }

  // What waits goes to the processor as one batch (one transaction) unless
  // two batches are there already: then it grows while they commit, so the
  // batches grow with the store's commit time, and a lone event goes at once.
  void dispatch() {
    if (waiting_.empty() || batches_in_flight_ >= max_batches_in_flight)
      return;
    self_->send(processor_, process_atom::value, std::move(waiting_));
    waiting_.clear();
    ++batches_in_flight_;
  }

  // Waits briefly for the first result when events are in flight, then
  // takes whatever else is already there.
  void take_results() {
    auto wait = in_flight_.empty() ? 0ms : 5ms;
    for (bool more = true; more; wait = 0ms)
      self_->receive(
        [&](std::vector<event_result>& rs) {
          --batches_in_flight_;
          settle(rs);
          dispatch();
        },
        [&](caf::error& err) {
          if (!stopping_)
            throw std::runtime_error("event processor failed: " + actors::describe(err));
          leave_to_broker(err);
          more = false;
        },
        [&](caf::exit_msg& em) {
          stopping_ = true;
          self_->fail_state(std::move(em.reason));
        },
        caf::after(wait) >> [&] { more = false; });
  }

  // The service stops and the processor is gone first: what is in flight is
  // neither acked nor rejected, so the broker delivers it again once this
  // connection closes (applies are idempotent).
  void leave_to_broker(const caf::error& err) {
    actors::log::info(name, "stopped", {{"unsettled", in_flight_.size()},
                                        {"detail", actors::describe(err)},
                                        {"action", "left_to_the_broker_for_redelivery"}});
    abandoned_ = true;
  }

  void settle(const std::vector<event_result>& results) {
    std::vector<std::uint64_t> rejected;
    actors::log::batch lines;
    for (auto& r : results) {
      auto rejects = r.outcome == event_outcome::rejected;
      auto origin = in_flight_.settle(r.delivery_tag, rejects ? delivery_tracker::settlement::reject
                                                              : delivery_tracker::settlement::ack);
      if (!origin)
        throw std::runtime_error("a result for delivery " + std::to_string(r.delivery_tag)
                                 + ", which is not in flight");
      log_outcome(lines, r, *origin);
      if (rejects)
        rejected.push_back(r.delivery_tag);
    }
    // The lines first: a process killed before the acks then leaves lines
    // and redeliveries, never an acked event that no line tells of (the
    // chaos run counts deliveries from these lines).
    lines.flush();
    for (auto tag : rejected)
      conn_.reject(tag, false);
    auto last = in_flight_.take_ackable();
    if (last)
      conn_.ack(*last, true);
    actors::log::debug(name, "batch_settled", {{"events", results.size()},
                                               {"rejected", rejected.size()},
                                               {"acked_up_to", last.value_or(0)},
                                               {"in_flight", in_flight_.size()}});
    for (auto& r : results)
      events_.inc({to_string(r.outcome)});
  }

  // One line per event, carrying the request id that came with it (the
  // AMQP correlation_id) and the request's trace_id (the traceparent header),
  // so that a request can be followed into this log.
  void log_outcome(actors::log::batch& lines, const event_result& r,
                   const delivery_origin& origin) {
    auto [level, event] = line_for(r.outcome);
    if (!actors::log::enabled(level))
      return;
    actors::log::context_scope trace{actors::trace::same_span(origin.traceparent).log_fields()};
    auto& request_id = origin.request_id;
    std::vector<actors::log::field> fields{{"delivery_tag", r.delivery_tag}, {"detail", r.detail}};
    if (r.outcome == event_outcome::rejected)
      fields.emplace_back("queue", dead_letter_queue(config_));
    if (!request_id.empty())
      fields.emplace_back("request_id", request_id);
    lines.add(level, name, event, fields);
  }

  static std::pair<actors::log::level, const char*> line_for(event_outcome outcome) {
    using actors::log::level;
    switch (outcome) {
      case event_outcome::applied: return {level::info, "event_applied"};
      case event_outcome::duplicate: return {level::debug, "event_duplicate"};
      case event_outcome::ignored: return {level::info, "event_ignored"};
      case event_outcome::rejected: return {level::warn, "event_dead_lettered"};
    }
    return {level::error, "event_unknown_outcome"};
  }

  void check_deadline() {
    if (auto late = in_flight_.overdue())
      throw std::runtime_error(*late);
  }

  caf::blocking_actor* self_;
  const subscriber_config& config_;
  event_processor_actor processor_;
  shared::metrics::counter_family& events_;
  amqp::connection conn_;
  delivery_tracker in_flight_;            // read and not yet settled: waiting_ and sent
  std::vector<event_delivery> waiting_;   // read, for the next batch
  unsigned batches_in_flight_ = 0;
  bool stopping_ = false;
  bool abandoned_ = false; // stopping, and the processor refused what is in flight
};

void subscriber(caf::blocking_actor* self, subscriber_config config, actors::handle processor,
                actors::handle platform_sync, std::shared_ptr<subscriber_status> status,
                std::shared_ptr<shared::metrics::registry> metrics) {
  auto& events = metrics->counter("command_events_total",
                                  "Events from the bus by outcome", {"outcome"});
  auto& consuming = metrics->gauge("command_subscriber_consuming",
                                   "1 while the subscriber consumes, 0 while it reconnects");
  auto set_consuming = [&](bool yes) {
    status->consuming = yes;
    consuming.set({}, yes ? 1 : 0);
  };
  set_consuming(false);
  try {
    consumer c{self, config, processor, events};
    set_consuming(true);
    actors::log::info(name, "consuming", {{"broker", c.peer()}, {"queue", config.queue},
                                          {"exchange", config.broker.exchange},
                                          {"queue_type", amqp::to_string(config.broker.queues)},
                                          {"prefetch", config.prefetch}});
    // A gap may have opened while we were away: let the sync close it. The
    // first connect was not away: the sync at start covers it.
    if (status->connected_before.exchange(true))
      caf::anon_send(platform_sync.actor(), sync_atom::value);
    c.run();
    set_consuming(false);
  } catch (const std::exception& e) {
    set_consuming(false);
    // Its supervisor restarts it with backoff: the service stays ready.
    actors::log::error(name, "failed", {{"error", e.what()}, {"action", "reconnecting"}});
    self->fail_state(actors::make_error(actors::errc::unhandled_exception, e.what()));
  }
}

} // namespace

caf::actor spawn_subscriber(caf::actor_system& sys, subscriber_config config,
                            actors::handle processor, actors::handle platform_sync,
                            std::shared_ptr<subscriber_status> status,
                            std::shared_ptr<shared::metrics::registry> metrics) {
  return sys.spawn(subscriber, std::move(config), std::move(processor), std::move(platform_sync),
                   std::move(status), std::move(metrics));
}

} // namespace command
