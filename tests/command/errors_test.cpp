// How the Command Service's errors are answered over HTTP (shared::http's one
// mapping, by the kinds the service registers): an unknown platform or command
// is 404 with our text; values the store refuses are 400; a repository that
// failed, is down or did not answer is 503; neither says more than a fixed text.
#include "model.hpp"

#include <actors/errors.hpp>
#include <shared/http/problem.hpp>
#include <shared/sql/refusal.hpp>

#include <gtest/gtest.h>

using namespace command;
using shared::http::problem_of;

TEST(command_errors, unknown_platform_and_command_are_404_and_named) {
  auto platform = problem_of(unknown_platform(7));
  EXPECT_EQ(platform.status, 404);
  EXPECT_EQ(platform.detail, "Platform 7 is unknown.");
  auto command = problem_of(unknown_command(7, 3));
  EXPECT_EQ(command.status, 404);
  EXPECT_EQ(command.detail, "Command 3 of platform 7 is unknown.");
  EXPECT_EQ(actors::describe(unknown_platform(7)), "unknown_platform: Platform 7 is unknown.")
    << "the log names the code";
}

TEST(command_errors, values_the_store_refuses_are_400_without_the_databases_text) {
  auto refused = shared::sql::refuse_nul({"ok", std::string_view{"a\0b", 3}});
  ASSERT_TRUE(refused);
  auto p = problem_of(*refused);
  EXPECT_EQ(p.status, 400);
  EXPECT_EQ(p.detail.find("SQLSTATE"), std::string::npos) << p.detail;
  EXPECT_NE(actors::describe(*refused).find("SQLSTATE 22021"), std::string::npos)
    << "the log has it";
  EXPECT_FALSE(shared::sql::refuse_nul({"ok", "fine"}));
}

TEST(command_errors, a_failed_down_or_slow_repository_is_503) {
  for (auto code : {actors::errc::unhandled_exception, actors::errc::child_unavailable,
                    actors::errc::deadline_exceeded, actors::errc::overloaded,
                    actors::errc::shutting_down}) {
    auto p = problem_of(actors::make_error(code, "command.repository"));
    EXPECT_EQ(p.status, 503) << p.detail;
    EXPECT_EQ(p.title, "Service Unavailable");
    EXPECT_EQ(p.detail, "The service could not complete the request in time; retry later.");
  }
}
