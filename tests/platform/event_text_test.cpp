// The event body split around its id (what the create statement fills in) is
// the body published_event writes, whatever the name holds.
#include <platform.hpp>

#include <gtest/gtest.h>

using namespace platform;

TEST(published_event_around_id, puts_together_the_body_published_event_writes) {
  for (const std::string name : {"Docker", R"(a "Id":0 b)", R"(\"Id\":0)", "€ ünïcode", "0"}) {
    for (std::int32_t id : {1, 4, 157'600, 2'147'483'647}) {
      auto text = published_event_around_id(name);
      EXPECT_EQ(text.head + std::to_string(id) + text.tail,
                published_event({id, name, "publisher", "cost"}))
        << "name " << name << ", id " << id;
    }
  }
}

TEST(published_event_around_id, keeps_the_course_body) {
  auto text = published_event_around_id("Docker");
  EXPECT_EQ(text.head, R"({"Event":"Platform_Published","Id":)");
  EXPECT_EQ(text.tail, R"(,"Name":"Docker"})");
}
