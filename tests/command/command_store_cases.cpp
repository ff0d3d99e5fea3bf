// The cases of command_store_cases.hpp (instantiated per backend elsewhere).
#include "command_store_cases.hpp"

#include <actors/errors.hpp>

using namespace command;
using command_test::command_store_cases;

TEST_P(command_store_cases, adding_a_platform_twice_is_a_no_op) {
  EXPECT_EQ(store.add_platform({5, "Docker"}), true);
  EXPECT_EQ(store.add_platform({5, "Docker renamed"}), false);
  EXPECT_EQ(store.platforms(), (std::vector<platform>{{5, "Docker"}}));
}

TEST_P(command_store_cases, add_platforms_counts_only_new_ones) {
  store.add_platform({2, "b"});
  EXPECT_EQ(store.add_platforms({{1, "a"}, {2, "b"}, {3, "c"}}), 2u);
  EXPECT_EQ(store.platforms(), (std::vector<platform>{{1, "a"}, {2, "b"}, {3, "c"}}));
}

TEST_P(command_store_cases, add_each_tells_each_platform_in_the_order_given) {
  store.add_platform({2, "b"});
  auto out = store.add_each({{3, "c"}, {2, "b again"}, {1, "a"}, {3, "c again"}});
  ASSERT_EQ(out.size(), 4u);
  EXPECT_TRUE(out[0].added);
  EXPECT_FALSE(out[1].added) << "already there";
  EXPECT_TRUE(out[2].added);
  EXPECT_FALSE(out[3].added) << "the same id earlier in the batch";
  for (auto& o : out)
    EXPECT_FALSE(o.refused);
  EXPECT_EQ(store.platforms(), (std::vector<platform>{{1, "a"}, {2, "b"}, {3, "c"}}));
  EXPECT_TRUE(store.add_each({}).empty());
}

TEST_P(command_store_cases, add_each_of_platforms_all_there_adds_none) {
  store.add_platforms({{1, "a"}, {2, "b"}});
  auto out = store.add_each({{2, "b"}, {1, "a"}});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_FALSE(out[0].added);
  EXPECT_FALSE(out[1].added);
}

TEST_P(command_store_cases, names_with_quotes_backslashes_braces_and_null_round_trip_in_a_batch) {
  std::vector<platform> odd{{1, R"(say "hi")"}, {2, R"(C:\dir\)"}, {3, "{a,b}"},
                            {4, "NULL"},        {5, ""},            {6, "a, b"},
                            {7, "\"\\"},        {8, "Ünï ✓"},       {9, " padded "}};
  auto out = store.add_each(odd);
  for (auto& o : out)
    EXPECT_TRUE(o.added);
  EXPECT_EQ(store.platforms(), odd);
}

TEST_P(command_store_cases, add_each_leaves_a_refused_platform_out_and_keeps_the_others) {
  using namespace std::string_literals;
  auto out = store.add_each({{1, "a"}, {2, "Dock\0er"s}, {3, "c"}});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_TRUE(out[0].added);
  EXPECT_FALSE(out[1].added);
  ASSERT_TRUE(out[1].refused);
  EXPECT_EQ(actors::kind_of(out[1].refused), actors::error_kind::invalid);
  EXPECT_TRUE(out[2].added);
  EXPECT_FALSE(out[0].refused);
  EXPECT_EQ(store.platforms(), (std::vector<platform>{{1, "a"}, {3, "c"}}));
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
  EXPECT_EQ(store.command(1, c3->id), *c3);
  EXPECT_EQ(store.command(2, c1->id), std::nullopt) << "another platform's command";
  EXPECT_EQ(store.commands(2)->size(), 1u);
  EXPECT_EQ(store.all_commands(), (std::vector<command_record>{*c1, *c2, *c3}));
}

TEST_P(command_store_cases, an_unknown_platform_has_no_commands_and_takes_none) {
  EXPECT_EQ(store.commands(9), std::nullopt);
  auto refused = store.add_command(9, {"x", "y"});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), unknown_platform(9));
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
  EXPECT_EQ(store.add_platform(big), true);
  EXPECT_EQ(store.platforms(), std::vector<platform>{big});
  EXPECT_TRUE(store.has_platform(big.id));
}

TEST_P(command_store_cases, text_with_nul_is_refused_as_a_value_and_nothing_is_written) {
  using namespace std::string_literals;
  ASSERT_EQ(store.add_platform({1, "a"}), true);
  auto one = store.add_platform({2, "Dock\0er"s});
  ASSERT_FALSE(one);
  EXPECT_EQ(actors::kind_of(one.error()), actors::error_kind::invalid);
  auto several = store.add_platforms({{3, "fine"}, {4, "\0"s}});
  ASSERT_FALSE(several);
  EXPECT_EQ(actors::kind_of(several.error()), actors::error_kind::invalid);
  auto command = store.add_command(1, {"h\0"s, "c"});
  ASSERT_FALSE(command);
  EXPECT_EQ(actors::kind_of(command.error()), actors::error_kind::invalid);
  EXPECT_EQ(store.platforms(), (std::vector<platform>{{1, "a"}})) << "none of them was stored";
  EXPECT_TRUE(store.all_commands().empty());
  EXPECT_EQ(store.add_command(1, {"h", "c"})->how_to, "h") << "the session serves on";
}
