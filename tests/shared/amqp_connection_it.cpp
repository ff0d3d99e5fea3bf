// shared_amqp against a real RabbitMQ: topology with dead-lettering, manual
// acks and rejects, publisher confirms (ranges, returns, pipelined waits),
// errors with context, blocked-connection notices, keep_alive, and a broker
// that dies under a consumer or an idle publisher.
#include <shared/amqp/connection.hpp>
#include <shared/amqp/topology.hpp>

#include <amqp_options.hpp>
#include <eventually.hpp>
#include <real_servers.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <optional>
#include <ostream>
#include <set>
#include <thread>

using namespace std::chrono_literals;
namespace amqp = shared::amqp;

namespace shared::amqp {
// Failures show "returned", not the enum's bytes.
void PrintTo(confirm_status status, std::ostream* out) { *out << to_string(status); }
} // namespace shared::amqp

namespace {

amqp::connection_options broker(const std::string& name) {
  auto o = support::amqp_options(name);
  o.heartbeat = 2s;
  return o;
}

// For a connection left idle while rabbitmqctl runs (a second or more, longer
// on a busy machine): the default heartbeat, so that the broker keeps it.
amqp::connection_options idle_across_ctl(const std::string& name) {
  return support::amqp_options(name);
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

// Waits for every publish to settle; what settled, each sequence once.
std::map<std::uint64_t, amqp::confirm_status> settle_all(amqp::connection& pub) {
  std::map<std::uint64_t, amqp::confirm_status> settled;
  auto until = std::chrono::steady_clock::now() + 10s;
  while (pub.unconfirmed() > 0 && std::chrono::steady_clock::now() < until)
    for (auto& [seq, status] : pub.wait_for_confirms(1s))
      EXPECT_TRUE(settled.emplace(seq, status).second) << seq << " settled twice";
  return settled;
}

// The broker's max_message_size for the channels opened from now on, until
// the end of the scope (every test shares the broker).
class max_message_size {
public:
  max_message_size(const support::rabbitmq_server& b, std::size_t bytes) : broker_(b) {
    set(std::to_string(bytes));
  }
  ~max_message_size() {
    try {
      set("134217728"); // RabbitMQ 3.10's default
    } catch (const std::exception& e) {
      ADD_FAILURE() << "restoring max_message_size: " << e.what();
    }
  }
  max_message_size(const max_message_size&) = delete;
  max_message_size& operator=(const max_message_size&) = delete;

private:
  void set(const std::string& bytes) {
    broker_.ctl({"eval", "application:set_env(rabbit, max_message_size, " + bytes + ")."});
  }

  const support::rabbitmq_server& broker_;
};

// A broker-wide memory alarm (a high watermark of 0) until clear() or the end
// of the scope, however the test ends: every test shares the broker.
class memory_alarm {
public:
  explicit memory_alarm(const support::rabbitmq_server& b) : broker_(b) {
    broker_.ctl({"set_vm_memory_high_watermark", "0"});
  }
  ~memory_alarm() {
    try {
      clear();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "clearing the memory alarm: " << e.what();
    }
  }
  memory_alarm(const memory_alarm&) = delete;
  memory_alarm& operator=(const memory_alarm&) = delete;

  void clear() {
    if (raised_)
      broker_.ctl({"set_vm_memory_high_watermark", "0.4"}); // the default
    raised_ = false;
  }

private:
  const support::rabbitmq_server& broker_;
  bool raised_ = true;
};

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
  auto settled = settle_all(pub);
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

TEST(amqp_connection, a_wait_up_to_the_oldest_batch_does_not_wait_for_the_next) {
  amqp::connection pub{idle_across_ctl("it-pub")};
  declare(pub, "t7");
  pub.enable_confirms();
  std::set<std::string> published;
  auto publish_batch = [&](const std::string& batch) {
    std::set<std::uint64_t> sequences;
    for (int i = 0; i < 100; ++i) {
      auto id = batch + "-" + std::to_string(i);
      sequences.insert(pub.publish("t7.x", "", id, with_id(id)));
      published.insert(id);
    }
    return sequences;
  };
  auto a = publish_batch("a");
  // The broker holds B until the alarm clears: a wait that covered B would
  // last its whole timeout.
  memory_alarm alarm{support::rabbitmq()};
  auto b = publish_batch("b"); // before waiting for A
  ASSERT_EQ(a.size(), 100u);
  ASSERT_EQ(b.size(), 100u);
  ASSERT_LT(*a.rbegin(), *b.begin());

  auto started = std::chrono::steady_clock::now();
  auto first = pub.wait_for_confirms(5s, *a.rbegin());
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s) << "done once A settled";
  for (auto seq : a) {
    ASSERT_EQ(first.count(seq), 1u) << "A's " << seq << " is settled";
    EXPECT_EQ(first.at(seq), amqp::confirm_status::acked) << seq;
  }
  alarm.clear();
  // Beyond A, the first wait may have settled some of B; the rest follows.
  auto rest = settle_all(pub);
  std::set<std::uint64_t> of_b;
  for (auto& [seq, status] : first)
    if (!a.count(seq))
      of_b.insert(seq);
  for (auto& [seq, status] : rest) {
    EXPECT_TRUE(of_b.insert(seq).second) << seq << " settled by both waits";
    EXPECT_EQ(status, amqp::confirm_status::acked) << seq;
  }
  EXPECT_EQ(of_b, b);

  amqp::connection sub{broker("it-sub")};
  sub.consume("t7.q");
  auto got = drain(sub, 200);
  std::set<std::string> received;
  for (auto& d : got)
    received.insert(d.props.message_id);
  EXPECT_EQ(got.size(), 200u);
  EXPECT_EQ(received, published);
  EXPECT_FALSE(sub.next(300ms)) << "each message once";
}

TEST(amqp_connection, returns_are_told_apart_from_acks_within_one_batch) {
  amqp::connection pub{broker("it-pub")};
  amqp::exchange_options direct;
  direct.type = "direct";
  pub.declare_exchange("t8.x", direct);
  pub.declare_queue("t8.q");
  pub.bind_queue("t8.q", "t8.x", "routed");
  pub.enable_confirms();
  std::map<std::uint64_t, amqp::confirm_status> expected;
  for (int i = 0; i < 30; ++i) {
    bool routed = i % 3 != 0;
    auto seq = pub.publish("t8.x", routed ? "routed" : "nowhere", "x",
                           with_id("t8-" + std::to_string(i)), true);
    expected[seq] = routed ? amqp::confirm_status::acked : amqp::confirm_status::returned;
  }
  auto settled = pub.wait_for_confirms(5s, 15); // sequences 1 to 15, then the rest
  settled.merge(settle_all(pub));
  EXPECT_EQ(settled, expected);
}

TEST(amqp_connection, a_memory_alarm_blocks_the_publisher_until_it_clears) {
  amqp::connection pub{idle_across_ctl("it-blocked")};
  declare(pub, "t9");
  pub.enable_confirms();
  memory_alarm alarm{support::rabbitmq()};
  // The broker blocks a connection at its first publish during the alarm.
  auto held = pub.publish("t9.x", "", "held", with_id("t9-held"));
  ASSERT_TRUE(support::eventually(
    [&] {
      pub.keep_alive();
      return pub.blocked().has_value();
    },
    5s))
    << "connection.blocked arrives";
  EXPECT_NE(pub.blocked()->find("memory"), std::string::npos) << *pub.blocked();
  EXPECT_TRUE(pub.wait_for_confirms(300ms).empty()) << "the publish is held";

  alarm.clear();
  ASSERT_TRUE(support::eventually(
    [&] {
      pub.keep_alive();
      return !pub.blocked();
    },
    5s))
    << "connection.unblocked arrives";
  auto settled = pub.wait_for_confirms(5s);
  ASSERT_EQ(settled.count(held), 1u) << "the held publish went through";
  EXPECT_EQ(settled.at(held), amqp::confirm_status::acked);
}

TEST(amqp_connection, keep_alive_keeps_an_idle_publisher_connected) {
  auto o = broker("it-idle");
  o.heartbeat = 1s;
  amqp::connection pub{o};
  declare(pub, "t10");
  pub.enable_confirms();
  // Three heartbeats with nothing to publish: the broker drops a client
  // that stays silent for two.
  auto until = std::chrono::steady_clock::now() + 3s;
  while (std::chrono::steady_clock::now() < until) {
    pub.keep_alive();
    std::this_thread::sleep_for(100ms);
  }
  auto seq = pub.publish("t10.x", "", "after a pause", with_id("t10-1"));
  auto settled = pub.wait_for_confirms(5s);
  ASSERT_EQ(settled.count(seq), 1u);
  EXPECT_EQ(settled.at(seq), amqp::confirm_status::acked);
}

TEST(amqp_connection, an_idle_wait_for_confirms_services_heartbeats_too) {
  auto o = broker("it-idle-wait");
  o.heartbeat = 1s;
  amqp::connection pub{o};
  declare(pub, "t11");
  pub.enable_confirms();
  auto until = std::chrono::steady_clock::now() + 3s;
  while (std::chrono::steady_clock::now() < until) {
    EXPECT_TRUE(pub.wait_for_confirms(100ms).empty()) << "nothing was published";
    std::this_thread::sleep_for(100ms);
  }
  auto seq = pub.publish("t11.x", "", "after a pause", with_id("t11-1"));
  auto settled = pub.wait_for_confirms(5s);
  ASSERT_EQ(settled.count(seq), 1u);
  EXPECT_EQ(settled.at(seq), amqp::confirm_status::acked);
}

TEST(amqp_connection, purge_empties_a_queue_and_counts_what_it_dropped) {
  amqp::connection pub{broker("it-purge")};
  declare(pub, "t12");
  pub.enable_confirms();
  for (int i = 0; i < 3; ++i)
    pub.publish("t12.x", "", "m", with_id("t12-" + std::to_string(i)));
  pub.wait_for_confirms(5s);
  EXPECT_EQ(pub.purge_queue("t12.q"), 3u);
  EXPECT_EQ(pub.purge_queue("t12.q"), 0u);
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
    EXPECT_EQ(e.reply_code(), amqp::precondition_failed);
  }
  EXPECT_THROW(c.declare_exchange("t5.after"), amqp::error) << "the channel is gone";

