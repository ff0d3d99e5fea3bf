#include "shared/amqp/topology.hpp"

namespace shared::amqp {

std::string declare_durable_queue(connection& c, const broker_config& broker,
                                  const std::string& name, queue_options options) {
  options.type = broker.queues;
  options.durable = true;
  try {
    return c.declare_queue(name, options);
  } catch (const error& e) {
    if (e.reply_code() != precondition_failed)
      throw;
    throw error(std::string{e.what()}
                  .append(" (queue '")
                  .append(name)
                  .append("' exists with other arguments than RabbitMQQueueType=")
                  .append(to_string(broker.queues))
                  .append(" declares: a queue's type cannot change; set the type it has, or "
                          "move its messages to a new queue and delete it)"),
                e.reply_code());
  }
}

std::string unrouted_name(const broker_config& broker) {
  return broker.exchange + ".unrouted";
}

void declare_trigger(connection& c, const broker_config& broker) {
  auto unrouted = unrouted_name(broker);
  c.declare_exchange(unrouted); // fanout, durable
  declare_durable_queue(c, broker, unrouted);
  c.bind_queue(unrouted, unrouted);
  exchange_options trigger;
  trigger.durable = broker.durable_exchange;
  if (broker.durable_exchange) // else the course's declaration, which has no arguments
    trigger.arguments = {{"alternate-exchange", unrouted}};
  c.declare_exchange(broker.exchange, trigger);
}

} // namespace shared::amqp
