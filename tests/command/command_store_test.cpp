// command_store over in-memory SQLite (no actors; the cases are shared with
// command_store_it, which runs them on PostgreSQL), and the read model.
#include "command_store_cases.hpp"

#include "store/command_store.hpp"
#include "store/read_model.hpp"

#include <soci/sqlite3/soci-sqlite3.h>

#include <gtest/gtest.h>

using namespace command;
using command_test::command_store_cases;

namespace {

// Each test its own shared in-memory database, so tests do not see each other.
std::unique_ptr<soci::session> fresh_sqlite() {
  static int n = 0;
  return std::make_unique<soci::session>(
    soci::sqlite3, "db=" + sqlite_memory_uri("store-test-" + std::to_string(++n)));
}

} // namespace

INSTANTIATE_TEST_SUITE_P(in_memory, command_store_cases,
                         ::testing::Values(command_test::store_backend{"sqlite", fresh_sqlite}),
                         command_test::backend_name);

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