  auto closed = broker("it-refused");
  closed.port = 1;
  try {
    amqp::connection refused{closed};
    FAIL() << "nothing listens on port 1";
  } catch (const amqp::error& e) {
    EXPECT_NE(std::string{e.what()}.find("127.0.0.1:1: connect"), std::string::npos) << e.what();
    EXPECT_EQ(e.reply_code(), 0) << "no server closed anything";
  }
}

// RabbitMQQueueType=quorum declares x-queue-type=quorum (a single node can
// hold a quorum queue); a queue of the other type refuses the redeclaration,
// and the error says which setting and what to do.
TEST(amqp_connection, durable_queues_take_the_configured_type_and_a_type_change_says_what_to_do) {
  amqp::broker_config quorum;
  quorum.queues = amqp::queue_type::quorum;
  amqp::broker_config classic;
  {
    amqp::connection c{broker("it-queue-type")};
    c.delete_queue("t-type.quorum");
    c.delete_queue("t-type.classic");
    amqp::declare_durable_queue(c, quorum, "t-type.quorum");
    amqp::declare_durable_queue(c, quorum, "t-type.quorum"); // the same again: accepted
    amqp::declare_durable_queue(c, classic, "t-type.classic");
  }
  auto listing = support::rabbitmq().ctl({"list_queues", "-q", "name", "type"});
  EXPECT_NE(listing.find("t-type.quorum\tquorum"), std::string::npos) << listing;
  EXPECT_NE(listing.find("t-type.classic\tclassic"), std::string::npos) << listing;

  amqp::connection c{broker("it-queue-type-change")};
  try {
    amqp::declare_durable_queue(c, quorum, "t-type.classic");
    FAIL() << "a classic queue cannot be redeclared as a quorum queue";
  } catch (const amqp::error& e) {
    std::string what = e.what();
    EXPECT_EQ(e.reply_code(), amqp::precondition_failed) << what;
    EXPECT_NE(what.find("inequivalent arg 'x-queue-type'"), std::string::npos) << what;
    EXPECT_NE(what.find("queue 't-type.classic' exists with other arguments than "
                        "RabbitMQQueueType=quorum declares: a queue's type cannot change"),
              std::string::npos) << what;
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

TEST(amqp_connection, an_exchange_declared_with_an_alternate_sends_what_it_cannot_route_there) {
  amqp::connection c{broker("it-ae")};
  c.declare_exchange("t13.ae");
  c.declare_queue("t13.kept");
  c.bind_queue("t13.kept", "t13.ae");
  amqp::exchange_options with_ae;
  with_ae.arguments = {{"alternate-exchange", "t13.ae"}};
  c.declare_exchange("t13.x", with_ae);
  c.declare_exchange("t13.x", with_ae); // the same arguments: fine
  c.enable_confirms();
  auto seq = c.publish("t13.x", "", "nobody bound", with_id("t13-1"), /*mandatory=*/true);
  auto settled = c.wait_for_confirms(5s);
  ASSERT_EQ(settled.count(seq), 1u);
  EXPECT_EQ(settled.at(seq), amqp::confirm_status::acked) << "routed to the alternate: not returned";
  EXPECT_EQ(c.delete_queue("t13.kept"), 1u) << "kept there (and counted by the deletion)";

  try {
    c.declare_exchange("t13.x"); // without the argument
    FAIL() << "a different alternate-exchange must be refused";
  } catch (const amqp::error& e) {
    EXPECT_EQ(e.reply_code(), amqp::precondition_failed) << e.what();
    EXPECT_NE(std::string{e.what()}.find("alternate-exchange"), std::string::npos) << e.what();
  }
}

TEST(amqp_connection, declare_trigger_keeps_unrouted_events_in_the_unrouted_queue) {
  amqp::broker_config b;
  b.exchange = "t14.trigger";
  ASSERT_EQ(amqp::unrouted_name(b), "t14.trigger.unrouted");
  amqp::connection c{broker("it-trigger")};
  amqp::declare_trigger(c, b);
  amqp::declare_trigger(c, b); // every party declares it: idempotent
  c.enable_confirms();
  auto seq = c.publish("t14.trigger", "", "unrouted", with_id("t14-1"), true);
  auto settled = c.wait_for_confirms(5s);
  ASSERT_EQ(settled.count(seq), 1u);
  EXPECT_EQ(settled.at(seq), amqp::confirm_status::acked);
  amqp::connection sub{broker("it-trigger-sub")};
  sub.consume("t14.trigger.unrouted");
  auto got = drain(sub, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body, "unrouted");
  EXPECT_EQ(got[0].exchange, "t14.trigger") << "the exchange it was published to";

  // Once a queue is bound, events go there and no longer to the unrouted queue.
  c.declare_queue("t14.q");
  c.bind_queue("t14.q", "t14.trigger");
  c.publish("t14.trigger", "", "routed", with_id("t14-2"), true);
  c.wait_for_confirms(5s);
  EXPECT_EQ(c.purge_queue("t14.q"), 1u);
  EXPECT_FALSE(sub.next(300ms));

  // RabbitMQDurableExchange=false: declared as the course's services declare
  // it, so that their own declaration is equivalent.
  amqp::broker_config course;
  course.exchange = "t14.course";
  course.durable_exchange = false;
  amqp::declare_trigger(c, course);
  amqp::exchange_options theirs;
  theirs.durable = false;
  EXPECT_NO_THROW(c.declare_exchange("t14.course", theirs));
}

TEST(amqp_connection, a_message_over_the_brokers_max_size_closes_the_channel_with_406) {
  max_message_size limit{support::rabbitmq(), 1024}; // for channels opened from here on
  amqp::connection c{broker("it-max-size")};
  declare(c, "t15");
  c.enable_confirms();
  c.publish("t15.x", "", std::string(100, 'x'), with_id("t15-small"));
  c.publish("t15.x", "", std::string(2048, 'x'), with_id("t15-large"));
  try {
    settle_all(c);
    FAIL() << "the broker refuses the large message";
  } catch (const amqp::error& e) {
    EXPECT_EQ(e.reply_code(), amqp::precondition_failed) << e.what();
    EXPECT_NE(std::string{e.what()}.find("larger than configured max size"), std::string::npos)
      << e.what();
  }
}

TEST(amqp_connection, delete_queue_drops_the_queue_and_tells_what_it_held) {
  amqp::connection c{broker("it-delete")};
  declare(c, "t16");
  c.enable_confirms();
  c.publish("t16.x", "", "a", with_id("t16-1"));
  c.publish("t16.x", "", "b", with_id("t16-2"));
  settle_all(c);
  EXPECT_EQ(c.delete_queue("t16.q"), 2u);
  try {
    c.consume("t16.q");
    FAIL() << "the queue is gone";
  } catch (const amqp::error& e) {
    EXPECT_EQ(e.reply_code(), 404) << e.what();
  }
}

namespace {

// A vhost of its own where `user` has the permissions that
// deploy/rabbitmq/topology.json gives it, and a connection as that user.
amqp::connection_options as_deployed(const std::string& user, const std::string& vhost) {
  std::ifstream in{RABBITMQ_DEFINITIONS};
  auto defs = nlohmann::json::parse(in);
  auto& b = support::rabbitmq();
  b.ctl({"add_vhost", vhost});
  b.ctl({"add_user", user, user + "-dev"});
  for (auto& p : defs["permissions"])
    if (p["user"] == user)
      b.ctl({"set_permissions", "-p", vhost, user, p["configure"], p["write"], p["read"]});
  auto o = broker("it-" + user);
  o.user = user;
  o.password = user + "-dev";
  o.vhost = vhost;
  o.heartbeat = 0s;
  return o;
}

} // namespace

// Each service's declarations, as the deployment's users (in a vhost where
// `trigger` does not exist yet: creating it with an alternate exchange takes
// read on it and write on the alternate).
TEST(amqp_connection, the_deployed_users_may_declare_and_use_what_the_services_declare) {
  amqp::connection relay{as_deployed("platform-service", "it-perms-platform")};
  amqp::declare_trigger(relay);
  amqp::queue_options tap; // the relay's count of unrouted events
  tap.durable = false;
  tap.exclusive = true;
  tap.auto_delete = true;
  auto tap_name = relay.declare_queue("", tap);
  relay.bind_queue(tap_name, "trigger.unrouted");
  relay.enable_confirms();
  auto seq = relay.publish("trigger", "", "{}", with_id("perm-1"), true);
  auto settled = relay.wait_for_confirms(5s);
  ASSERT_EQ(settled.count(seq), 1u);
  EXPECT_EQ(settled.at(seq), amqp::confirm_status::acked);
  EXPECT_EQ(relay.purge_queue(tap_name), 1u);

  amqp::connection subscriber{as_deployed("command-service", "it-perms-command")};
  amqp::declare_trigger(subscriber);
  const std::string queue = "commands.platform-events";
  subscriber.declare_exchange(queue + ".dlx");
  subscriber.declare_queue(queue + ".dead");
  subscriber.bind_queue(queue + ".dead", queue + ".dlx");
  amqp::queue_options q;
  q.dead_letter_exchange = queue + ".dlx";
  subscriber.declare_queue(queue, q);
  subscriber.bind_queue(queue, "trigger");
  EXPECT_NO_THROW(subscriber.consume(queue));
}

// A loopback port bound but not listening: a connect there is refused.
class refusing_port {
public:
  refusing_port() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), len);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~refusing_port() { ::close(fd_); }
  std::uint16_t port() const { return port_; }

private:
  int fd_;
  std::uint16_t port_;
};

