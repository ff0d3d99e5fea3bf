#pragma once
// The broker settings both services read, with one name, grammar and default
// each: RabbitMQHost, RabbitMQPort, RabbitMQUser, RabbitMQPassword (a secret),
// RabbitMQHeartbeat (a duration in whole seconds, 1s-60s) and
// RabbitMQDurableExchange (false: the course's non-durable `trigger`, with no
// alternate exchange argument: shared/amqp/topology.hpp); and, for a cluster,
// RabbitMQAddresses (its other nodes, host:port,...: unset, only RabbitMQHost)
// and RabbitMQQueueType (classic or quorum: the durable queues declared,
// shared/amqp/topology.hpp).
#include "shared/amqp/connection.hpp"

#include <actors/settings.hpp>

#include <string>

namespace shared::amqp {

struct broker_config {
  connection_options connection;
  std::string exchange = "trigger"; // the course's fanout exchange
  bool durable_exchange = true;
  queue_type queues = queue_type::classic; // of every durable queue the services declare
};

broker_config read_broker_config(actors::settings& s, std::string connection_name);

} // namespace shared::amqp
