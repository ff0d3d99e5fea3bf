// The platform service's stores (platforms, outbox, commit notifications) and
// the migrations against a real PostgreSQL (fixture), no actors involved.
#include <store/notification_listener.hpp>
#include <store/outbox_store.hpp>
#include <store/platform_store.hpp>
#include <store/schema.hpp>

#include <actors/errors.hpp>
#include <eventually.hpp>
#include <real_servers.hpp>

#include <gtest/gtest.h>
#include <soci/postgresql/soci-postgresql.h>

#include <future>
#include <set>

using namespace platform;
using namespace std::chrono_literals;

namespace {

std::string fresh_database(const std::string& name) {
  auto& pg = support::postgres();
  pg.create_database(name);
  return pg.connection_string(name);
}

std::vector<int> migrate(const std::string& connection) {
  soci::session sql{soci::postgresql, connection};
  return apply_migrations(sql, parse_migrations(migration_files()));
}

// A database with the schema applied, as platform.migrations leaves it.
std::string migrated_database(const std::string& name) {
  auto connection = fresh_database(name);
  migrate(connection);
  return connection;
}

} // namespace

TEST(migrations, names_give_versions_in_order) {
  auto ms = parse_migrations({{"010_b.sql", "b"}, {"002_a.sql", "a"}});
  ASSERT_EQ(ms.size(), 2u);
  EXPECT_EQ(ms[0].version, 2);
  EXPECT_EQ(ms[1].version, 10);
  EXPECT_THROW(parse_migrations({{"x.sql", ""}}), std::invalid_argument);
  EXPECT_THROW(parse_migrations({{"1_a.sql", ""}, {"001_b.sql", ""}}), std::invalid_argument);
  EXPECT_GE(parse_migrations(migration_files()).size(), 3u);
  EXPECT_EQ(latest_version(), parse_migrations(migration_files()).back().version);
}

TEST(migrations, first_start_applies_them_and_seeds_three_platforms) {
  auto conn = fresh_database("store_seed");
  {
    soci::session sql{soci::postgresql, conn};
    EXPECT_EQ(applied_version(sql), 0);
  }
  auto applied = migrate(conn);
  EXPECT_EQ(applied, (std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_TRUE(migrate(conn).empty()) << "a second run applies nothing";
  soci::session sql{soci::postgresql, conn};
  EXPECT_EQ(applied_version(sql), latest_version());
  platform_store store{conn};
  auto all = store.all();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].id, 1);
  EXPECT_EQ(all[0].name, "Dot Net");
  EXPECT_EQ(all[1].name, "SQL Server Express");
  EXPECT_EQ(all[2].name, "Kubernetes");
  EXPECT_EQ(all[2].publisher, "Cloud Native Computing Foundation");
  outbox_store outbox{conn};
  EXPECT_EQ(outbox.backlog(), 0) << "seeds publish no events";
  EXPECT_TRUE(outbox.pending(1).empty()) << "no phantom row with a one-row limit";
  EXPECT_TRUE(outbox.pending(500).empty());
}

TEST(migrations, two_replicas_migrating_at_once_apply_each_once) {
  auto conn = fresh_database("store_race");
  auto a = std::async(std::launch::async, [conn] { return migrate(conn); });
  auto b = std::async(std::launch::async, [conn] { return migrate(conn); });
  auto applied_a = a.get();
  auto applied_b = b.get();
  const auto migrations = parse_migrations(migration_files()).size();
  EXPECT_EQ(applied_a.size() + applied_b.size(), migrations);
  EXPECT_TRUE(applied_a.empty() || applied_b.empty());
  platform_store store{conn};
  EXPECT_EQ(store.all().size(), 3u);
  soci::session sql{soci::postgresql, conn};
  int recorded = 0;
  sql << "SELECT count(*) FROM schema_migrations", soci::into(recorded);
  EXPECT_EQ(recorded, static_cast<int>(migrations));
}

TEST(schema_status, is_current_once_the_latest_version_is_applied) {
  schema_status status;
  EXPECT_FALSE(status.current());
  status.applied(latest_version() - 1);
  EXPECT_FALSE(status.current());
  status.applied(latest_version());
  EXPECT_TRUE(status.current());
}

