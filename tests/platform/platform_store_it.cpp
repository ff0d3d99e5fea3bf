// platform_store and the migrations against a real PostgreSQL (fixture), no
// actors involved.
#include <store/platform_store.hpp>
#include <store/schema.hpp>

#include <real_servers.hpp>

#include <gtest/gtest.h>

#include <future>

using namespace platform;

namespace {

std::string fresh_database(const std::string& name) {
  auto& pg = support::postgres();
  pg.create_database(name);
  return pg.connection_string(name);
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
}

TEST(platform_store, first_start_applies_migrations_and_seeds_three_platforms) {
  platform_store store{fresh_database("store_seed")};
  EXPECT_FALSE(store.ready());
  auto applied = store.migrate();
  EXPECT_EQ(applied, (std::vector<int>{1, 2, 3}));
  EXPECT_TRUE(store.ready());
  EXPECT_TRUE(store.migrate().empty()) << "a second run applies nothing";
  auto all = store.all();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].name, "Dot Net");
  EXPECT_EQ(all[0].publisher, "Microsoft");
  EXPECT_EQ(all[1].name, "SQL Server Express");
  EXPECT_EQ(all[2].name, "Kubernetes");
  EXPECT_EQ(all[2].publisher, "Cloud Native Computing Foundation");
  EXPECT_EQ(all[2].cost, "Free");
  EXPECT_EQ(store.backlog(), 0) << "seeds publish no events";
  EXPECT_TRUE(store.pending(1).empty()) << "no phantom row with a one-row limit";
  EXPECT_TRUE(store.pending(500).empty());
}

TEST(platform_store, two_replicas_migrating_at_once_apply_each_migration_once) {
  auto conn = fresh_database("store_race");
  auto migrate = [conn] {
    platform_store s{conn};
    return s.migrate();
  };
  auto a = std::async(std::launch::async, migrate);
  auto b = std::async(std::launch::async, migrate);
  auto ra = a.get(), rb = b.get();
  EXPECT_EQ(ra.size() + rb.size(), 3u);
  EXPECT_TRUE(ra.empty() || rb.empty());
  platform_store store{conn};
  EXPECT_EQ(store.all().size(), 3u);
  int recorded = 0;
  store.session() << "SELECT count(*) FROM schema_migrations", soci::into(recorded);
  EXPECT_EQ(recorded, 3);
}

TEST(platform_store, create_commits_the_platform_and_its_outbox_row_together) {
  platform_store store{fresh_database("store_create")};
  store.migrate();
  auto p = store.create({"Docker", "Docker Inc", "Free"}, "corr-1");
  EXPECT_EQ(p.id, 4);
  auto found = store.find(p.id);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->name, "Docker");
  EXPECT_FALSE(store.find(999));
  EXPECT_EQ(store.find(1)->name, "Dot Net") << "the prepared statement is reusable";
  auto events = store.pending(10);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, "Platform_Published");
  EXPECT_EQ(events[0].payload, R"({"Event":"Platform_Published","Id":4,"Name":"Docker"})");
  EXPECT_EQ(events[0].correlation_id, "corr-1");
  EXPECT_EQ(events[0].message_id.size(), 36u);
  store.mark_published({events[0].id});
  EXPECT_TRUE(store.pending(10).empty());
  EXPECT_EQ(store.backlog(), 0);
}

TEST(platform_store, a_failed_create_leaves_neither_row) {
  platform_store store{fresh_database("store_rollback")};
  store.migrate();
  // The CHECK constraint rejects an empty name inside the transaction.
  EXPECT_THROW(store.create({"", "x", "y"}, ""), soci::soci_error);
  EXPECT_EQ(store.all().size(), 3u);
  EXPECT_EQ(store.backlog(), 0);
}

TEST(platform_store, pending_is_oldest_first_and_limited) {
  platform_store store{fresh_database("store_pending")};
  store.migrate();
  for (int i = 0; i < 5; ++i)
    store.create({std::string{"p"}.append(std::to_string(i)), "x", "y"}, "");
  auto first = store.pending(3);
  ASSERT_EQ(first.size(), 3u);
  EXPECT_LT(first[0].id, first[1].id);
  EXPECT_LT(first[1].id, first[2].id);
  store.mark_published({first[0].id, first[1].id, first[2].id});
  EXPECT_EQ(store.pending(10).size(), 2u);
  EXPECT_EQ(store.backlog(), 2);
}

TEST(platform_store, pending_leaves_out_the_span_in_flight) {
  platform_store store{fresh_database("store_in_flight")};
  store.migrate();
  for (int i = 0; i < 6; ++i)
    store.create({std::string{"f"}.append(std::to_string(i)), "x", "y"}, "");
  auto all = store.pending(10);
  ASSERT_EQ(all.size(), 6u);
  auto rest = store.pending(10, {all[1].id, all[3].id});
  ASSERT_EQ(rest.size(), 3u);
  EXPECT_EQ(rest[0].id, all[0].id) << "older than the span: still offered";
  EXPECT_EQ(rest[1].id, all[4].id);
  EXPECT_EQ(rest[2].id, all[5].id);
  EXPECT_EQ(store.pending(10, {}).size(), 6u) << "an empty span leaves nothing out";
}
