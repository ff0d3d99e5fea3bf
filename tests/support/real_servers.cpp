#include "real_servers.hpp"

#include "amqp_options.hpp"

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>

namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace support {

namespace detail {

struct account {
  uid_t uid;
  gid_t gid;
};

struct launch_spec {
  std::vector<std::string> argv; // argv[0] is an absolute path
  std::vector<std::string> env;  // the complete environment
  std::optional<account> user;   // run as this account
  fs::path cwd = "/";
  fs::path output; // stdout and stderr are appended here; empty: /dev/null
  int input = -1;  // stdin; -1: /dev/null
};

} // namespace detail

namespace {

using detail::account;
using detail::launch_spec;

constexpr const char* loopback = "127.0.0.1";
constexpr int start_timeout_ms = 60'000;
constexpr auto poll_interval = 20ms;
constexpr const char* system_path = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
constexpr const char* rabbitmq_script = "/usr/lib/rabbitmq/bin/rabbitmq-server";
constexpr const char* rabbitmqctl_script = "/usr/lib/rabbitmq/bin/rabbitmqctl";

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

std::string describe_status(int status) {
  if (WIFEXITED(status))
    return "exit code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return "killed by signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

std::string tail_of(const fs::path& file, std::size_t max_lines = 40) {
  std::ifstream in(file);
  if (!in)
    return "(no " + file.string() + ")";
  std::deque<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    lines.push_back(std::move(line));
    if (lines.size() > max_lines)
      lines.pop_front();
  }
  std::string text = "--- tail of " + file.string() + " ---\n";
  for (const auto& line : lines)
    text += line + '\n';
  return text;
}

void write_file(const fs::path& file, const std::string& content,
                std::ios::openmode mode = std::ios::trunc) {
  std::ofstream out(file, std::ios::out | mode);
  out << content;
  if (!out.flush())
    throw std::runtime_error("cannot write " + file.string());
}

// Servers refuse to run as root (PostgreSQL) or expect their packaged user
// (RabbitMQ): as root, run them as that account; otherwise as ourselves.
std::optional<account> service_account(const char* name) {
  if (geteuid() != 0)
    return std::nullopt;
  passwd entry{};
  passwd* found = nullptr;
  std::vector<char> buffer(16384);
  if (getpwnam_r(name, &entry, buffer.data(), buffer.size(), &found) != 0 || !found) {
    throw std::runtime_error(std::string("no user account '") + name + "'");
  }
  return account{entry.pw_uid, entry.pw_gid};
}

void give_to(const fs::path& path, const std::optional<account>& owner) {
  if (!owner)
    return;
  if (lchown(path.c_str(), owner->uid, owner->gid) != 0)
    throw_errno("chown " + path.string());
}

void give_tree_to(const fs::path& root, const std::optional<account>& owner) {
  give_to(root, owner);
  for (const auto& entry : fs::recursive_directory_iterator(root))
    give_to(entry.path(), owner);
}

// The dir is chmod-ed and given away below: never do that to an existing one.
void create_fresh_directory(const fs::path& dir) {
  if (!fs::create_directory(dir))
    throw std::runtime_error(dir.string() + " already exists");
}

fs::path find_program(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(std::string(path ? path : "") + ":/usr/sbin:/usr/bin:/sbin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    fs::path candidate = fs::path(dir) / name;
    if (!dir.empty() && access(candidate.c_str(), X_OK) == 0)
      return candidate;
  }
  throw std::runtime_error("program not found: " + name);
}

// Debian installs PostgreSQL majors side by side and off PATH: take the newest.
fs::path postgres_bin_dir() {
  fs::path best;
  int best_version = -1;
  std::error_code ignored;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ignored)) {
    int version = std::atoi(entry.path().filename().c_str());
    if (version > best_version && fs::exists(entry.path() / "bin" / "initdb")) {
      best = entry.path() / "bin";
      best_version = version;
    }
  }
  return best.empty() ? find_program("initdb").parent_path() : best;
}

// ---- ports -----------------------------------------------------------------

std::pair<int, int> ephemeral_port_range() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 32768, high = 60999;
  in >> low >> high;
  return {low, high};
}

bool port_is_free(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    throw_errno("socket");
  int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on); // as the servers do
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool free = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  close(fd);
  return free;
}

