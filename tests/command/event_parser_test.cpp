// How bodies from the bus are read: the course's exact JSON, keys in any
// case, unknown keys ignored, and every way a body can be unprocessable.
#include "events/event_parser.hpp"

#include <gtest/gtest.h>

using namespace command;

namespace {

std::string reason_of(std::string_view body) {
  auto e = parse_event(body);
  auto* bad = std::get_if<malformed_event>(&e);
  return bad ? bad->reason : "<not malformed>";
}

} // namespace

TEST(event_parser, reads_the_course_event) {
  auto e = parse_event(R"({"Id":5,"Name":"Docker","Event":"Platform_Published"})");
  auto* p = std::get_if<platform_published>(&e);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->p, (platform{5, "Docker"}));
}

TEST(event_parser, keys_match_ignoring_case_and_unknown_keys_are_ignored) {
  auto e = parse_event(
    R"({"event":"Platform_Published","NAME":"K8s","iD":7,"Publisher":"CNCF","extra":[1]})");
  auto* p = std::get_if<platform_published>(&e);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->p, (platform{7, "K8s"}));
}

TEST(event_parser, another_event_type_is_unknown_not_malformed) {
  auto e = parse_event(R"({"Event":"Platform_Deleted","Id":5})");
  auto* u = std::get_if<unknown_event>(&e);
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(u->type, "Platform_Deleted");
}

TEST(event_parser, unprocessable_bodies_are_malformed_with_a_reason) {
  EXPECT_EQ(reason_of("not json"), "not JSON");
  EXPECT_EQ(reason_of(""), "not JSON");
  EXPECT_EQ(reason_of("[1,2]"), "not a JSON object");
  EXPECT_EQ(reason_of(R"("Platform_Published")"), "not a JSON object");
  EXPECT_EQ(reason_of(R"({"Id":5,"Name":"x"})"), "missing Event");
  EXPECT_EQ(reason_of(R"({"Event":7,"Id":5,"Name":"x"})"), "Event is not a string: 7");
  EXPECT_EQ(reason_of(R"({"Event":"Platform_Published","Name":"x"})"), "missing Id");
  EXPECT_EQ(reason_of(R"({"Event":"Platform_Published","Id":"5","Name":"x"})"),
            R"(Id is not an integer: "5")");
  EXPECT_EQ(reason_of(R"({"Event":"Platform_Published","Id":5.5,"Name":"x"})"),
            "Id is not an integer: 5.5");
  EXPECT_EQ(reason_of(R"({"Event":"Platform_Published","Id":0,"Name":"x"})"),
            "Id is not a positive 32-bit integer: 0");
  EXPECT_EQ(reason_of(R"({"Event":"Platform_Published","Id":-3,"Name":"x"})"),
            "Id is not a positive 32-bit integer: -3");
  EXPECT_EQ(reason_of(R"({"Event":"Platform_Published","Id":4294967296,"Name":"x"})"),
            "Id is not a positive 32-bit integer: 4294967296");
  EXPECT_EQ(reason_of(R"({"Event":"Platform_Published","Id":18446744073709551615,"Name":"x"})"),
            "Id is not a positive 32-bit integer: 18446744073709551615");
  EXPECT_EQ(reason_of(R"({"Event":"Platform_Published","Id":5})"), "missing Name");
  EXPECT_EQ(reason_of(R"({"Event":"Platform_Published","Id":5,"Name":""})"),
            R"(Name is not a non-empty string: "")");
  EXPECT_EQ(reason_of(R"({"Event":"Platform_Published","Id":5,"Name":null})"),
            "Name is not a non-empty string: null");
  EXPECT_EQ(reason_of(R"({"Event":"Platform_Published","Id":5,"id":6,"Name":"x"})"),
            "key Id appears more than once (ignoring case)");
  EXPECT_EQ(reason_of("{\"Event\":\"Platform_Published\",\"Id\":5,\"Name\":\"\xff\xfe\"}"),
            "not JSON");
}

