#include "actors/service.hpp"

#include "actors/build_info.hpp"
#include "actors/errors.hpp"
#include "actors/log.hpp"

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <malloc.h>
#include <mutex>
#include <thread>

namespace actors {

handle service_context::make_handle(std::string name, handle_options options) {
  handles_.push_back(actors::make_handle(sys_, std::move(name), options));
  board_->track(handles_.back());
  return handles_.back();
}

supervision_observer service_context::observer(supervision_observer also) const {
  return fan_out({[board = board_](const supervision_event& ev) { board->record(ev); },
                  std::move(also)});
}

namespace {

struct common_settings {
  log::level log_level = log::level::info;
  std::chrono::milliseconds shutdown_timeout{10'000};
  std::int64_t actor_threads = 4;
  std::string scheduler_policy = "sharing";
  std::int64_t malloc_arena_max = 2;
};

common_settings read_common(settings& s) {
  common_settings c;
  auto level = s.choice("LogLevel", "info", {"debug", "info", "warn", "error"},
                        "minimum log level");
  log::parse_level(level, c.log_level);
  c.shutdown_timeout = s.duration("ShutdownTimeout", c.shutdown_timeout,
                                  "time to finish in-flight work after SIGTERM");
  c.actor_threads = s.integer("ActorThreads", c.actor_threads, 1, 64,
                              "CAF scheduler worker threads");
  // "sharing": idle workers wait on a condition variable. "stealing" polls
  // with 50 us sleeps: 15,000 context switches a second per worker under
  // load, 44-55 per create against 20 with sharing, which also cut the CPU
  // per create by 40% and per consumed event by half (bench/RESULTS.md).
  c.scheduler_policy = s.choice("ActorSchedulerPolicy", c.scheduler_policy,
                                {"stealing", "sharing"}, "CAF scheduler policy");
  // glibc gives each thread that allocates an arena of its own, up to 8 per
  // core; memory freed in one stays pinned beside long-lived blocks. Two cut
  // a platform-service's resident memory under a create + read soak from
  // 40-45 MB to 35-37 MB (bench/RESULTS.md).
  c.malloc_arena_max = s.integer("MallocArenaMax", c.malloc_arena_max, 0, 64,
                                 "glibc malloc arenas; 0 = glibc's default (8 per core)");
  return c;
}

// Ends the process if shutdown overruns its deadline: a stuck actor must not
// keep a pod in Terminating forever.
class shutdown_watchdog {
public:
  explicit shutdown_watchdog(const std::string& service, std::chrono::milliseconds deadline)
    : thread_([this, service, deadline] {
        std::unique_lock lock{mutex_};
        if (!done_cv_.wait_for(lock, deadline, [this] { return done_; })) {
          log::error(service, "shutdown_deadline_exceeded", {{"deadline", deadline}});
          std::_Exit(1);
        }
      }) {}
  ~shutdown_watchdog() {
    {
      std::lock_guard guard{mutex_};
      done_ = true;
    }
    done_cv_.notify_all();
    thread_.join();
  }

private:
  std::mutex mutex_;
  std::condition_variable done_cv_;
  bool done_ = false;
  std::thread thread_;
};

// Where the root supervisor's exit reason lands (set on its thread).
struct root_watch {
  std::mutex mutex;
  std::condition_variable cv;
  bool down = false;
  caf::error reason;
};

int supervise(const std::string& name, caf::actor_system& sys, const tree_builder& build,
              const sigset_t& signals, std::chrono::milliseconds shutdown_timeout,
              std::optional<shutdown_watchdog>& watchdog) {
  service_context ctx{sys};
  supervisor_spec tree;
  try {
    tree = build(ctx);
  } catch (...) {
    for (auto& h : ctx.handles())
      caf::anon_send_exit(h.actor(), caf::exit_reason::user_shutdown);
    throw;
  }
  auto root = spawn_supervisor(sys, std::move(tree));
  auto watch = std::make_shared<root_watch>();
  root->attach_functor([watch](const caf::error& reason) {
    std::lock_guard guard{watch->mutex};
    watch->down = true;
    watch->reason = reason;
    watch->cv.notify_all();
  });
  auto b = this_build();
  log::info(name, "service_started", {{"version", b.version}, {"commit", b.commit}});
  // Wake every 100 ms to notice a root that gave up on its own.
  const timespec tick{0, 100'000'000};
  int signal = -1;
  while (signal < 0) {
    {
      std::lock_guard guard{watch->mutex};
      if (watch->down)
        break;
    }
    signal = sigtimedwait(&signals, nullptr, &tick);
  }
  watchdog.emplace(name, shutdown_timeout);
  if (signal > 0) {
    log::info(name, "shutdown_requested",
              {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"}, {"deadline", shutdown_timeout}});
    caf::anon_send_exit(root, caf::exit_reason::user_shutdown);
  }
  std::unique_lock lock{watch->mutex};
  watch->cv.wait(lock, [&] { return watch->down; });
  auto requested = signal > 0 && watch->reason == caf::exit_reason::user_shutdown;
  if (!requested)
    log::error(name, "root_gave_up", {{"reason", describe(watch->reason)},
                                      {"action", "exiting so that the process is restarted"}});
  for (auto& h : ctx.handles())
    caf::anon_send_exit(h.actor(), caf::exit_reason::user_shutdown);
  return requested ? 0 : 1;
}

} // namespace

int run_service(const std::string& name, int argc, const char* const* argv,
                const std::function<tree_builder(settings&)>& configure) {
  log::set_service(name);
  settings s{argc, argv};
  if (s.version_requested()) {
    auto b = this_build();
    std::printf("%s %.*s (commit %.*s)\n", name.c_str(), static_cast<int>(b.version.size()),
                b.version.data(), static_cast<int>(b.commit.size()), b.commit.data());
    return 0;
  }
  common_settings common;
  tree_builder build;
  try {
    common = read_common(s);
    build = configure(s);
    if (s.help_requested()) {
      std::fputs(s.usage(name).c_str(), stdout);
      return 0;
    }
    s.finish();
  } catch (const settings_error& e) {
    std::fprintf(stderr, "%s: %s\n", name.c_str(), e.what());
    log::error(name, "invalid_settings", {{"error", e.what()}});
    return 2;
  }
  log::set_level(common.log_level);
  auto shown = s.masked();
  log::write(log::level::info, name, "settings", shown);
  // Block the signals before CAF starts its threads (they inherit the mask),
  // so that only sigtimedwait below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  if (common.malloc_arena_max > 0) // before threads start allocating
    mallopt(M_ARENA_MAX, static_cast<int>(common.malloc_arena_max));
  std::optional<shutdown_watchdog> watchdog;
  int code;
  {
    caf::actor_system_config cfg;
    add_error_category(cfg);
    cfg.set("scheduler.max-threads", static_cast<std::size_t>(common.actor_threads));
    cfg.set("scheduler.policy", caf::atom_from_string(common.scheduler_policy));
    caf::actor_system sys{cfg};
    try {
      code = supervise(name, sys, build, signals, common.shutdown_timeout, watchdog);
    } catch (const std::exception& e) {
      log::error(name, "start_failed", {{"error", e.what()}});
      code = 1;
    }
  } // ~actor_system waits for every actor: still under the watchdog
  log::info(name, "service_stopped", {{"exit_code", code}});
  return code;
}

} // namespace actors
