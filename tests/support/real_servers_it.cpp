// Smoke test of the real-server fixture: both servers answer real clients and
// keep their data across stops, restarts and SIGKILLs; rabbitmqctl reaches
// the broker.

#include "amqp_options.hpp"
#include "real_servers.hpp"

#include <gtest/gtest.h>
#include <shared/amqp/connection.hpp>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>

using namespace std::chrono_literals;
namespace amqp = shared::amqp;

namespace {

// A blocking client of one broker, through the services' own AMQP library;
// every failure throws.
class amqp_client {
public:
  explicit amqp_client(const support::rabbitmq_server& broker)
      : broker_(broker), publisher_(options()) {
    publisher_.enable_confirms();
  }

  void declare_empty_queue(const std::string& queue, bool durable) {
    amqp::queue_options declared;
    declared.durable = durable;
    publisher_.declare_queue(queue, declared);
    publisher_.purge_queue(queue);
  }

  // Persistent, and returns once the broker confirmed it (it is on disk then).
  void publish(const std::string& queue, const std::string& body) {
    auto sequence = publisher_.publish("", queue, body); // persistent by default
    auto settled = publisher_.wait_for_confirms(5s);
    if (!settled.count(sequence) || settled.at(sequence) != amqp::confirm_status::acked)
      throw std::runtime_error("no basic.ack for the publish");
  }

  // What basic.get (which shared_amqp lacks) gives: the queue's next message,
  // taken for good, or nothing when the queue is empty. A consumer with a
  // prefetch of one, so a message it does not take is requeued at its close.
  std::optional<std::string> get(const std::string& queue) {
    amqp::connection consumer{options()};
    consumer.qos(1);
    consumer.consume(queue);
    // A message in the queue is pushed at once; waiting this long says "empty".
    auto until = std::chrono::steady_clock::now() + 2s;
    while (std::chrono::steady_clock::now() < until) {
      if (auto message = consumer.next(100ms)) {
        consumer.ack(message->delivery_tag);
        return message->body;
      }
    }
    return std::nullopt;
  }

private:
  amqp::connection_options options() const {
    return support::amqp_options(broker_, "real_servers_it");
  }

  const support::rabbitmq_server& broker_;
  amqp::connection publisher_;
};

int count_rows(soci::session& sql, const std::string& table) {
  int rows = 0;
  sql << "select count(*) from " + table, soci::into(rows);
  return rows;
}

TEST(real_servers, postgres_answers_soci) {
  auto& server = support::postgres();
  server.create_database("smoke_soci");
  soci::session sql(soci::postgresql, server.connection_string("smoke_soci"));
  sql << "create table item (id integer primary key, name text not null)";
  const int id = 7;
  const std::string seven = "seven";  // SOCI binds by reference: no temporaries
  sql << "insert into item (id, name) values (:id, :name)", soci::use(id), soci::use(seven);
  std::string name;
  sql << "select name from item where id = 7", soci::into(name);
  EXPECT_EQ(name, "seven");
  EXPECT_EQ(count_rows(sql, "item"), 1);
}

TEST(real_servers, create_database_gives_an_empty_database) {
  auto& server = support::postgres();
  server.create_database("smoke_fresh");
  {
    soci::session sql(soci::postgresql, server.connection_string("smoke_fresh"));
    sql << "create table leftover (id integer)";
  }
  server.create_database("smoke_fresh");
  soci::session sql(soci::postgresql, server.connection_string("smoke_fresh"));
  int tables = -1;
  sql << "select count(*) from pg_tables where tablename = 'leftover'", soci::into(tables);
  EXPECT_EQ(tables, 0);
}

TEST(real_servers, postgres_keeps_data_across_stop_and_kill) {
  auto& server = support::postgres();
  server.create_database("smoke_restart");
  {
    soci::session sql(soci::postgresql, server.connection_string("smoke_restart"));
    sql << "create table kept (id integer)";
    sql << "insert into kept values (1)";
  }
  server.stop();
  EXPECT_FALSE(server.running());
  EXPECT_THROW(soci::session(soci::postgresql, server.connection_string("smoke_restart")),
               soci::soci_error);
  server.start();
  ASSERT_TRUE(server.running());
  {
    soci::session sql(soci::postgresql, server.connection_string("smoke_restart"));
    EXPECT_EQ(count_rows(sql, "kept"), 1);
    sql << "insert into kept values (2)";
  }
  server.kill();
  EXPECT_FALSE(server.running());
  server.start();
  soci::session sql(soci::postgresql, server.connection_string("smoke_restart"));
  EXPECT_EQ(count_rows(sql, "kept"), 2);
}

TEST(real_servers, rabbitmq_round_trip) {
  amqp_client client(support::rabbitmq());
  client.declare_empty_queue("smoke_round_trip", false);
  client.publish("smoke_round_trip", "hello");
  EXPECT_EQ(client.get("smoke_round_trip"), "hello");
  EXPECT_EQ(client.get("smoke_round_trip"), std::nullopt);
}

TEST(real_servers, rabbitmq_keeps_persistent_messages_across_kill) {
  auto& broker = support::rabbitmq();
  int port = broker.port();
  {
    amqp_client client(broker);
    client.declare_empty_queue("smoke_durable", true);
    client.publish("smoke_durable", "survivor");
  }
  broker.kill();
  EXPECT_FALSE(broker.running());
  EXPECT_THROW(amqp_client{broker}, amqp::error);
  broker.start();
  ASSERT_TRUE(broker.running());
  EXPECT_EQ(broker.port(), port);
  amqp_client client(broker);
  EXPECT_EQ(client.get("smoke_durable"), "survivor");
}

TEST(real_servers, rabbitmq_keeps_persistent_messages_across_restart) {
  auto& broker = support::rabbitmq();
  {
    amqp_client client(broker);
    client.declare_empty_queue("smoke_restart", true);
    client.publish("smoke_restart", "still here");
  }
  broker.restart();
  ASSERT_TRUE(broker.running());
  amqp_client client(broker);
  EXPECT_EQ(client.get("smoke_restart"), "still here");
}

TEST(real_servers, rabbitmqctl_reaches_the_broker) {
  auto& broker = support::rabbitmq();
  amqp_client client(broker);
  client.declare_empty_queue("smoke_ctl", true);
  client.publish("smoke_ctl", "counted");
  auto queues = broker.ctl({"list_queues", "--silent", "name", "messages"});
  EXPECT_NE(queues.find("smoke_ctl\t1\n"), std::string::npos) << queues;
  try {
    broker.ctl({"purge_queue", "smoke_no_such_queue"});
    FAIL() << "purging a missing queue must fail";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string{e.what()}.find("not_found"), std::string::npos)
        << "the error carries the output's tail: " << e.what();
  }
}

} // namespace
