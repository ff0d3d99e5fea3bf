#include "shared/amqp/settings.hpp"

#include <charconv>
#include <optional>
#include <sstream>
#include <vector>

namespace shared::amqp {

namespace {

// "host:port,host:port": the other nodes of a cluster.
std::optional<std::vector<broker_address>> parse_addresses(const std::string& text) {
  std::vector<broker_address> out;
  std::istringstream in{text};
  for (std::string item; std::getline(in, item, ',');) {
    auto colon = item.rfind(':');
    unsigned port = 0;
    if (colon == std::string::npos || colon == 0)
      return std::nullopt;
    auto digits = item.substr(colon + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (ec != std::errc{} || end != digits.data() + digits.size() || port == 0 || port > 65535)
      return std::nullopt;
    out.push_back({item.substr(0, colon), static_cast<std::uint16_t>(port)});
  }
  return out;
}

} // namespace

broker_config read_broker_config(actors::settings& s, std::string connection_name) {
  using std::chrono::seconds;
  broker_config b;
  auto& c = b.connection;
  c.name = std::move(connection_name);
  c.host = s.text("RabbitMQHost", "localhost", "RabbitMQ host");
  c.port = s.port("RabbitMQPort", 5672, "RabbitMQ AMQP port");
  c.user = s.text("RabbitMQUser", "guest", "RabbitMQ user");
  c.password = s.secret("RabbitMQPassword", "guest", "RabbitMQ password");
  auto others = s.optional_text("RabbitMQAddresses",
                                "other nodes of a RabbitMQ cluster, host:port[,host:port...]: "
                                "tried in turn when RabbitMQHost:RabbitMQPort cannot be reached");
  if (auto addresses = parse_addresses(others))
    c.fallbacks = std::move(*addresses);
  else
    s.reject("RabbitMQAddresses", others, "must be host:port[,host:port...]");
  // 4 s: a silent link (a partition) is noticed within two, under 10 s.
  auto heartbeat = s.duration("RabbitMQHeartbeat", seconds{4},
                              "AMQP heartbeat, whole seconds from 1s to 60s: a dead broker is "
                              "noticed within two");
  if (heartbeat < seconds{1} || heartbeat > seconds{60} || heartbeat.count() % 1000 != 0)
    s.reject("RabbitMQHeartbeat", std::to_string(heartbeat.count()) + "ms",
             "must be whole seconds from 1s to 60s");
  c.heartbeat = std::chrono::duration_cast<seconds>(heartbeat);
  b.durable_exchange = s.boolean("RabbitMQDurableExchange", true,
                                 "declare `trigger` durable with its alternate exchange "
                                 "`trigger.unrouted` (false: the course's declaration)");
  auto queues = s.choice("RabbitMQQueueType", "classic", {"classic", "quorum"},
                         "type of the durable queues declared (the command queue, its "
                         "dead-letter queue, trigger.unrouted): quorum for a cluster, "
                         "replicated and available while a majority of nodes runs; a "
                         "queue's type cannot change once declared");
  b.queues = queues == "quorum" ? queue_type::quorum : queue_type::classic;
  return b;
}

} // namespace shared::amqp
