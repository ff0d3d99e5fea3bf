#pragma once
// command.subscriber: consumes the `trigger` fanout exchange (declared as
// every party declares it: shared/amqp/topology.hpp) through a durable named
// queue with manual acks. What has arrived (up to `prefetch` in flight, with
// no wait for more) goes to the event processor as one batch, committed in
// one transaction; each delivery is acked only once the processor reports it
// committed (or a duplicate, or an event type we ignore) and every delivery
// before it is settled too, runs of them with one `multiple` ack; it is
// rejected without requeue, on its own, so to the dead-letter queue exactly
// once, when it can never be processed: malformed, larger than
// RabbitMQMaxEventBytes or nested too deep (events/event_parser.hpp), or
// refused by the store. Such a body never fails the subscriber. Each event
// keeps its log line (written with the batch's in one write);
// command_events_total{outcome} counts each.
//
// Any connection or channel error, and a processor that fails or does not
// answer within `event_timeout`, fails the actor: its supervisor restarts it
// with backoff, and the new instance reconnects, redeclares, rebinds and
// resumes; unacked deliveries come back redelivered. Each reconnect asks the
// platform sync for a full sync, closing any gap; the first connect does not,
// as the platform sync runs at start anyway.
#include "config.hpp"

#include <actors/handle.hpp>
#include <shared/metrics/registry.hpp>

#include <caf/all.hpp>

#include <atomic>
#include <memory>
#include <string>

namespace command {

// Where rejected deliveries go: `<queue>.dlx` (fanout) into `<queue>.dead`.
std::string dead_letter_exchange(const subscriber_config& config);
std::string dead_letter_queue(const subscriber_config& config);

// Read by /readyz (reported, not required: reads go on while the broker is
// away); command_subscriber_consuming in /metrics says the same.
struct subscriber_status {
  std::atomic<bool> consuming{false};
  std::atomic<bool> connected_before{false}; // set by the first connect of the process
};

caf::actor spawn_subscriber(caf::actor_system& sys, subscriber_config config,
                            actors::handle processor, actors::handle platform_sync,
                            std::shared_ptr<subscriber_status> status,
                            std::shared_ptr<shared::metrics::registry> metrics);

} // namespace command