// Ports come from just below the kernel's ephemeral range: while a server is
// down, a client polling its port could otherwise be given that very number as
// its own source port and connect to itself, and the server could not bind.
int free_port() {
  static std::mutex mutex;
  static std::set<int> handed_out; // picked but maybe not bound yet
  static std::mt19937 random{std::random_device{}()};
  std::lock_guard lock(mutex);
  auto [low, high] = ephemeral_port_range();
  std::uniform_int_distribution<int> pick(std::max(1024, low / 2), std::max(1025, low - 1));
  for (int attempt = 0; attempt < 1000; ++attempt) {
    int port = pick(random);
    if (!handed_out.count(port) && port_is_free(port)) {
      handed_out.insert(port);
      return port;
    }
  }
  throw std::runtime_error("no free port below the ephemeral range");
}

bool port_accepts(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    throw_errno("socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool open = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  close(fd);
  return open;
}

// ---- processes ---------------------------------------------------------------

// Should the test process run with stdio closed, a new fd could be 0, 1 or 2
// and be clobbered by the child's own dup2() onto its stdio.
int above_stdio(int fd) {
  if (fd < 0 || fd > 2)
    return fd;
  int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  close(fd);
  return moved;
}

int open_or_throw(const fs::path& file, int flags) {
  int fd = above_stdio(open(file.c_str(), flags | O_CLOEXEC, 0644));
  if (fd < 0)
    throw_errno("open " + file.string());
  return fd;
}

// Everything a child needs, prepared before forking: after forking a
// multi-threaded process only async-signal-safe calls are allowed. Children
// come from _Fork(), which also skips the pthread_atfork handlers that
// libraries in the test process (gRPC, ...) may have installed.
class exec_image {
public:
  explicit exec_image(const launch_spec& spec)
      : spec_(spec), output_(open_or_throw(spec.output.empty() ? "/dev/null" : spec.output,
                                           O_WRONLY | O_CREAT | O_APPEND)),
        input_(spec.input >= 0 ? -1 : open_or_throw("/dev/null", O_RDONLY)) {
    for (const auto& arg : spec.argv)
      argv_.push_back(const_cast<char*>(arg.c_str()));
    for (const auto& var : spec.env)
      env_.push_back(const_cast<char*>(var.c_str()));
    argv_.push_back(nullptr);
    env_.push_back(nullptr);
  }
  ~exec_image() {
    close(output_);
    if (input_ >= 0)
      close(input_);
  }
  exec_image(const exec_image&) = delete;
  exec_image& operator=(const exec_image&) = delete;

  // In the child: clean signal state, stdio, fds and identity, then exec.
  [[noreturn]] void exec() const noexcept {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    struct sigaction default_action {};
    default_action.sa_handler = SIG_DFL;
    for (int signal_number = 1; signal_number < NSIG; ++signal_number) {
      sigaction(signal_number, &default_action, nullptr);
    }
    int input = spec_.input >= 0 ? spec_.input : input_;
    if (dup2(input, 0) < 0 || dup2(output_, 1) < 0 || dup2(output_, 2) < 0)
      fail("dup2");
    close_range(3, ~0U, 0);
    // Raw system calls, not glibc's setgroups/setgid/setuid: those change the
    // identity of every thread, and after _Fork() the child still has the
    // parent's thread list; one caught in pthread_create at the fork makes
    // them wait forever (seen: initdb and epmd hanging while gRPC threads ran).
    if (spec_.user) {
      gid_t groups[] = {spec_.user->gid};
      if (syscall(SYS_setgroups, 1, groups) != 0 || syscall(SYS_setgid, spec_.user->gid) != 0 ||
          syscall(SYS_setuid, spec_.user->uid) != 0) {
        fail("dropping privileges");
      }
    }
    if (chdir(spec_.cwd.c_str()) != 0)
      fail("chdir");
    execve(argv_[0], argv_.data(), env_.data());
    fail("execve");
  }

private:
  [[noreturn]] void fail(const char* step) const noexcept {
    const char* prefix = "real_servers: cannot start ";
    (void)!write(2, prefix, std::strlen(prefix));
    (void)!write(2, argv_[0], std::strlen(argv_[0]));
    (void)!write(2, ": ", 2);
    (void)!write(2, step, std::strlen(step));
    (void)!write(2, "\n", 1);
    _exit(127);
  }

  const launch_spec& spec_;
  int output_;
  int input_;
  std::vector<char*> argv_;
  std::vector<char*> env_;
};

std::string command_line(const launch_spec& spec) {
  std::string text;
  for (const auto& arg : spec.argv)
    text += (text.empty() ? "" : " ") + arg;
  return text;
}

pid_t fork_or_throw() {
  pid_t pid = _Fork();
  if (pid < 0)
    throw_errno("fork");
  return pid;
}

int wait_blocking(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR)
      throw_errno("waitpid");
  }
  return status;
}

