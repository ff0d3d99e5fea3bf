#pragma once
// The course's fanout exchange `trigger`, declared one way by every party
// that declares it: the platform relay, the command subscriber, the tests and
// benchmarks (deploy/rabbitmq/topology.json holds the same). RabbitMQ
// answers a redeclaration whose alternate-exchange differs with 406
// PRECONDITION_FAILED, so its arguments are written here only.
//
// An event that `trigger` routes to no queue (no subscriber bound yet) is not
// dropped: the broker hands it to the alternate exchange `trigger.unrouted`
// (fanout, durable), which keeps it in the durable queue `trigger.unrouted`
// for an operator to inspect or move back. The broker still confirms such a
// publish as acked; a mandatory publish comes back returned only when even
// the alternate exchange reaches no queue.
//
// With RabbitMQDurableExchange=false `trigger` is declared as the course's
// services declare it (non-durable, no arguments), so that they can share
// it; the alternate exchange is then set by a policy, which takes no part in
// the equivalence check:
//   rabbitmqctl set_policy --apply-to exchanges trigger-unrouted '^trigger$'
//     '{"alternate-exchange":"trigger.unrouted"}'   (one command line)
#include "shared/amqp/connection.hpp"
#include "shared/amqp/settings.hpp"

#include <string>

namespace shared::amqp {

// Declares a durable queue of the broker's queue type (RabbitMQQueueType).
// A queue that exists with other arguments (another type or dead-letter
// exchange) is refused by the broker with 406 PRECONDITION_FAILED; the error
// then says so and what to do, as a queue's type cannot change in place.
std::string declare_durable_queue(connection& c, const broker_config& broker,
                                  const std::string& name, queue_options options = {});

// "<exchange>.unrouted": the alternate exchange and its queue.
std::string unrouted_name(const broker_config& broker);

// Declares the alternate exchange, its queue and their binding, then the
// exchange, with it as its alternate when durable. Idempotent; throws
// shared::amqp::error.
void declare_trigger(connection& c, const broker_config& broker = {});

} // namespace shared::amqp
