// How the Command Service's errors are answered over HTTP (shared::http's one
// mapping, by the kinds the service registers): an unknown platform or command
// is 404; a repository that failed, is down or did not answer is 503.
#include "model.hpp"

#include <actors/errors.hpp>
#include <shared/http/problem.hpp>

#include <gtest/gtest.h>

using namespace command;
using shared::http::problem_of;

TEST(command_errors, unknown_platform_and_command_are_404_and_named) {
  auto platform = problem_of(make_error(errc::unknown_platform, "platform 7 is unknown"));
  EXPECT_EQ(platform.status, 404);
  EXPECT_EQ(platform.detail, "unknown_platform: platform 7 is unknown");
  auto command = problem_of(
    make_error(errc::unknown_command, "command 3 of platform 7 is unknown"));
  EXPECT_EQ(command.status, 404);
  EXPECT_EQ(command.detail, "unknown_command: command 3 of platform 7 is unknown");
}

TEST(command_errors, a_failed_down_or_slow_repository_is_503) {
  for (auto code : {actors::errc::unhandled_exception, actors::errc::child_unavailable,
                    actors::errc::deadline_exceeded, actors::errc::overloaded,
                    actors::errc::shutting_down}) {
    auto p = problem_of(actors::make_error(code, "command.repository"));
    EXPECT_EQ(p.status, 503) << p.detail;
    EXPECT_EQ(p.title, "Service Unavailable");
  }
}
