#include <actors/log.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>

using namespace std::chrono_literals;
namespace log = actors::log;

TEST(log, one_line_with_time_level_service_actor_event_and_fields) {
  log::set_service("platform-service");
  log::field fields[] = {{"child", "platform.repository"}, {"attempt", 3}, {"backoff", 400ms}};
  auto line = log::format(log::level::warn, "platform.supervisor", "restart_scheduled", fields);
  EXPECT_EQ(line.substr(0, 3), "ts=");
  auto rest = line.substr(line.find(" level="));
  EXPECT_EQ(rest, " level=warn service=platform-service actor=platform.supervisor"
                  " event=restart_scheduled child=platform.repository attempt=3"
                  " backoff_ms=400\n");
}

TEST(log, values_that_would_break_the_line_are_quoted_and_escaped) {
  log::field fields[] = {{"reason", "boom: \"bad\"\nnext=1"}, {"empty", ""}};
  auto line = log::format(log::level::error, "a", "e", fields);
  EXPECT_NE(line.find(R"(reason="boom: \"bad\"\nnext=1")"), std::string::npos) << line;
  EXPECT_NE(line.find(R"(empty="")"), std::string::npos) << line;
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "exactly one line";
}

TEST(log, levels_parse_and_filter) {
  log::level lvl;
  EXPECT_TRUE(log::parse_level("warn", lvl));
  EXPECT_EQ(lvl, log::level::warn);
  EXPECT_FALSE(log::parse_level("loud", lvl));
  log::set_level(log::level::warn);
  EXPECT_FALSE(log::enabled(log::level::info));
  EXPECT_TRUE(log::enabled(log::level::error));
  log::set_level(log::level::info);
}

TEST(log, a_batch_writes_its_lines_together_when_flushed_and_skips_disabled_levels) {
  log::field tag[] = {{"delivery_tag", 1}};
  log::field next[] = {{"delivery_tag", 2}};
  testing::internal::CaptureStdout();
  {
    log::batch lines;
    lines.add(log::level::info, "command.subscriber", "event_applied", tag);
    lines.add(log::level::debug, "command.subscriber", "event_duplicate", next);
    lines.add(log::level::info, "command.subscriber", "event_applied", next);
    std::fflush(stdout);
    EXPECT_EQ(testing::internal::GetCapturedStdout(), "") << "nothing before the flush";
    testing::internal::CaptureStdout();
  } // flushed by the destructor
  auto out = testing::internal::GetCapturedStdout();
  auto first = out.find("event=event_applied delivery_tag=1\n");
  auto second = out.find("event=event_applied delivery_tag=2\n");
  EXPECT_NE(first, std::string::npos) << out;
  EXPECT_NE(second, std::string::npos) << out;
  EXPECT_LT(first, second) << out;
  EXPECT_EQ(out.find("event_duplicate"), std::string::npos) << "debug is below info: " << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2) << out;
}
