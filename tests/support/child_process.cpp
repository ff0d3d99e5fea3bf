#include "child_process.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

extern char** environ;

namespace support {

namespace {

std::vector<std::string> environment_with(const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string> env;
  for (char** p = environ; *p; ++p) {
    std::string kv = *p;
    if (auto eq = kv.find('='); eq != std::string::npos)
      env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (auto& [k, v] : extra)
    env[k] = v;
  std::vector<std::string> out;
  for (auto& [k, v] : env)
    out.push_back(k + "=" + v);
  return out;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings)
    out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

} // namespace

child_process::child_process(std::vector<std::string> argv,
                             std::map<std::string, std::string> extra_env)
  : name_(argv.at(0).substr(argv.at(0).find_last_of('/') + 1)) {
  // Close-on-exec: a child started from another thread at the same moment
  // must not inherit this pipe, or its reader never sees the end of output.
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0)
    throw std::runtime_error(std::string{"pipe2: "} + std::strerror(errno));
  auto env = environment_with(extra_env);
  auto argp = pointers(argv);
  auto envp = pointers(env);
  pid_ = fork();
  if (pid_ < 0)
    throw std::runtime_error(std::string{"fork: "} + std::strerror(errno));
  if (pid_ == 0) {
    dup2(out[1], STDOUT_FILENO);
    dup2(out[1], STDERR_FILENO);
    close(out[0]);
    close(out[1]);
    // The test may block signals for its own threads; the child starts clean.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execve(argp[0], argp.data(), envp.data());
    std::fprintf(stderr, "exec %s: %s\n", argp[0], std::strerror(errno));
    _exit(127);
  }
  close(out[1]);
  reader_ = std::thread([this, fd = out[0]] { read_output(fd); });
}

child_process::~child_process() {
  if (!exit_code_) {
    ::kill(pid_, SIGKILL);
    wait_exit(std::chrono::seconds{10});
  }
  reader_.join();
}

void child_process::read_output(int fd) {
  std::string pending;
  char buf[4096];
  for (;;) {
    auto n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    pending.append(buf, static_cast<std::size_t>(n));
    std::size_t nl;
    while ((nl = pending.find('\n')) != std::string::npos) {
      auto line = pending.substr(0, nl);
      pending.erase(0, nl + 1);
      std::fprintf(stderr, "[%s] %s\n", name_.c_str(), line.c_str());
      std::lock_guard guard{mutex_};
      lines_.push_back(std::move(line));
      cv_.notify_all();
    }
  }
  close(fd);
  std::lock_guard guard{mutex_};
  if (!pending.empty())
    lines_.push_back(pending);
  output_closed_ = true;
  cv_.notify_all();
}

std::optional<std::string> child_process::wait_for_line(std::string_view needle,
                                                        std::chrono::milliseconds deadline,
                                                        std::size_t from_line) {
  std::unique_lock lock{mutex_};
  std::optional<std::string> found;
  cv_.wait_for(lock, deadline, [&] {
    for (auto i = from_line; i < lines_.size(); ++i)
      if (lines_[i].find(needle) != std::string::npos) {
        found = lines_[i];
        return true;
      }
    return output_closed_;
  });
  return found;
}

void child_process::signal(int sig) {
  if (!exit_code_)
    ::kill(pid_, sig);
}

std::optional<int> child_process::wait_exit(std::chrono::milliseconds deadline) {
  if (exit_code_)
    return exit_code_;
  auto until = std::chrono::steady_clock::now() + deadline;
  do {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return exit_code_;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  } while (std::chrono::steady_clock::now() < until);
  return std::nullopt;
}

std::vector<std::string> child_process::lines() const {
  std::lock_guard guard{mutex_};
  return lines_;
}

namespace {

std::ifstream proc_file(pid_t pid, const char* name) {
  auto path = std::string{"/proc/"}.append(std::to_string(pid)).append("/").append(name);
  std::ifstream in{path};
  if (!in)
    throw std::runtime_error("cannot read " + path);
  return in;
}

} // namespace

std::size_t child_process::resident_bytes() const {
  auto in = proc_file(pid_, "status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0)
      return std::stoull(line.substr(6)) * 1024; // "VmRSS:   123456 kB"
  throw std::runtime_error("no VmRSS for pid " + std::to_string(pid_));
}

std::chrono::milliseconds child_process::cpu_time() const {
  auto in = proc_file(pid_, "stat");
  std::string stat{std::istreambuf_iterator<char>(in), {}};
  // Fields after the command name (which may hold spaces): state is field 3,
  // utime and stime are fields 14 and 15.
  std::istringstream fields{stat.substr(stat.rfind(')') + 2)};
  std::string field;
  for (int i = 3; i < 14; ++i)
    fields >> field;
  unsigned long long user = 0, system = 0;
  fields >> user >> system;
  auto ticks = static_cast<long long>(user + system);
  return std::chrono::milliseconds{ticks * 1000 / sysconf(_SC_CLK_TCK)};
}

} // namespace support
