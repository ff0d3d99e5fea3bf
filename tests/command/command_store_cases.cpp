// The cases of command_store_cases.hpp (instantiated per backend elsewhere).
#include "command_store_cases.hpp"

using namespace command;
using command_test::command_store_cases;

TEST_P(command_store_cases, adding_a_platform_twice_is_a_no_op) {
  EXPECT_TRUE(store.add_platform({5, "Docker"}));
  EXPECT_FALSE(store.add_platform({5, "Docker renamed"}));
  EXPECT_EQ(store.platforms(), (std::vector<platform>{{5, "Docker"}}));
}

TEST_P(command_store_cases, add_platforms_counts_only_new_ones) {
  store.add_platform({2, "b"});
  EXPECT_EQ(store.add_platforms({{1, "a"}, {2, "b"}, {3, "c"}}), 2u);
  EXPECT_EQ(store.platforms(), (std::vector<platform>{{1, "a"}, {2, "b"}, {3, "c"}}));
}

TEST_P(command_store_cases, commands_belong_to_their_platform) {
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
  EXPECT_EQ(store.all_commands(), (std::vector<command_record>{*c1, *c2, *c3}));
}

TEST_P(command_store_cases, an_unknown_platform_has_no_commands_and_takes_none) {
  EXPECT_EQ(store.commands(9), std::nullopt);
  EXPECT_EQ(store.add_command(9, {"x", "y"}), std::nullopt);
  store.add_platform({9, "late"});
  EXPECT_EQ(store.commands(9), std::vector<command_record>{});
  EXPECT_TRUE(store.all_commands().empty());
}

TEST_P(command_store_cases, migrate_is_idempotent_and_keeps_data) {
  store.add_platform({1, "a"});
  store.add_command(1, {"h", "c"});
  store.migrate();
  EXPECT_EQ(store.platforms().size(), 1u);
  EXPECT_EQ(store.all_commands().size(), 1u);
}

TEST_P(command_store_cases, the_largest_platform_id_and_unicode_names_round_trip) {
  platform big{2'147'483'647, "Ünïcødé ✓"};
  EXPECT_TRUE(store.add_platform(big));
  EXPECT_EQ(store.platforms(), std::vector<platform>{big});
  EXPECT_TRUE(store.has_platform(big.id));
}
