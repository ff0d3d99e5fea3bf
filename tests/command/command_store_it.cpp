// command_store on the fixture's real PostgreSQL: the backend-independent
// cases (command_store_cases), and what only a server database has: data
// outliving the session, two sessions adding the same platform, and an
// outage surfacing as an error rather than silence.
#include "command_store_cases.hpp"

#include <actors/errors.hpp>
#include <real_servers.hpp>

#include <soci/soci.h>

using namespace command;
using command_test::command_store_cases;

namespace {

std::string fresh_database() {
  static int n = 0;
  auto name = "command_store_it_" + std::to_string(++n);
  support::postgres().create_database(name);
  return support::postgres().connection_string(name);
}

std::unique_ptr<soci::session> fresh_postgres() {
  return open_session(fresh_database());
}

} // namespace

INSTANTIATE_TEST_SUITE_P(server, command_store_cases,
                         ::testing::Values(command_test::store_backend{"postgresql", fresh_postgres}),
                         command_test::backend_name);

TEST(command_store_postgres, connection_strings_open_postgresql_and_data_outlives_the_session) {
  auto connection = fresh_database();
  EXPECT_FALSE(is_in_memory(connection));
  std::optional<command_record> added;
  {
    auto db = open_session(connection);
    EXPECT_EQ(db->get_backend_name(), "postgresql");
    command_store s{*db};
    s.migrate();
    s.add_platform({3, "kept"});
    auto c = s.add_command(3, {"h", "c"});
    ASSERT_TRUE(c);
    added = *c;
  }
  auto db = open_session(connection);
  command_store s{*db};
  s.migrate(); // a restarted repository migrates again
  EXPECT_EQ(s.platforms(), (std::vector<platform>{{3, "kept"}}));
  EXPECT_EQ(s.command(3, added->id), added);
}

TEST(command_store_postgres, two_sessions_adding_the_same_platform_add_it_once) {
  auto connection = fresh_database();
  auto a = open_session(connection), b = open_session(connection);
  command_store first{*a}, second{*b};
  first.migrate();
  second.migrate();
  EXPECT_EQ(first.add_platform({1, "one"}), true);
  EXPECT_EQ(second.add_platform({1, "one again"}), false);
  EXPECT_EQ(second.add_platforms({{1, "one"}, {2, "two"}}), 1u);
  EXPECT_EQ(first.platforms(), (std::vector<platform>{{1, "one"}, {2, "two"}}));
}

TEST(command_store_postgres, a_stopped_server_is_an_error_and_a_new_session_works_after) {
  auto connection = fresh_database();
  auto db = open_session(connection);
  command_store s{*db};
  s.migrate();
  s.add_platform({1, "before"});
  auto& pg = support::postgres();
  pg.stop();
  EXPECT_THROW(s.add_platform({2, "during"}), soci::soci_error);
  EXPECT_THROW(open_session(connection), soci::soci_error);
  pg.start();
  auto again = open_session(connection);
  command_store after{*again};
  EXPECT_EQ(after.add_platform({2, "after"}), true);
  EXPECT_EQ(after.platforms(), (std::vector<platform>{{1, "before"}, {2, "after"}}));
}

TEST(command_store_postgres, a_value_postgresql_refuses_is_an_error_value_and_the_session_serves_on) {
  auto db = fresh_postgres();
  command_store s{*db};
  s.migrate();
  ASSERT_EQ(s.add_platform({1, "a"}), true);
  // Not UTF-8: PostgreSQL refuses it (SQLSTATE 22021, class 22).
  auto refused = s.add_platform({2, "\xff"});
  ASSERT_FALSE(refused);
  EXPECT_EQ(actors::kind_of(refused.error()), actors::error_kind::invalid);
  EXPECT_NE(actors::describe(refused.error()).find("SQLSTATE 22021"), std::string::npos)
    << actors::describe(refused.error());
  auto in_batch = s.add_platforms({{3, "fine"}, {4, "\xc3\x28"}});
  ASSERT_FALSE(in_batch);
  EXPECT_EQ(actors::kind_of(in_batch.error()), actors::error_kind::invalid);
  auto command = s.add_command(1, {"\xfe", "c"});
  ASSERT_FALSE(command);
  EXPECT_EQ(actors::kind_of(command.error()), actors::error_kind::invalid);
  EXPECT_EQ(s.platforms(), (std::vector<platform>{{1, "a"}})) << "the batch rolled back";
  EXPECT_EQ(s.add_platform({5, "after"}), true) << "the same session serves on";
  EXPECT_EQ(s.add_command(1, {"h", "c"})->platform_id, 1);
}

TEST(command_store_postgres, a_value_postgresql_refuses_in_add_each_leaves_the_others_written) {
  auto db = fresh_postgres();
  command_store s{*db};
  s.migrate();
  ASSERT_EQ(s.add_platform({1, "a"}), true);
  // Passes the store's own checks; PostgreSQL refuses it inside the batch.
  auto out = s.add_each({{3, "fine"}, {4, "\xc3\x28"}, {1, "a again"}, {5, "also fine"}});
  ASSERT_EQ(out.size(), 4u);
  EXPECT_TRUE(out[0].added);
  EXPECT_FALSE(out[1].added);
  ASSERT_TRUE(out[1].refused);
  EXPECT_EQ(actors::kind_of(out[1].refused), actors::error_kind::invalid);
  EXPECT_NE(actors::describe(out[1].refused).find("SQLSTATE 22021"), std::string::npos)
    << actors::describe(out[1].refused);
  EXPECT_FALSE(out[2].added) << "already there";
  EXPECT_FALSE(out[2].refused);
  EXPECT_TRUE(out[3].added);
  EXPECT_EQ(s.platforms(), (std::vector<platform>{{1, "a"}, {3, "fine"}, {5, "also fine"}}));
}
