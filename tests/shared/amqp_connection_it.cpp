// shared_amqp against a real RabbitMQ: topology with dead-lettering, manual
// acks and rejects, publisher confirms (ranges, returns), errors with context,
// and a broker that dies under a consumer.
#include <shared/amqp/connection.hpp>

#include <amqp_options.hpp>
#include <real_servers.hpp>

#include <gtest/gtest.h>

#include <optional>
#include <set>

using namespace std::chrono_literals;
namespace amqp = shared::amqp;

namespace {

amqp::connection_options broker(const std::string& name) {
  auto o = support::amqp_options(name);
  o.heartbeat = 2s;
  return o;
}

amqp::properties with_id(std::string id) {
  amqp::properties p;
  p.message_id = std::move(id);
  return p;
}

// A queue bound to a fanout exchange, dead-lettering to `<prefix>.dead`.
void declare(amqp::connection& c, const std::string& prefix) {
  c.declare_exchange(prefix + ".x");
  c.declare_exchange(prefix + ".dlx");
  c.declare_queue(prefix + ".dead");
  c.bind_queue(prefix + ".dead", prefix + ".dlx");
  amqp::queue_options q;
  q.dead_letter_exchange = prefix + ".dlx";
  c.declare_queue(prefix + ".q", q);
  c.bind_queue(prefix + ".q", prefix + ".x");
}

std::vector<amqp::delivery> drain(amqp::connection& c, std::size_t expected,
                                  std::chrono::milliseconds deadline = 5s) {
  std::vector<amqp::delivery> got;
  auto until = std::chrono::steady_clock::now() + deadline;
  while (got.size() < expected && std::chrono::steady_clock::now() < until)
    if (auto d = c.next(100ms)) {
      c.ack(d->delivery_tag);
      got.push_back(std::move(*d));
    }
  return got;
}

} // namespace

TEST(amqp_connection, publishes_with_confirms_and_consumes_with_properties) {
  amqp::connection pub{broker("it-pub")}, sub{broker("it-sub")};
  declare(pub, "t1");
  pub.enable_confirms();
  auto props = with_id("m-1");
  props.content_type = "application/json";
  props.type = "Platform_Published";
  props.correlation_id = "req-7";
  auto seq = pub.publish("t1.x", "", R"({"Id":1})", props);
  EXPECT_EQ(seq, 1u);
  auto settled = pub.wait_for_confirms(5s);
  ASSERT_EQ(settled.size(), 1u);
  EXPECT_EQ(settled.at(1), amqp::confirm_status::acked);

  sub.consume("t1.q");
  auto got = drain(sub, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body, R"({"Id":1})");
  EXPECT_EQ(got[0].props.message_id, "m-1");
  EXPECT_EQ(got[0].props.content_type, "application/json");
  EXPECT_EQ(got[0].props.type, "Platform_Published");
  EXPECT_EQ(got[0].props.correlation_id, "req-7");
  EXPECT_TRUE(got[0].props.persistent);
  EXPECT_EQ(got[0].exchange, "t1.x");
}

TEST(amqp_connection, a_thousand_publishes_are_all_settled_even_when_acks_cover_ranges) {
  amqp::connection pub{broker("it-pub")};
  declare(pub, "t2");
  pub.enable_confirms();
  std::set<std::uint64_t> sequences;
  for (int i = 0; i < 1000; ++i)
    sequences.insert(pub.publish("t2.x", "", std::to_string(i), with_id(std::to_string(i))));
  EXPECT_EQ(sequences.size(), 1000u);
  std::map<std::uint64_t, amqp::confirm_status> settled;
  auto until = std::chrono::steady_clock::now() + 10s;
  while (pub.unconfirmed() > 0 && std::chrono::steady_clock::now() < until)
    settled.merge(pub.wait_for_confirms(1s));
  ASSERT_EQ(settled.size(), 1000u);
  for (auto& [seq, status] : settled) {
    EXPECT_TRUE(sequences.count(seq));
    EXPECT_EQ(status, amqp::confirm_status::acked) << seq;
  }
}