TEST(event_parser, a_body_over_the_size_limit_is_malformed_before_it_is_parsed) {
  auto course = std::string{R"({"Id":5,"Name":"Docker","Event":"Platform_Published"})"};
  event_limits limits;
  limits.max_bytes = course.size();
  EXPECT_TRUE(std::holds_alternative<platform_published>(parse_event(course, limits)))
    << "exactly at the limit";
  limits.max_bytes = course.size() - 1;
  auto e = parse_event(course, limits);
  auto* bad = std::get_if<malformed_event>(&e);
  ASSERT_NE(bad, nullptr);
  EXPECT_EQ(bad->reason, std::string{"larger than "}
                           .append(std::to_string(course.size() - 1))
                           .append(" bytes: ")
                           .append(std::to_string(course.size())));
  // The default is 64 KiB: a valid event with a 70,000-character name is refused.
  auto large = std::string{R"({"Id":5,"Event":"Platform_Published","Name":")"}
                 .append(70'000, 'x')
                 .append(R"("})");
  EXPECT_EQ(reason_of(large), std::string{"larger than 65536 bytes: "}.append(std::to_string(large.size())));
}

TEST(event_parser, nesting_deeper_than_the_limit_is_malformed_without_parsing_it) {
  // `before`, then brackets `depth` deep, then `after`.
  auto nested = [](std::string_view before, std::size_t depth, std::string_view after = "") {
    return std::string{before}.append(depth, '[').append(depth, ']').append(after);
  };
  EXPECT_EQ(reason_of(nested("", 100'000)), "larger than 65536 bytes: 200000")
    << "by default the size limit refuses 100,000 levels first";
  event_limits roomy; // as with RabbitMQMaxEventBytes raised
  roomy.max_bytes = 1 << 20;
  auto reason_in_roomy = [&](std::string_view body) {
    auto e = parse_event(body, roomy);
    auto* bad = std::get_if<malformed_event>(&e);
    return bad ? bad->reason : "<not malformed>";
  };
  EXPECT_EQ(reason_in_roomy(nested("", 100'000)), "nested deeper than 32 levels");
  // Inside a field that is quoted in a reason: never parsed, never printed.
  EXPECT_EQ(reason_in_roomy(nested(R"({"Event":"Platform_Published","Name":"x","Id":)", 100'000, "}")),
            "nested deeper than 32 levels");
  std::string objects;
  for (int i = 0; i < 100'000; ++i)
    objects += R"({"a":)";
  objects.append("1").append(100'000, '}');
  EXPECT_EQ(reason_in_roomy(objects), "nested deeper than 32 levels");
  // Unclosed, as a hostile sender may leave it.
  EXPECT_EQ(reason_in_roomy(std::string(100'000, '[')), "nested deeper than 32 levels");
  EXPECT_EQ(reason_of(nested("", 33)), "nested deeper than 32 levels") << "66 bytes";

  // Up to the limit it is parsed as usual; brackets inside strings do not count.
  auto at_limit = nested(R"({"Event":"Platform_Published","Id":5,"Name":"x","extra":)", 31, "}");
  EXPECT_TRUE(std::holds_alternative<platform_published>(parse_event(at_limit)));
  auto brackets_in_strings = std::string{R"({"Event":"Platform_Published","Id":5,"Name":")"}
                               .append(1000, '[')
                               .append(R"(\"[[[{{{"})");
  auto e = parse_event(brackets_in_strings);
  auto* p = std::get_if<platform_published>(&e);
  ASSERT_NE(p, nullptr) << reason_of(brackets_in_strings);
  EXPECT_EQ(p->p.name, std::string(1000, '[') + "\"[[[{{{");
  event_limits shallow;
  shallow.max_depth = 1;
  auto too_deep = parse_event(R"({"Event":"Platform_Published","Id":5,"Name":"x","extra":[1]})",
                              shallow);
  ASSERT_TRUE(std::holds_alternative<malformed_event>(too_deep));
  EXPECT_EQ(std::get<malformed_event>(too_deep).reason, "nested deeper than 1 levels");
}

TEST(event_parser, a_reason_quotes_at_most_64_ascii_characters_of_a_value) {
  auto reason = reason_of(std::string{R"({"Event":"Platform_Published","Id":")"}
                            .append(1000, '7')
                            .append(R"(","Name":"x"})"));
  EXPECT_EQ(reason, std::string{"Id is not an integer: \""}.append(60, '7').append("..."));
  EXPECT_EQ(reason_of(R"({"Event":"Platform_Published","Id":5,"Name":["Dock\u00e9r"]})"),
            R"(Name is not a non-empty string: ["Dock\u00e9r"])")
    << "non-ASCII is escaped, so a cut never splits a character";
}