// A cluster's nodes as RabbitMQHost plus RabbitMQAddresses: an address that
// cannot be reached is passed over for the next one.
TEST(amqp_connection, an_unreachable_address_is_passed_over_for_the_next) {
  auto& b = support::rabbitmq();
  refusing_port first, second;
  auto o = broker("it-fallbacks");
  o.port = first.port();
  o.fallbacks = {{"127.0.0.1", second.port()}, {b.host(), static_cast<std::uint16_t>(b.port())}};
  amqp::connection c{o};
  EXPECT_EQ(c.peer(), b.host() + ":" + std::to_string(b.port()));
  c.declare_queue("it_fallbacks", {});

  o.fallbacks.pop_back();
  try {
    amqp::connection none{o};
    FAIL() << "no address answers";
  } catch (const amqp::error& e) {
    EXPECT_NE(std::string{e.what()}.find(std::string{":"}.append(std::to_string(second.port())).append(": connect")),
              std::string::npos) << "the last address tried is named: " << e.what();
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

TEST(amqp_connection, a_killed_broker_makes_keep_alive_throw_promptly) {
  auto& b = support::rabbitmq();
  auto o = broker("it-kill-idle");
  o.heartbeat = 1s;
  amqp::connection pub{o};
  pub.enable_confirms();
  b.kill();
  auto start = std::chrono::steady_clock::now();
  std::optional<std::chrono::steady_clock::duration> noticed_after;
  try {
    while (std::chrono::steady_clock::now() - start < 10s) {
      pub.keep_alive();
      std::this_thread::sleep_for(100ms);
    }
  } catch (const amqp::error& e) {
    noticed_after = std::chrono::steady_clock::now() - start;
    EXPECT_NE(std::string{e.what()}.find("amqp " + pub.peer() + ": keep_alive"), std::string::npos)
      << e.what();
  }
  // Measured before the restart: the broker's own boot time is not ours.
  b.start();
  ASSERT_TRUE(noticed_after) << "keep_alive threw";
  EXPECT_LT(*noticed_after, 3s) << "noticed within a few heartbeats (1 s)";
}
