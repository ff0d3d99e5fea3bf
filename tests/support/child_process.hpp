#pragma once
// Runs a program under test (a service binary) as a child process, captures
// its output line by line and lets a test wait for a line, signal it and
// collect its exit code, all with deadlines. Output is mirrored to stderr with
// the program's name so that a failing test shows the service's log.
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <thread>
#include <vector>

namespace support {

class child_process {
public:
  explicit child_process(std::vector<std::string> argv,
                         std::map<std::string, std::string> extra_env = {});
  ~child_process(); // kills the child if it still runs

  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  pid_t pid() const { return pid_; }

  // Resident memory (VmRSS) and CPU time used so far (user + system), from
  // /proc; throws when the process is gone.
  std::size_t resident_bytes() const;
  std::chrono::milliseconds cpu_time() const;

  // The first line, from `from_line` on, containing `needle`; nullopt if the
  // deadline passes or the output ends first.
  std::optional<std::string> wait_for_line(std::string_view needle,
                                           std::chrono::milliseconds deadline,
                                           std::size_t from_line = 0);

  void signal(int sig);

  // The exit code (128 + signal if killed by one); nullopt if still running.
  std::optional<int> wait_exit(std::chrono::milliseconds deadline);

  std::vector<std::string> lines() const;

private:
  void read_output(int fd);

  pid_t pid_ = -1;
  std::string name_;
  std::optional<int> exit_code_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;
  bool output_closed_ = false;
  std::thread reader_;
};

} // namespace support
