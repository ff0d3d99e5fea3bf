#pragma once
// command.subscriber: consumes the `trigger` fanout exchange (declared as
// every party declares it: shared/amqp/topology.hpp) through a durable named
// queue with manual acks. Each delivery goes to the event processor; it is
// acked only once the processor reports it committed (or a duplicate, or an
// event type we ignore), and rejected without requeue, so to the dead-letter
// queue exactly once, when it can never be processed: malformed, larger than
// RabbitMQMaxEventBytes or nested too deep (events/event_parser.hpp). Such a
// body never fails the subscriber. Up to `prefetch` events are in flight at
// once; command_events_total{outcome} counts each.
//
// Any connection or channel error, and a processor that fails or does not
// answer within `event_timeout`, fails the actor: its supervisor restarts it
// with backoff, and the new instance reconnects, redeclares, rebinds and
// resumes; unacked deliveries come back redelivered. Each (re)connect asks
// the platform sync for a full sync, closing any gap.
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
};

caf::actor spawn_subscriber(caf::actor_system& sys, subscriber_config config,
                            actors::handle processor, actors::handle platform_sync,
                            std::shared_ptr<subscriber_status> status,
                            std::shared_ptr<shared::metrics::registry> metrics);

} // namespace command