TEST(platform_store, create_commits_the_platform_and_its_outbox_row_together) {
  auto conn = migrated_database("store_create");
  platform_store store{conn};
  outbox_store outbox{conn};
  const std::string traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  auto p = store.create({"Docker", "Docker Inc", "Free"}, {"corr-1", traceparent, ""});
  ASSERT_TRUE(p);
  EXPECT_EQ(p->platform.id, 4);
  EXPECT_FALSE(p->replayed);
  auto found = store.find(p->platform.id);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->publisher, "Docker Inc");
  EXPECT_FALSE(store.find(999));
  EXPECT_EQ(store.find(1)->name, "Dot Net") << "the prepared statement is reusable";
  auto events = outbox.pending(10);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, "Platform_Published");
  EXPECT_EQ(events[0].payload, R"({"Event":"Platform_Published","Id":4,"Name":"Docker"})");
  EXPECT_EQ(events[0].correlation_id, "corr-1");
  EXPECT_EQ(events[0].traceparent, traceparent) << "kept for the event's header";
  EXPECT_EQ(events[0].message_id.size(), 36u);
  outbox.mark_published({events[0].id});
  EXPECT_TRUE(outbox.pending(10).empty());
  EXPECT_EQ(outbox.backlog(), 0);
  EXPECT_NO_THROW(store.ping());
}

TEST(platform_store, an_idempotency_key_creates_once_and_replays_the_first_platform) {
  auto conn = migrated_database("store_key");
  platform_store store{conn};
  outbox_store outbox{conn};
  auto first = store.create({"Docker", "Docker Inc", "Free"}, {"r1", "", "key-1"});
  ASSERT_TRUE(first);
  EXPECT_FALSE(first->replayed);
  auto again = store.create({"Docker", "Docker Inc", "Free"}, {"r2", "", "key-1"});
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->platform.id, first->platform.id);
  EXPECT_EQ(outbox.pending(10).size(), 1u) << "a replay writes no second event";

  auto other = store.create({"Podman", "Red Hat", "Free"}, {"r3", "", "key-1"});
  ASSERT_FALSE(other) << "a key reused for other values";
  EXPECT_TRUE(is(other.error(), platform_errc::key_reused));
  EXPECT_EQ(actors::kind_of(other.error()), actors::error_kind::conflict);
  EXPECT_NE(actors::describe(other.error()).find("platform 4"), std::string::npos)
    << actors::describe(other.error());

  auto keyless = store.create({"Docker", "Docker Inc", "Free"});
  auto keyless_again = store.create({"Docker", "Docker Inc", "Free"});
  ASSERT_TRUE(keyless && keyless_again);
  EXPECT_NE(keyless->platform.id, keyless_again->platform.id) << "no key, no deduplication";
  EXPECT_EQ(outbox.pending(10).size(), 3u);
}

TEST(platform_store, concurrent_creates_with_one_key_make_one_platform) {
  auto conn = migrated_database("store_key_race");
  constexpr int writers = 6;
  std::vector<std::future<caf::expected<created_platform>>> answers;
  for (int i = 0; i < writers; ++i)
    answers.push_back(std::async(std::launch::async, [&conn, i] {
      platform_store store{conn};
      return store.create({"Race", "r", "c"}, {"r" + std::to_string(i), "", "race-key"});
    }));
  std::set<std::int32_t> ids;
  int created = 0;
  for (auto& a : answers) {
    auto answer = a.get();
    ASSERT_TRUE(answer);
    ids.insert(answer->platform.id);
    created += answer->replayed ? 0 : 1;
  }
  EXPECT_EQ(ids.size(), 1u);
  EXPECT_EQ(created, 1);
  EXPECT_EQ(outbox_store{conn}.pending(10).size(), 1u);
}

TEST(platform_store, refused_values_are_an_error_value_leave_neither_row_and_the_session_serves_on) {
  using namespace std::string_literals;
  auto conn = migrated_database("store_rollback");
  platform_store store{conn};
  struct refusal {
    const char* what;
    new_platform values;
    const char* sqlstate;
  };
  for (auto& [what, values, sqlstate] : std::vector<refusal>{
         // The schema refuses an empty name (the HTTP layer never sends one).
         {"CHECK constraint", {"", "x", "y"}, "SQLSTATE 23514"},
         {"not UTF-8", {"\xff", "x", "y"}, "SQLSTATE 22021"},
         // libpq would cut it to "Dock": refused before it is sent.
         {"NUL", {"Dock\0er"s, "x", "y"}, "SQLSTATE 22021"},
       }) {
    auto refused = store.create(values);
    ASSERT_FALSE(refused) << what;
    EXPECT_EQ(actors::kind_of(refused.error()), actors::error_kind::invalid) << what;
    EXPECT_NE(actors::describe(refused.error()).find(sqlstate), std::string::npos)
      << what << ": " << actors::describe(refused.error());
  }
  EXPECT_EQ(store.all().size(), 3u);
  EXPECT_EQ(outbox_store{conn}.backlog(), 0);
  auto after = store.create({"after", "x", "y"});
  ASSERT_TRUE(after) << "the same session serves on";
  EXPECT_EQ(store.find(after->platform.id)->name, "after");
}