TEST(amqp_connection, an_unroutable_mandatory_publish_is_reported_returned) {
  amqp::connection pub{broker("it-pub")};
  pub.declare_exchange("t3.nobody-bound");
  pub.enable_confirms();
  auto lost = pub.publish("t3.nobody-bound", "", "x", with_id("lost-1"), true);
  auto settled = pub.wait_for_confirms(5s);
  ASSERT_EQ(settled.count(lost), 1u);
  EXPECT_EQ(settled.at(lost), amqp::confirm_status::returned);
}

TEST(amqp_connection, a_rejected_delivery_goes_to_the_dead_letter_queue) {
  amqp::connection pub{broker("it-pub")}, sub{broker("it-sub")};
  declare(pub, "t4");
  pub.publish("t4.x", "", "poison");
  pub.publish("t4.x", "", "good");
  sub.qos(10);
  sub.consume("t4.q");
  std::vector<std::string> acked;
  auto until = std::chrono::steady_clock::now() + 5s;
  while (acked.size() < 2 && std::chrono::steady_clock::now() < until)
    if (auto d = sub.next(100ms)) {
      if (d->body == "poison")
        sub.reject(d->delivery_tag, false);
      else
        sub.ack(d->delivery_tag);
      acked.push_back(d->body);
    }
  ASSERT_EQ(acked, (std::vector<std::string>{"poison", "good"}));

  amqp::connection dead{broker("it-dead")};
  dead.consume("t4.dead");
  auto got = drain(dead, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body, "poison");
  EXPECT_FALSE(dead.next(300ms)) << "only the rejected message is dead-lettered";
}

TEST(amqp_connection, errors_name_the_broker_the_operation_and_the_server_reply) {
  amqp::connection c{broker("it-errors")};
  declare(c, "t5");
  auto peer = c.peer();
  try {
    c.declare_queue("t5.q"); // no dead-letter argument: inequivalent
    FAIL() << "redeclaring with other arguments must fail";
  } catch (const amqp::error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("amqp " + peer + ": queue.declare \"t5.q\""), std::string::npos) << what;
    EXPECT_NE(what.find("406 PRECONDITION_FAILED"), std::string::npos) << what;
  }
  EXPECT_THROW(c.declare_exchange("t5.after"), amqp::error) << "the channel is gone";

  auto closed = broker("it-refused");
  closed.port = 1;
  try {
    amqp::connection refused{closed};
    FAIL() << "nothing listens on port 1";
  } catch (const amqp::error& e) {
    EXPECT_NE(std::string{e.what()}.find("127.0.0.1:1: connect"), std::string::npos) << e.what();
  }
}

TEST(amqp_connection, a_wrong_password_is_a_login_error) {
  auto o = broker("it-login");
  o.password = "wrong";
  try {
    amqp::connection c{o};
    FAIL() << "login must fail";
  } catch (const amqp::error& e) {
    EXPECT_NE(std::string{e.what()}.find(": login \"" + o.user + "\""), std::string::npos)
      << e.what();
  }
}

TEST(amqp_connection, a_killed_broker_makes_the_consumer_throw_promptly) {
  auto& b = support::rabbitmq();
  amqp::connection sub{broker("it-kill")};
  declare(sub, "t6");
  sub.consume("t6.q");
  b.kill();
  auto start = std::chrono::steady_clock::now();
  std::optional<std::chrono::steady_clock::duration> noticed_after;
  try {
    while (std::chrono::steady_clock::now() - start < 10s)
      sub.next(200ms);
  } catch (const amqp::error& e) {
    noticed_after = std::chrono::steady_clock::now() - start;
    EXPECT_NE(std::string{e.what()}.find("amqp " + sub.peer() + ": consume"), std::string::npos)
      << e.what();
  }
  // Measured before the restart: the broker's own boot time is not ours.
  b.start();
  ASSERT_TRUE(noticed_after) << "the consumer threw";
  EXPECT_LT(*noticed_after, 5s) << "noticed within two heartbeats (2 s)";
}