// Runs a short command to completion, supervised so that the reaper can kill
// it too; throws with its output on failure.
void run_checked(const launch_spec& spec, const fs::path& pgid_file) {
  detail::supervised_process process;
  process.launch(spec, pgid_file);
  bool finished = process.wait(start_timeout_ms);
  if (finished && process.succeeded())
    return;
  throw std::runtime_error("`" + command_line(spec) + "` " +
                           (finished ? "failed with " + process.exit_description()
                                     : std::string("did not finish in time")) +
                           "\n" + tail_of(spec.output));
}

// A child in its own session, so terminal signals aimed at the tests miss it.
pid_t spawn_detached(const launch_spec& spec) {
  exec_image image(spec);
  pid_t pid = fork_or_throw();
  if (pid == 0) {
    setsid();
    image.exec();
  }
  return pid;
}

void write_decimal(int fd, long value) noexcept {
  char digits[24];
  char* end = digits + sizeof digits;
  char* begin = end;
  *--begin = '\n';
  do {
    *--begin = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value > 0);
  (void)!write(fd, begin, static_cast<size_t>(end - begin));
}

// The supervisor (post-fork child, async-signal-safe only): starts the server
// as leader of its own process group, records its pid in the pgid file while
// it lives, then reaps it and, being a child subreaper, everything it leaves
// behind. It exits once all of it is gone, with the server's fate as status.
[[noreturn]] void supervise(const exec_image& image, const char* pgid_file, int pgid_fd,
                            int report_fd) noexcept {
  setsid();
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  sigaction(SIGCHLD, &default_action, nullptr); // SIG_IGN would defeat waitpid
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  pid_t leader = _Fork();
  if (leader < 0)
    _exit(126);
  if (leader == 0) {
    setpgid(0, 0);
    image.exec();
  }
  setpgid(leader, leader); // also here: the group must exist before we report it
  write_decimal(pgid_fd, leader);
  (void)!write(report_fd, &leader, sizeof leader);
  close_range(0, ~0U, 0);
  int leader_status = 0;
  for (;;) {
    int status = 0;
    pid_t pid = waitpid(-1, &status, 0);
    if (pid == leader) {
      leader_status = status;
      unlink(pgid_file); // before its pid can be reused
    }
    if (pid < 0 && errno != EINTR)
      break; // ECHILD: nothing left
  }
  if (WIFSIGNALED(leader_status))
    _exit(128 + WTERMSIG(leader_status));
  _exit(WEXITSTATUS(leader_status));
}

// ---- AMQP ----------------------------------------------------------------------

// Ready means a client gets in: logged in, with its channel open.
bool amqp_login_works(const rabbitmq_server& broker) {
  auto options = amqp_options(broker, "real_servers readiness probe");
  options.heartbeat = 0s; // it lives for one login
  options.timeout = 2s;
  try {
    shared::amqp::connection probe{std::move(options)};
    return true;
  } catch (const shared::amqp::error&) {
    return false;
  }
}

// ---- PostgreSQL helpers -----------------------------------------------------------

std::string quote_identifier(const std::string& name) {
  std::string quoted = "\"";
  for (char c : name)
    quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

// libpq keyword values need quoting only when empty or holding blanks/quotes.
std::string libpq_value(const std::string& value) {
  if (!value.empty() && value.find_first_of(" \t\n'\\") == std::string::npos)
    return value;
  std::string quoted = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\')
      quoted += '\\';
    quoted += c;
  }
  return quoted + "'";
}

std::vector<std::string> postgres_environment(const fs::path& dir) {
  return {system_path, "HOME=" + dir.string(), "LC_ALL=C"};
}

std::string postgres_settings(int port, const fs::path& socket_dir) {
  std::ostringstream settings;
  settings << "\n# real_servers: loopback only, private socket dir, no durability"
              " beyond process crashes\n"
           << "listen_addresses = '127.0.0.1'\n"
           << "port = " << port << "\n"
           << "unix_socket_directories = '" << socket_dir.string() << "'\n"
           << "fsync = off\n"
           << "full_page_writes = off\n"
           // In the data dir rather than /dev/shm, so a SIGKILL leaks nothing.
           << "dynamic_shared_memory_type = mmap\n";
  return settings.str();
}

void try_query(const std::string& connection_string) {
  soci::session sql(soci::postgresql, connection_string);
  int one = 0;
  sql << "select 1", soci::into(one);
}

} // namespace

