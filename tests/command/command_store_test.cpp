// command_store over SQLite (no actors), and the read model kept beside it.
#include "store/command_store.hpp"
#include "store/read_model.hpp"

#include <soci/sqlite3/soci-sqlite3.h>

#include <gtest/gtest.h>

using namespace command;

namespace {

// Each test its own shared in-memory database, so tests do not see each other.
std::string unique_uri() {
  static int n = 0;
  return "db=" + sqlite_memory_uri("store-test-" + std::to_string(++n));
}

class command_store_test : public ::testing::Test {
protected:
  command_store_test() : db(soci::sqlite3, unique_uri()), store(db) { store.migrate(); }
  soci::session db;
  command_store store;
};

} // namespace

TEST_F(command_store_test, adding_a_platform_twice_is_a_no_op) {
  EXPECT_TRUE(store.add_platform({5, "Docker"}));
  EXPECT_FALSE(store.add_platform({5, "Docker renamed"}));
  EXPECT_EQ(store.platforms(), (std::vector<platform>{{5, "Docker"}}));
}

TEST_F(command_store_test, add_platforms_counts_only_new_ones) {
  store.add_platform({2, "b"});
  EXPECT_EQ(store.add_platforms({{1, "a"}, {2, "b"}, {3, "c"}}), 2u);
  EXPECT_EQ(store.platforms(), (std::vector<platform>{{1, "a"}, {2, "b"}, {3, "c"}}));
}

TEST_F(command_store_test, commands_belong_to_their_platform) {
  store.add_platforms({{1, "a"}, {2, "b"}});
  auto c1 = store.add_command(1, {"build", "docker build ."});
  auto c2 = store.add_command(2, {"run", "docker run x"});
  auto c3 = store.add_command(1, {"push", "docker push x"});
  ASSERT_TRUE(c1 && c2 && c3);
  EXPECT_EQ(c1->platform_id, 1);
  EXPECT_LT(c1->id, c3->id);
  EXPECT_EQ(store.commands(1), (std::vector<command_record>{*c1, *c3}));
  EXPECT_EQ(store.command(1, c3->id), c3);
  EXPECT_EQ(store.command(2, c1->id), std::nullopt) << "another platform's command";
  EXPECT_EQ(store.commands(2)->size(), 1u);
}

TEST_F(command_store_test, an_unknown_platform_has_no_commands_and_takes_none) {
  EXPECT_EQ(store.commands(9), std::nullopt);
  EXPECT_EQ(store.add_command(9, {"x", "y"}), std::nullopt);
  store.add_platform({9, "late"});
  EXPECT_EQ(store.commands(9), std::vector<command_record>{});
  EXPECT_TRUE(store.all_commands().empty());
}

TEST_F(command_store_test, migrate_is_idempotent_and_keeps_data) {
  store.add_platform({1, "a"});
  store.migrate();
  EXPECT_EQ(store.platforms().size(), 1u);
}

TEST(command_store, the_in_memory_database_is_shared_by_every_session_of_the_process) {
  auto keeper = open_session(":memory:");
  {
    auto first = open_session(":memory:");
    command_store s{*first};
    s.migrate();
    s.add_platform({77, "shared"});
  } // the first session is gone (a repository restart); the keeper holds the data
  auto second = open_session(":memory:");
  command_store s{*second};
  EXPECT_TRUE(s.has_platform(77));
}

TEST(read_model, mirrors_what_the_store_commits) {
  read_model view;
  view.reset({{1, "a"}, {2, "b"}}, {{10, 1, "h", "c"}, {11, 2, "h2", "c2"}, {12, 1, "h3", "c3"}});
  EXPECT_EQ(view.platforms().size(), 2u);
  EXPECT_EQ(view.commands(1)->size(), 2u);
  EXPECT_EQ(view.command(1, 12)->how_to, "h3");
  EXPECT_EQ(view.command(2, 12), std::nullopt);
  EXPECT_EQ(view.commands(3), std::nullopt);
  view.add_platform({1, "renamed"});
  EXPECT_EQ(view.platforms().front().name, "a") << "a known id is left as it is";
  view.add_platform({3, "c"});
  view.add_command({13, 3, "x", "y"});
  EXPECT_TRUE(view.has_platform(3));
  EXPECT_EQ(view.command(3, 13)->command_line, "y");
}
