#include "shared/amqp/topology.hpp"

namespace shared::amqp {

std::string unrouted_name(const broker_config& broker) {
  return broker.exchange + ".unrouted";
}

void declare_trigger(connection& c, const broker_config& broker) {
  auto unrouted = unrouted_name(broker);
  c.declare_exchange(unrouted); // fanout, durable
  c.declare_queue(unrouted);    // durable
  c.bind_queue(unrouted, unrouted);
  exchange_options trigger;
  trigger.durable = broker.durable_exchange;
  if (broker.durable_exchange) // else the course's declaration, which has no arguments
    trigger.arguments = {{"alternate-exchange", unrouted}};
  c.declare_exchange(broker.exchange, trigger);
}

} // namespace shared::amqp
