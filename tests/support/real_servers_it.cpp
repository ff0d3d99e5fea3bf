// Smoke test of the real-server fixture: both servers answer real clients and
// keep their data across stops, restarts and SIGKILLs.

#include "real_servers.hpp"

#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <gtest/gtest.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <optional>
#include <stdexcept>
#include <string>

namespace {

constexpr amqp_channel_t channel = 1;

// A minimal blocking AMQP client; every failure throws.
class amqp_client {
public:
  explicit amqp_client(const support::rabbitmq_server& broker)
      : connection_(amqp_new_connection()) {
    try {
      open(broker);
    } catch (...) {
      amqp_destroy_connection(connection_);
      throw;
    }
  }
  ~amqp_client() {
    amqp_connection_close(connection_, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(connection_);
  }
  amqp_client(const amqp_client&) = delete;
  amqp_client& operator=(const amqp_client&) = delete;

  void declare_empty_queue(const std::string& queue, bool durable) {
    amqp_queue_declare(connection_, channel, amqp_cstring_bytes(queue.c_str()), 0, durable, 0, 0,
                       amqp_empty_table);
    check(amqp_get_rpc_reply(connection_), "queue.declare");
    amqp_queue_purge(connection_, channel, amqp_cstring_bytes(queue.c_str()));
    check(amqp_get_rpc_reply(connection_), "queue.purge");
  }

  // Persistent, and returns once the broker confirmed it (it is on disk then).
  void publish(const std::string& queue, const std::string& body) {
    amqp_basic_properties_t properties{};
    properties._flags = AMQP_BASIC_DELIVERY_MODE_FLAG;
    properties.delivery_mode = AMQP_DELIVERY_PERSISTENT;
    if (amqp_basic_publish(connection_, channel, amqp_empty_bytes,
                           amqp_cstring_bytes(queue.c_str()), 0, 0, &properties,
                           amqp_cstring_bytes(body.c_str())) != AMQP_STATUS_OK) {
      throw std::runtime_error("basic.publish failed");
    }
    amqp_method_t method{};
    if (amqp_simple_wait_method(connection_, channel, AMQP_BASIC_ACK_METHOD, &method) !=
        AMQP_STATUS_OK) {
      throw std::runtime_error("no basic.ack for the publish");
    }
  }

  std::optional<std::string> get(const std::string& queue) {
    amqp_rpc_reply_t reply =
        amqp_basic_get(connection_, channel, amqp_cstring_bytes(queue.c_str()), 1);
    check(reply, "basic.get");
    if (reply.reply.id == AMQP_BASIC_GET_EMPTY_METHOD)
      return std::nullopt;
    amqp_message_t message{};
    check(amqp_read_message(connection_, channel, &message, 0), "reading the message");
    std::string body(static_cast<const char*>(message.body.bytes), message.body.len);
    amqp_destroy_message(&message);
    return body;
  }

private:
  void open(const support::rabbitmq_server& broker) {
    amqp_socket_t* socket = amqp_tcp_socket_new(connection_);
    timeval timeout{5, 0};
    if (!socket || amqp_socket_open_noblock(socket, broker.host().c_str(), broker.port(),
                                            &timeout) != AMQP_STATUS_OK) {
      throw std::runtime_error("cannot connect to the broker");
    }
    amqp_set_rpc_timeout(connection_, &timeout);
    check(amqp_login(connection_, "/", 0, AMQP_DEFAULT_FRAME_SIZE, 0, AMQP_SASL_METHOD_PLAIN,
                     broker.user().c_str(), broker.password().c_str()),
          "login");
    amqp_channel_open(connection_, channel);
    check(amqp_get_rpc_reply(connection_), "channel.open");
    amqp_confirm_select(connection_, channel);
    check(amqp_get_rpc_reply(connection_), "confirm.select");
  }

  static void check(const amqp_rpc_reply_t& reply, const std::string& what) {
    if (reply.reply_type != AMQP_RESPONSE_NORMAL)
      throw std::runtime_error(what + " failed");
  }

  amqp_connection_state_t connection_;
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
  sql << "insert into item (id, name) values (:id, :name)", soci::use(7),
      soci::use(std::string("seven"));
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
  EXPECT_THROW(amqp_client{broker}, std::runtime_error);
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

} // namespace
