// The service lifecycle as a process: restarts told in the log, the root's
// escalation ending the process non-zero, and SIGTERM finishing in-flight
// work before exit 0.
#include "child_process.hpp"

#include <gtest/gtest.h>

#include <csignal>

using namespace std::chrono_literals;
using support::child_process;

namespace {

const std::string demo = DEMO_SERVICE_PATH;

std::size_t index_of_line(const std::vector<std::string>& lines, std::string_view needle) {
  for (std::size_t i = 0; i < lines.size(); ++i)
    if (lines[i].find(needle) != std::string::npos)
      return i;
  return lines.size();
}

} // namespace

TEST(service, a_child_crashing_three_times_recovers_with_growing_backoff) {
  child_process p{{demo, "--Failures=3"}};
  ASSERT_TRUE(p.wait_for_line("event=child_restarted child=demo.worker instance=4", 10s));
  auto lines = p.lines();
  for (auto attempt : {"attempt=1 backoff_ms=", "attempt=2 backoff_ms=", "attempt=3 backoff_ms="})
    EXPECT_LT(index_of_line(lines, attempt), lines.size()) << attempt;
  EXPECT_LT(index_of_line(lines, "reason=\"unhandled_exception: simulated failure 3\""), lines.size());
  p.signal(SIGTERM);
  EXPECT_EQ(p.wait_exit(10s), 0);
}

TEST(service, the_root_giving_up_ends_the_process_with_a_non_zero_exit) {
  child_process p{{demo, "--Failures=1000", "--MaxRestarts=2"}};
  EXPECT_EQ(p.wait_exit(20s), 1);
  auto lines = p.lines();
  EXPECT_LT(index_of_line(lines, "event=gave_up child=demo.worker restarts=2"), lines.size());
  EXPECT_LT(index_of_line(lines, "event=root_gave_up"), lines.size());
}

TEST(service, sigterm_lets_work_in_flight_finish_then_exits_zero) {
  child_process p{{demo, "--WorkMs=500"}};
  ASSERT_TRUE(p.wait_for_line("event=work_started", 10s));
  p.signal(SIGTERM);
  EXPECT_EQ(p.wait_exit(10s), 0);
  auto lines = p.lines();
  auto done = index_of_line(lines, "event=work_done");
  auto stopped = index_of_line(lines, "event=child_stopped child=demo.worker");
  ASSERT_LT(done, lines.size());
  EXPECT_LT(done, stopped) << "the child stops only after its work is done";
  EXPECT_LT(index_of_line(lines, "event=service_stopped exit_code=0"), lines.size());
}

TEST(service, work_beyond_the_shutdown_deadline_ends_the_process_non_zero) {
  child_process p{{demo, "--WorkMs=10000", "--ShutdownTimeout=300ms"}};
  ASSERT_TRUE(p.wait_for_line("event=work_started", 10s));
  p.signal(SIGINT);
  EXPECT_EQ(p.wait_exit(5s), 1);
  EXPECT_TRUE(p.wait_for_line("event=shutdown_deadline_exceeded", 1s));
}

TEST(service, invalid_settings_stop_start_up_naming_the_setting) {
  child_process p{{demo, "--Failures=many", "--LogLevel=loud"}};
  EXPECT_EQ(p.wait_exit(5s), 2);
  EXPECT_TRUE(p.wait_for_line("Failures='many': not an integer", 1s));
  EXPECT_TRUE(p.wait_for_line("LogLevel='loud': expected one of debug, info, warn, error", 1s));
}

TEST(service, version_names_the_project_version_and_commit_and_exits_zero) {
  child_process p{{demo, "--version", "--Failures=many"}};
  EXPECT_EQ(p.wait_exit(5s), 0);
  auto line = p.wait_for_line("demo-service " PROJECT_VERSION " (commit ", 1s);
  ASSERT_TRUE(line);
  EXPECT_TRUE(line->ends_with(")")) << *line;
  EXPECT_EQ(line->find("(commit )"), std::string::npos) << "a commit is named: " << *line;
}

TEST(service, help_lists_each_setting_with_type_default_and_environment_name) {
  child_process p{{demo, "--help"}};
  EXPECT_EQ(p.wait_exit(5s), 0);
  auto failures = p.wait_for_line("  --Failures <integer 0..1000000>", 1s);
  ASSERT_TRUE(failures);
  auto shutdown = p.wait_for_line("  --ShutdownTimeout <duration>", 1s);
  ASSERT_TRUE(shutdown);
  auto help_at = [](const std::string& line) { return line.find_first_not_of(' ', line.find('>') + 1); };
  EXPECT_EQ(help_at(*failures), help_at(*shutdown)) << "aligned:\n" << *failures << "\n" << *shutdown;
  EXPECT_TRUE(p.wait_for_line("default: 10s, env: ShutdownTimeout", 1s));
  EXPECT_TRUE(p.wait_for_line("default: 0, env: Failures", 1s));
}