TEST(platform_store, a_stopped_server_is_thrown_not_refused) {
  auto conn = migrated_database("store_down");
  platform_store store{conn};
  auto& pg = support::postgres();
  pg.stop();
  EXPECT_THROW(store.create({"n", "p", "c"}), soci::soci_error)
    << "the repository actor must fail, so that its supervisor reconnects";
  pg.start();
}

TEST(platform_store, a_commit_notifies_every_listener_and_a_rollback_none) {
  auto conn = migrated_database("store_notify");
  notification_listener first{conn, outbox_channel};
  notification_listener second{conn, outbox_channel};
  EXPECT_FALSE(first.wait(50ms)) << "nothing committed yet";
  platform_store store{conn};
  EXPECT_FALSE(store.create({"", "x", "y"}));
  EXPECT_FALSE(first.wait(200ms)) << "a rolled back create notifies nobody";
  for (int i = 0; i < 3; ++i)
    store.create({"n" + std::to_string(i), "p", "c"});
  EXPECT_TRUE(first.wait(2s));
  int wakes = 1;
  while (first.wait(200ms))
    ++wakes;
  EXPECT_LE(wakes, 3) << "at most one wake per commit (often fewer: a burst is read at once)";
  EXPECT_TRUE(second.wait(2s)) << "each replica's listener hears it";

  // An outbox row written any other way wakes the relays just the same.
  soci::session sql{soci::postgresql, conn};
  sql << "INSERT INTO outbox (type, payload) VALUES ('Platform_Published', '{}')";
  EXPECT_TRUE(first.wait(2s));
}

TEST(notification_listener, a_stopped_server_fails_it) {
  auto& pg = support::postgres();
  auto conn = migrated_database("store_listener_down");
  notification_listener listener{conn, outbox_channel};
  pg.stop();
  EXPECT_THROW(
    {
      for (int i = 0; i < 50; ++i)
        listener.wait(100ms);
    },
    std::runtime_error);
  pg.start();
  EXPECT_THROW(notification_listener("host=127.0.0.1 port=1 connect_timeout=1", outbox_channel),
               std::runtime_error);
}

TEST(outbox_store, pending_is_oldest_first_and_limited) {
  auto conn = migrated_database("store_pending");
  platform_store store{conn};
  outbox_store outbox{conn};
  for (int i = 0; i < 5; ++i)
    store.create({std::string{"p"}.append(std::to_string(i)), "x", "y"});
  auto first = outbox.pending(3);
  ASSERT_EQ(first.size(), 3u);
  EXPECT_LT(first[0].id, first[1].id);
  EXPECT_LT(first[1].id, first[2].id);
  outbox.mark_published({first[0].id, first[1].id, first[2].id});
  EXPECT_EQ(outbox.pending(10).size(), 2u);
  EXPECT_EQ(outbox.backlog(), 2);
}

TEST(outbox_store, pending_leaves_out_the_span_in_flight) {
  auto conn = migrated_database("store_in_flight");
  platform_store store{conn};
  outbox_store outbox{conn};
  for (int i = 0; i < 6; ++i)
    store.create({std::string{"f"}.append(std::to_string(i)), "x", "y"});
  auto all = outbox.pending(10);
  ASSERT_EQ(all.size(), 6u);
  auto rest = outbox.pending(10, {all[1].id, all[3].id});
  ASSERT_EQ(rest.size(), 3u);
  EXPECT_EQ(rest[0].id, all[0].id) << "older than the span: still offered";
  EXPECT_EQ(rest[1].id, all[4].id);
  EXPECT_EQ(rest[2].id, all[5].id);
  EXPECT_EQ(outbox.pending(10, {}).size(), 6u) << "an empty span leaves nothing out";
}

TEST(outbox_store, one_session_leads_until_it_ends) {
  auto conn = migrated_database("store_lead");
  auto leader = std::make_unique<outbox_store>(conn);
  outbox_store standby{conn};
  EXPECT_TRUE(leader->lead());
  EXPECT_TRUE(leader->lead()) << "held for the session's life";
  EXPECT_FALSE(standby.lead());
  leader.reset();
  // The server releases the lock when the leader's backend ends, which it
  // does on its own time after the client closed (seconds on a busy machine).
  EXPECT_TRUE(support::eventually([&] { return standby.lead(); }, 10s))
    << "the lock goes with the leader's session";
}