// ---- supervised_process ------------------------------------------------------------

namespace detail {

void supervised_process::launch(const launch_spec& spec, const fs::path& pgid_file) {
  if (!wait(0)) // reaps a previous run that ended on its own
    throw std::logic_error("already running: " + command_line(spec));
  exec_image image(spec);
  int pgid_fd = open_or_throw(pgid_file, O_WRONLY | O_CREAT | O_TRUNC);
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0)
    throw_errno("pipe2");
  pid_t supervisor = _Fork();
  if (supervisor == 0)
    supervise(image, pgid_file.c_str(), pgid_fd, report[1]);
  int fork_errno = errno;
  close(pgid_fd);
  close(report[1]);
  pid_t leader = -1;
  ssize_t got = -1;
  do {
    got = read(report[0], &leader, sizeof leader);
  } while (got < 0 && errno == EINTR);
  close(report[0]);
  if (supervisor < 0)
    throw std::system_error(fork_errno, std::generic_category(), "fork");
  if (got != static_cast<ssize_t>(sizeof leader)) {
    throw std::runtime_error("supervisor for `" + command_line(spec) + "` failed with " +
                             describe_status(wait_blocking(supervisor)));
  }
  supervisor_ = supervisor;
  leader_ = leader;
  status_ = 0;
}

void supervised_process::signal(int signal_number) const {
  if (running())
    ::kill(leader_, signal_number);
}

void supervised_process::kill_group() const {
  if (running())
    ::kill(-leader_, SIGKILL);
}

bool supervised_process::wait(int timeout_ms) {
  auto deadline = clock_type::now() + std::chrono::milliseconds(timeout_ms);
  while (supervisor_ > 0) {
    int status = 0;
    pid_t pid = waitpid(supervisor_, &status, WNOHANG);
    if (pid == supervisor_ || (pid < 0 && errno == ECHILD)) { // ECHILD: reaped elsewhere
      reaped(status);
    } else if (clock_type::now() >= deadline) {
      return false;
    } else {
      std::this_thread::sleep_for(10ms);
    }
  }
  return true;
}

