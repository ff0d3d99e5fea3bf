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
