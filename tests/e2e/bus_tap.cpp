// e2e_bus_tap: lets the end-to-end test see what reaches the bus. Binds an
// exclusive queue to the fanout exchange `trigger`, prints {"ready":true,...}
// once bound, then each message as one JSON line (its properties and body),
// until <seconds> have passed.
//
//   e2e_bus_tap <port> <user> <password> <queue> <seconds>
#include <shared/amqp/connection.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <iostream>
#include <string>

namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

json describe(const shared::amqp::delivery& d) {
  return {{"correlation_id", d.props.correlation_id},
          {"message_id", d.props.message_id},
          {"type", d.props.type},
          {"content_type", d.props.content_type},
          {"persistent", d.props.persistent},
          {"exchange", d.exchange},
          {"body", d.body}};
}

void tap(const shared::amqp::connection_options& options, const std::string& queue_name,
         std::chrono::seconds duration) {
  shared::amqp::connection c{options};
  shared::amqp::queue_options queue;
  queue.durable = false;
  queue.exclusive = true;
  queue.auto_delete = true;
  auto queue_declared = c.declare_queue(queue_name, queue);
  c.bind_queue(queue_declared, "trigger");
  c.consume(queue_declared);
  std::cout << json{{"ready", true}, {"queue", queue_declared}}.dump() << std::endl;
  auto until = std::chrono::steady_clock::now() + duration;
  while (std::chrono::steady_clock::now() < until) {
    if (auto d = c.next(200ms)) {
      std::cout << describe(*d).dump() << std::endl;
      c.ack(d->delivery_tag);
    }
  }
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::cerr << "usage: e2e_bus_tap <port> <user> <password> <queue> <seconds>\n";
    return 2;
  }
  shared::amqp::connection_options options;
  options.host = "127.0.0.1";
  options.port = static_cast<std::uint16_t>(std::stoi(argv[1]));
  options.user = argv[2];
  options.password = argv[3];
  options.name = "e2e_bus_tap";
  try {
    tap(options, argv[4], std::chrono::seconds{std::stoi(argv[5])});
  } catch (const std::exception& e) {
    std::cerr << "e2e_bus_tap: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