bool supervised_process::running() const {
  if (supervisor_ <= 0)
    return false;
  siginfo_t info{};
  // WNOWAIT: only peek, wait() reaps.
  return waitid(P_PID, static_cast<id_t>(supervisor_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid == 0;
}

bool supervised_process::succeeded() const {
  return WIFEXITED(status_) && WEXITSTATUS(status_) == 0;
}

std::string supervised_process::exit_description() const { return describe_status(status_); }

void supervised_process::reaped(int status) {
  status_ = status;
  supervisor_ = -1;
  leader_ = -1;
}

supervised_process::~supervised_process() {
  kill_group();
  wait(10'000);
}

} // namespace detail

// ---- postgres_server -------------------------------------------------------------

postgres_server::postgres_server(fs::path dir) : dir_(std::move(dir)), port_(free_port()) {
  init_data_dir();
  start();
}

postgres_server::~postgres_server() {
  try {
    stop();
  } catch (const std::exception& error) {
    std::cerr << "real_servers: " << error.what() << '\n';
  }
  remove_crash_leftovers();
}

std::string postgres_server::host() const { return loopback; }

int postgres_server::port() const { return port_; }

std::string postgres_server::connection_string(const std::string& dbname) const {
  return "host=" + host() + " port=" + std::to_string(port_) + " dbname=" + libpq_value(dbname) +
         " user=postgres connect_timeout=3";
}

void postgres_server::create_database(const std::string& name) {
  soci::session sql(soci::postgresql, connection_string());
  sql << "set client_min_messages = warning"; // no "does not exist, skipping" notice
  sql << "drop database if exists " + quote_identifier(name) + " with (force)";
  sql << "create database " + quote_identifier(name);
}

void postgres_server::start() {
  if (running())
    return;
  auto started = clock_type::now();
  launch_spec spec{{(postgres_bin_dir() / "postgres").string(), "-D", data_dir().string()},
                   postgres_environment(dir_),
                   service_account("postgres"),
                   dir_,
                   log_file()};
  process_.launch(spec, dir_ / "server.pgid");
  wait_until_ready();
  std::cerr << "real_servers: postgres on " << host() << ':' << port_ << " ready in "
            << seconds_since(started) << " s\n";
}

void postgres_server::stop() {
  if (!running())
    return;
  process_.signal(SIGINT); // "fast" shutdown: roll back sessions, checkpoint, exit
  if (process_.wait(start_timeout_ms))
    return;
  kill();
  throw std::runtime_error(describe_failure("postgres did not shut down; killed it"));
}

void postgres_server::kill() {
  if (!running())
    return;
  process_.kill_group(); // the postmaster: its children have their own sessions
  process_.wait(start_timeout_ms);
  remove_crash_leftovers();
}

bool postgres_server::running() const { return process_.running(); }

fs::path postgres_server::data_dir() const { return dir_ / "data"; }

fs::path postgres_server::log_file() const { return dir_ / "postgres.log"; }

void postgres_server::init_data_dir() {
  auto owner = service_account("postgres");
  create_fresh_directory(dir_);
  fs::permissions(dir_, fs::perms::owner_all);
  give_to(dir_, owner);
  auto bin = postgres_bin_dir();
  run_checked({{(bin / "initdb").string(), "-D", data_dir().string(), "-U", "postgres", "-A",
                "trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"},
               postgres_environment(dir_),
               owner,
               dir_,
               dir_ / "initdb.log"},
              dir_ / "initdb.pgid");
  write_file(data_dir() / "postgresql.conf", postgres_settings(port_, dir_), std::ios::app);
}

void postgres_server::wait_until_ready() {
  auto deadline = clock_type::now() + std::chrono::milliseconds(start_timeout_ms);
  std::string last_error;
  while (clock_type::now() < deadline) {
    if (!running()) {
      process_.wait(start_timeout_ms);
      throw std::runtime_error(describe_failure("postgres exited during start-up (" +
                                                process_.exit_description() + ")"));
    }
    try {
      try_query(connection_string());
      return;
    } catch (const std::exception& error) {
      last_error = error.what();
    }
    std::this_thread::sleep_for(poll_interval);
  }
  kill();
  throw std::runtime_error(
      describe_failure("postgres did not accept queries in time (" + last_error + "); killed it"));
}

// After a SIGKILL the postmaster leaves its lock file and a small SysV shared
// memory segment (key and id on line 7 of the lock file) behind.
void postgres_server::remove_crash_leftovers() {
  fs::path lock_file = data_dir() / "postmaster.pid";
  std::ifstream in(lock_file);
  std::string line;
  for (int number = 1; number <= 7 && std::getline(in, line); ++number) {
    key_t key = 0;
    int id = -1;
    shmid_ds segment{};
    // The key check keeps a reused id of someone else's segment safe.
    if (number == 7 && std::istringstream(line) >> key >> id &&
        shmctl(id, IPC_STAT, &segment) == 0 && segment.shm_perm.__key == key)
      shmctl(id, IPC_RMID, nullptr);
  }
  std::error_code ignored;
  fs::remove(lock_file, ignored);
}

std::string postgres_server::describe_failure(const std::string& what) const {
  return what + " [" + dir_.string() + "]\n" + tail_of(log_file());
}

// ---- rabbitmq_server ---------------------------------------------------------------

rabbitmq_server::rabbitmq_server(fs::path dir, rabbitmq_node_options options)
    : dir_(std::move(dir)), options_(std::move(options)), port_(free_port()),
      dist_port_(free_port()), epmd_port_(options_.epmd_port ? options_.epmd_port : free_port()) {
  create_fresh_directory(dir_);
  for (const char* sub : {"home", "mnesia", "log"})
    fs::create_directory(dir_ / sub);
  write_config();
  write_cookie();
  give_tree_to(dir_, service_account("rabbitmq"));
  if (!options_.epmd_port)
    start_epmd();
  start();
}

rabbitmq_server::~rabbitmq_server() {
  try {
    stop();
  } catch (const std::exception& error) {
    std::cerr << "real_servers: " << error.what() << '\n';
  }
}

std::string rabbitmq_server::host() const { return loopback; }

int rabbitmq_server::port() const { return port_; }

std::string rabbitmq_server::user() const { return "guest"; }

std::string rabbitmq_server::password() const { return "guest"; }

void rabbitmq_server::start() {
  if (running())
    return;
  auto started = clock_type::now();
  // The Debian script, not the /usr/sbin wrapper: that one su's to rabbitmq
  // with a shell command line and sends output to /var/log/rabbitmq.
  launch_spec spec{
      {rabbitmq_script}, environment(), service_account("rabbitmq"), dir_, dir_ / "server.log"};
  process_.launch(spec, dir_ / "server.pgid");
  wait_until_ready();
  std::cerr << "real_servers: rabbitmq on " << host() << ':' << port_ << " ready in "
            << seconds_since(started) << " s\n";
}

void rabbitmq_server::stop() {
  if (!running())
    return;
  // The script forwards SIGTERM to the VM, which shuts the broker down cleanly.
  process_.signal(SIGTERM);
  if (process_.wait(start_timeout_ms))
    return;
  kill();
  throw std::runtime_error(describe_failure("rabbitmq did not shut down; killed it"));
}

void rabbitmq_server::kill() {
  if (!running())
    return;
  try {
    sync_definitions();
  } catch (const std::exception& error) { // a broker that does not answer is killed all the same
    std::cerr << "real_servers: rabbitmq definitions not synced before the kill: " << error.what()
              << '\n';
  }
  process_.kill_group();
  process_.wait(start_timeout_ms);
}

void rabbitmq_server::restart() {
  stop();
  start();
}

bool rabbitmq_server::running() const { return process_.running(); }

std::string rabbitmq_server::ctl(const std::vector<std::string>& args) const {
  // The script, not the /usr/sbin wrapper: that one su's to rabbitmq, which
  // resets HOME, and the Erlang cookie is in ours.
  launch_spec spec{{rabbitmqctl_script, "-n", node_name()},
                   environment(),
                   service_account("rabbitmq"),
                   dir_,
                   dir_ / "rabbitmqctl.log"};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  std::error_code ignored;
  fs::remove(spec.output, ignored); // run_checked appends: keep this run's output only
  run_checked(spec, dir_ / "rabbitmqctl.pgid");
  std::ifstream in(spec.output);
  return {std::istreambuf_iterator<char>(in), {}};
}

void rabbitmq_server::sync_definitions() const { ctl({"eval", "mnesia:sync_log()."}); }

fs::path rabbitmq_server::log_file() const { return dir_ / "log" / (node_name() + ".log"); }

std::string rabbitmq_server::node_name() const {
  if (!options_.node_name.empty())
    return options_.node_name;
  return "realsrv" + std::to_string(getpid()) + "@localhost";
}

std::vector<std::string> rabbitmq_server::environment() const {
  auto in_dir = [this](const char* name) { return (dir_ / name).string(); };
  return {
      system_path,
      "HOME=" + in_dir("home"), // the Erlang cookie is created here
      "LC_ALL=C.UTF-8",
      // Our own epmd: the default one on 4369 would outlive us, daemonized.
      "ERL_EPMD_PORT=" + std::to_string(epmd_port_),
      "ERL_EPMD_ADDRESS=127.0.0.1",
      "RABBITMQ_NODENAME=" + node_name(),
      "RABBITMQ_NODE_IP_ADDRESS=127.0.0.1",
      "RABBITMQ_NODE_PORT=" + std::to_string(port_),
      "RABBITMQ_DIST_PORT=" + std::to_string(dist_port_),
      "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=-kernel inet_dist_use_interface {127,0,0,1}",
      "RABBITMQ_MNESIA_BASE=" + in_dir("mnesia"),
      "RABBITMQ_LOG_BASE=" + in_dir("log"),
      "RABBITMQ_ENABLED_PLUGINS_FILE=" + in_dir("enabled_plugins"),
      "RABBITMQ_CONFIG_FILE=" + in_dir("rabbitmq.conf"),
      "RABBITMQ_ADVANCED_CONFIG_FILE=" + in_dir("advanced.config"),
      // Keeps /etc/rabbitmq/rabbitmq-env.conf from overriding any of this.
      "RABBITMQ_CONF_ENV_FILE=" + in_dir("rabbitmq-env.conf"),
  };
}

void rabbitmq_server::write_config() const {
  // log.console: the log file has it all. classic_queue.default_version: the
  // v1 queue index of RabbitMQ 3.10 was seen to crash recovering a segment a
  // SIGKILL left full of NUL bytes, and the broker never came back (tests kill
  // it on purpose); the v2 index recovers from that.
  std::string config = "log.console = false\nclassic_queue.default_version = 2\n";
  if (!options_.peers.empty())
    config += "cluster_formation.peer_discovery_backend = classic_config\n";
  for (std::size_t i = 0; i < options_.peers.size(); ++i)
    config.append("cluster_formation.classic_config.nodes.")
        .append(std::to_string(i + 1))
        .append(" = ")
        .append(options_.peers[i])
        .append("\n");
  write_file(dir_ / "rabbitmq.conf", config);
  write_file(dir_ / "advanced.config", "[].\n");
  write_file(dir_ / "enabled_plugins", "[].\n");
  write_file(dir_ / "rabbitmq-env.conf", "");
}

// Nodes of one cluster must share it; Erlang refuses a cookie file that
// others can read.
void rabbitmq_server::write_cookie() const {
  if (options_.cookie.empty())
    return;
  auto file = dir_ / "home" / ".erlang.cookie";
  write_file(file, options_.cookie);
  fs::permissions(file, fs::perms::owner_read);
}

void rabbitmq_server::start_epmd() {
  launch_spec spec{
      {find_program("epmd").string(), "-port", std::to_string(epmd_port_), "-address", loopback},
      environment(),
      service_account("rabbitmq"),
      dir_,
      dir_ / "epmd.log"};
  epmd_.launch(spec, dir_ / "epmd.pgid");
  // Were it not up when the broker boots, the broker would start a daemon.
  auto deadline = clock_type::now() + std::chrono::milliseconds(start_timeout_ms);
  while (!port_accepts(epmd_port_)) {
    if (!epmd_.running() || clock_type::now() >= deadline) {
      throw std::runtime_error("epmd did not start\n" + tail_of(dir_ / "epmd.log"));
    }
    std::this_thread::sleep_for(poll_interval);
  }
}

void rabbitmq_server::wait_until_ready() {
  auto deadline = clock_type::now() + std::chrono::milliseconds(start_timeout_ms);
  while (!amqp_login_works(*this)) {
    if (!running()) {
      process_.wait(start_timeout_ms);
      throw std::runtime_error(describe_failure("rabbitmq exited during start-up (" +
                                                process_.exit_description() + ")"));
    }
    if (clock_type::now() >= deadline) {
      kill();
      throw std::runtime_error(
          describe_failure("rabbitmq did not accept AMQP logins in time; killed it"));
    }
    std::this_thread::sleep_for(poll_interval);
  }
}

std::string rabbitmq_server::describe_failure(const std::string& what) const {
  return what + " [" + dir_.string() + "]\n" + tail_of(dir_ / "server.log") +
         tail_of(log_file());
}

// ---- rabbitmq_cluster ----------------------------------------------------------------

namespace {

std::string random_cookie() {
  constexpr std::string_view letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  std::random_device seed;
  std::mt19937 random{seed()};
  std::uniform_int_distribution<std::size_t> pick{0, letters.size() - 1};
  std::string cookie(20, 'A');
  for (auto& c : cookie)
    c = letters[pick(random)];
  return cookie;
}

} // namespace

rabbitmq_cluster::rabbitmq_cluster(fs::path dir, std::size_t size) {
  create_fresh_directory(dir);
  auto cookie = random_cookie();
  std::vector<std::string> names;
  for (std::size_t i = 0; i < size; ++i) {
    rabbitmq_node_options options;
    options.node_name = std::string{"realsrv"}
                            .append(std::to_string(getpid()))
                            .append("-")
                            .append(std::to_string(i))
                            .append("@localhost");
    options.epmd_port = nodes_.empty() ? 0 : nodes_.front()->epmd_port();
    options.cookie = cookie;
    options.peers = names; // the nodes before it
    nodes_.push_back(std::make_unique<rabbitmq_server>(dir / std::string{"node"}.append(
                                                                 std::to_string(i)),
                                                       std::move(options)));
    names.push_back(nodes_.back()->node_name());
  }
  for (std::size_t i = 0; i < size; ++i)
    if (auto running = running_nodes(i); running != size)
      throw std::runtime_error(std::string{"rabbitmq cluster: node "}
                                   .append(std::to_string(i))
                                   .append(" sees ")
                                   .append(std::to_string(running))
                                   .append(" of ")
                                   .append(std::to_string(size))
                                   .append(" nodes running"));
}

rabbitmq_cluster::~rabbitmq_cluster() {
  while (!nodes_.empty()) // node 0 runs the epmd: last
    nodes_.pop_back();
}

std::string rabbitmq_cluster::addresses_except(std::size_t except) const {
  std::string list;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (i == except)
      continue;
    if (!list.empty())
      list += ',';
    list.append(nodes_[i]->host()).append(":").append(std::to_string(nodes_[i]->port()));
  }
  return list;
}

std::size_t rabbitmq_cluster::running_nodes(std::size_t seen_from) const {
  auto out = nodes_.at(seen_from)->ctl({"eval", "length(rabbit_nodes:all_running())."});
  return static_cast<std::size_t>(std::stoul(out));
}

// ---- the shared servers ---------------------------------------------------------------

namespace {

// Runs once the test process is gone, however it went (its end of the pipe
// closes): kills what still runs and removes the temp dir. $1 is that dir.
constexpr const char* reaper_script = R"sh(
trap '' HUP INT TERM QUIT PIPE
while read -r _; do :; done
root=$1
for file in "$root"/*/*.pgid "$root"/*/*/*.pgid; do
  [ -f "$file" ] && kill -KILL -- "-$(cat "$file")" 2>/dev/null
done
# A killed postgres leaves its SysV segment; line 7 of its lock file has the
# key, which is derived from this data dir: nobody else's segment has it.
lock="$root/postgres/data/postmaster.pid"
if [ -f "$lock" ]; then
  set -- $(sed -n 7p "$lock")
  [ -n "$1" ] && ipcrm -M "$1" 2>/dev/null
fi
cd /
tries=0
while [ -e "$root" ] && [ $tries -lt 100 ]; do
  rm -rf "$root" 2>/dev/null || sleep 0.05
  tries=$((tries + 1))
done
)sh";

class shared_servers {
public:
  static shared_servers& instance() {
    static shared_servers servers;
    return servers;
  }

  postgres_server& postgres() {
    std::lock_guard lock(mutex_);
    return lazily(postgres_, postgres_failure_,
                  [this] { return std::make_unique<postgres_server>(root() / "postgres"); });
  }

  rabbitmq_server& rabbitmq() {
    std::lock_guard lock(mutex_);
    return lazily(rabbitmq_, rabbitmq_failure_,
                  [this] { return std::make_unique<rabbitmq_server>(root() / "rabbitmq"); });
  }

  rabbitmq_cluster& rabbitmq_cluster_of_three() {
    std::lock_guard lock(mutex_);
    return lazily(cluster_, cluster_failure_, [this] {
      return std::make_unique<rabbitmq_cluster>(root() / "rabbitmq-cluster", 3);
    });
  }

private:
  shared_servers() = default;

  // Only the process that started the servers stops them: not a forked child.
  ~shared_servers() {
    if (getpid() != owner_ || reaper_ < 0)
      return;
    cluster_.reset();
    rabbitmq_.reset();
    postgres_.reset();
    close(reaper_pipe_); // the reaper removes the temp dir and anything left
    waitpid(reaper_, nullptr, 0);
  }

  template <class server, class factory>
  static server& lazily(std::unique_ptr<server>& instance, std::exception_ptr& failure,
                        const factory& make) {
    if (failure)
      std::rethrow_exception(failure);
    if (!instance) {
      try {
        instance = make();
      } catch (...) {
        failure = std::current_exception(); // fail fast in the following tests
        throw;
      }
    }
    return *instance;
  }

  fs::path root() {
    if (!root_.empty())
      return root_;
    std::string pattern = "/tmp/realsrv-XXXXXX";
    if (!mkdtemp(pattern.data()))
      throw_errno("mkdtemp " + pattern);
    // The service accounts must reach their own subdirectories.
    fs::permissions(pattern, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    start_reaper(pattern);
    root_ = pattern;
    return root_;
  }

  void start_reaper(const fs::path& root) {
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0)
      throw_errno("pipe2");
    pipe_fds[0] = above_stdio(pipe_fds[0]);
    launch_spec spec;
    // bash, not sh: dash's kill takes no "--" before a negative process group.
    spec.argv = {"/bin/bash", "-c", reaper_script, "real_servers_reaper", root.string()};
    spec.env = {system_path};
    spec.input = pipe_fds[0];
    reaper_ = spawn_detached(spec);
    close(pipe_fds[0]);
    reaper_pipe_ = pipe_fds[1]; // close-on-exec: only this process holds it
  }

  std::mutex mutex_;
  const pid_t owner_ = getpid();
  fs::path root_;
  pid_t reaper_ = -1;
  int reaper_pipe_ = -1;
  std::unique_ptr<postgres_server> postgres_;
  std::exception_ptr postgres_failure_;
  std::unique_ptr<rabbitmq_server> rabbitmq_;
  std::exception_ptr rabbitmq_failure_;
  std::unique_ptr<rabbitmq_cluster> cluster_;
  std::exception_ptr cluster_failure_;
};

} // namespace

postgres_server& postgres() { return shared_servers::instance().postgres(); }

rabbitmq_server& rabbitmq() { return shared_servers::instance().rabbitmq(); }

rabbitmq_cluster& rabbitmq_cluster_of_three() {
  return shared_servers::instance().rabbitmq_cluster_of_three();
}

} // namespace support
