// The supervisor with real CAF actors: children whose handlers throw, stable
// handles, restart strategies, intensity, escalation and shutdown. Tests wait
// on supervision events or replies with deadlines; none sleeps to assert.
#include "event_recorder.hpp"

#include <actors/bridge.hpp>
#include <actors/errors.hpp>
#include <actors/supervisor.hpp>

#include <caf/all.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <memory>

using namespace std::chrono_literals;
using actors::supervision_event;
using who_atom = caf::atom_constant<caf::atom("who")>;
using crash_atom = caf::atom_constant<caf::atom("crash")>;
using work_atom = caf::atom_constant<caf::atom("work")>;

namespace {

// Set by the test before it sends work; the child fulfils it when the work begins.
std::promise<void>* work_started = nullptr;

// A child that reports which instance it is and throws on demand.
caf::behavior worker(caf::event_based_actor* self, int instance) {
  actors::fail_on_exception(self);
  return {
    [=](who_atom) { return instance; },
    [=](crash_atom) -> int { throw std::runtime_error("boom in instance " + std::to_string(instance)); },
    [=](work_atom, int ms) {
      if (work_started)
        work_started->set_value();
      std::this_thread::sleep_for(std::chrono::milliseconds(ms)); // in-flight work
      return std::string{"done"};
    },
  };
}

// A child whose every start fails while its behavior is built. It takes an
// argument because CAF 0.17 dereferences a null argument tuple when spawning
// a function without arguments (UBSan reports it).
caf::behavior broken(caf::event_based_actor* self, const std::string& reason) {
  actors::fail_on_exception(self);
  throw std::runtime_error(reason);
}

actors::child_spec broken_child(const std::string& name) {
  actors::child_spec c;
  c.name = name;
  c.start = [](caf::actor_system& sys) { return sys.spawn(broken, "cannot open database"); };
  return c;
}

struct counter {
  std::shared_ptr<std::atomic<int>> starts = std::make_shared<std::atomic<int>>(0);
  actors::start_function start() const {
    return [n = starts](caf::actor_system& sys) { return sys.spawn(worker, ++*n); };
  }
};

class supervisor_test : public ::testing::Test {
protected:
  supervisor_test() : sys(make_config()) {}

  ~supervisor_test() override {
    for (auto& a : to_stop)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  }

  static caf::actor_system_config& make_config() {
    static caf::actor_system_config cfg;
    static bool once = [] {
      actors::add_error_category(cfg);
      return true;
    }();
    (void) once;
    return cfg;
  }

  actors::handle handle(const std::string& name, actors::handle_options opts = {}) {
    auto h = actors::make_handle(sys, name, opts);
    to_stop.push_back(h.actor());
    return h;
  }

  actors::supervisor_spec spec(const std::string& name, actors::strategy s,
                               std::vector<actors::child_spec> children) {
    actors::supervisor_spec sp;
    sp.name = name;
    sp.strategy = s;
    sp.intensity = {5, 10s};
    sp.backoff = {1ms, 10ms, 0.0};
    sp.children = std::move(children);
    sp.observer = events.observer();
    return sp;
  }

  caf::actor start(actors::supervisor_spec sp) {
    auto sup = actors::spawn_supervisor(sys, std::move(sp));
    to_stop.push_back(sup);
    return sup;
  }

  caf::expected<int> who(const actors::handle& h, std::chrono::milliseconds deadline = 5s) {
    return actors::call<int>(sys, h, deadline, who_atom::value);
  }

  caf::expected<int> crash(const actors::handle& h) {
    return actors::call<int>(sys, h, 5s, crash_atom::value);
  }

  // Sends `h` work of `ms` from another thread; true once the child began it.
  bool begin_work(const actors::handle& h, int ms, std::chrono::milliseconds deadline,
                  std::future<caf::expected<std::string>>& in_flight) {
    std::promise<void> started;
    work_started = &started;
    in_flight = std::async(std::launch::async, [this, h, ms, deadline] {
      return actors::call<std::string>(sys, h, deadline, work_atom::value, ms);
    });
    auto begun = started.get_future().wait_for(5s) == std::future_status::ready;
    work_started = nullptr;
    return begun;
  }

  // Waits for the supervisor to terminate and returns its exit reason.
  caf::error exit_reason_of(const caf::actor& sup) {
    caf::error reason = caf::make_error(caf::sec::request_timeout, "supervisor did not stop");
    caf::scoped_actor self{sys};
    self->monitor(sup);
    self->receive([&](caf::down_msg& dm) { reason = dm.reason; },
                  caf::after(std::chrono::seconds(20)) >> [] {});
    return reason;
  }

  // Declared before the system: supervisors still report while it stops them.
  test::event_recorder events;
  caf::actor_system sys;
  std::vector<caf::actor> to_stop;
};

bool is(const caf::error& err, actors::errc code) {
  return err.category() == caf::atom("actors") && err.code() == static_cast<uint8_t>(code);
}

} // namespace

TEST(errors, registered_categories_are_described_by_name) {
  actors::register_error_category(caf::atom("test"), [](uint8_t code) {
    return code == 1 ? std::string{"unknown_widget"} : "other";
  });
  caf::error err{uint8_t{1}, caf::atom("test"), caf::make_message(std::string{"7"})};
  EXPECT_EQ(actors::describe(err), "unknown_widget: 7");
  EXPECT_EQ(actors::describe(actors::make_error(actors::errc::overloaded, "x")), "overloaded: x");
}

TEST_F(supervisor_test, one_for_one_restarts_only_the_failed_child) {
  counter a_starts, b_starts;
  auto a = handle("a"), b = handle("b");
  start(spec("sup", actors::strategy::one_for_one,
             {actors::child(a, a_starts.start()), actors::child(b, b_starts.start())}));
  ASSERT_EQ(who(a), 1);
  ASSERT_EQ(who(b), 1);

  auto failed = crash(a);
  ASSERT_FALSE(failed);
  EXPECT_TRUE(is(failed.error(), actors::errc::unhandled_exception))
    << actors::describe(failed.error());
  EXPECT_NE(actors::describe(failed.error()).find("boom in instance 1"), std::string::npos);

  ASSERT_TRUE(events.wait_for(supervision_event::child_restarted, "a"));
  EXPECT_EQ(who(a), 2) << "the same handle reaches the new instance";
  EXPECT_EQ(who(b), 1) << "the sibling was not restarted";
  EXPECT_EQ(events.count(supervision_event::child_failed, "a"), 1u);
  EXPECT_EQ(events.count(supervision_event::child_stopped, "b"), 0u);
}

TEST_F(supervisor_test, rest_for_one_restarts_the_failed_child_and_those_after_it) {
  counter a_starts, b_starts, c_starts;
  auto a = handle("a"), b = handle("b"), c = handle("c");
  start(spec("sup", actors::strategy::rest_for_one,
             {actors::child(a, a_starts.start()), actors::child(b, b_starts.start()),
              actors::child(c, c_starts.start())}));
  ASSERT_EQ(who(c), 1);

  ASSERT_FALSE(crash(b));
  ASSERT_TRUE(events.wait_for(supervision_event::child_restarted, "c"));
  EXPECT_EQ(who(a), 1) << "children before the failed one are untouched";
  EXPECT_EQ(who(b), 2);
  EXPECT_EQ(who(c), 2);
  EXPECT_EQ(events.count(supervision_event::child_stopped, "c"), 1u);
  EXPECT_EQ(events.count(supervision_event::child_stopped, "a"), 0u);
}

TEST_F(supervisor_test, a_request_sent_while_the_child_is_down_waits_for_the_new_child) {
  counter starts;
  auto a = handle("a");
  auto sp = spec("sup", actors::strategy::one_for_one, {actors::child(a, starts.start())});
  sp.backoff = {300ms, 300ms, 0.0};
  start(std::move(sp));
  ASSERT_EQ(who(a), 1);
  ASSERT_FALSE(crash(a));
  // Sent during the 300 ms backoff: held by the handle, answered by instance 2.
  ASSERT_EQ(events.count(supervision_event::child_restarted, "a"), 0u);
  EXPECT_EQ(who(a, 5s), 2);
}

TEST_F(supervisor_test, a_request_fails_with_a_clear_error_when_the_child_stays_down) {
  counter starts;
  auto a = handle("a", {100ms, 10});
  auto sp = spec("sup", actors::strategy::one_for_one, {actors::child(a, starts.start())});
  sp.backoff = {5s, 5s, 0.0};
  start(std::move(sp));
  ASSERT_EQ(who(a), 1);
  ASSERT_FALSE(crash(a));
  auto held = who(a, 5s);
  ASSERT_FALSE(held);
  EXPECT_TRUE(is(held.error(), actors::errc::child_unavailable)) << actors::describe(held.error());
  EXPECT_EQ(actors::describe(held.error()), "child_unavailable: a was not back within 100ms");

  auto late = who(a, 50ms); // the caller's own deadline is shorter still
  ASSERT_FALSE(late);
  EXPECT_EQ(actors::describe(late.error()), "deadline_exceeded: a did not answer within 50ms");
}

TEST_F(supervisor_test, intensity_exceeded_makes_the_supervisor_give_up) {
  auto sp = spec("sup", actors::strategy::one_for_one,
                 {broken_child("db")});
  sp.intensity = {3, 10s};
  auto sup = start(std::move(sp));
  auto reason = exit_reason_of(sup);
  EXPECT_TRUE(is(reason, actors::errc::gave_up)) << actors::describe(reason);
  EXPECT_NE(actors::describe(reason).find("cannot open database"), std::string::npos);
  EXPECT_EQ(events.count(supervision_event::child_restarted, "db"), 3u);
  EXPECT_EQ(events.count(supervision_event::child_failed, "db"), 4u);
  EXPECT_EQ(events.count(supervision_event::gave_up, "db"), 1u);
}

TEST_F(supervisor_test, escalation_climbs_nested_supervisors_to_the_root) {
  auto inner = spec("inner", actors::strategy::one_for_one,
                    {broken_child("db")});
  inner.intensity = {1, 10s};
  auto root = spec("root", actors::strategy::one_for_one, {actors::supervisor_child(inner)});
  root.intensity = {1, 10s};
  auto sup = start(std::move(root));
  auto reason = exit_reason_of(sup);
  EXPECT_TRUE(is(reason, actors::errc::gave_up)) << actors::describe(reason);
  EXPECT_EQ(events.count(supervision_event::gave_up, "db"), 2u) << "inner gave up twice";
  EXPECT_EQ(events.count(supervision_event::child_restarted, "inner"), 1u) << "root restarted it once";
  EXPECT_EQ(events.count(supervision_event::gave_up, "inner"), 1u) << "then root gave up";
}

TEST_F(supervisor_test, temporary_children_are_not_restarted_transient_only_after_failure) {
  counter t_starts, tr_starts;
  auto t = handle("t", {100ms, 10}), tr = handle("tr");
  start(spec("sup", actors::strategy::one_for_one,
             {actors::child(t, t_starts.start(), actors::restart_policy::temporary),
              actors::child(tr, tr_starts.start(), actors::restart_policy::transient)}));
  ASSERT_FALSE(crash(t));
  ASSERT_FALSE(crash(tr));
  ASSERT_TRUE(events.wait_for(supervision_event::child_restarted, "tr"));
  EXPECT_EQ(who(tr), 2);
  auto gone = who(t);
  ASSERT_FALSE(gone);
  EXPECT_TRUE(is(gone.error(), actors::errc::child_unavailable));
  EXPECT_EQ(events.count(supervision_event::restart_scheduled, "t"), 0u);
}

// Shutdown stops the last started first: while a front end finishes its
// work, what it depends on (started before it) still answers through its handle.
TEST_F(supervisor_test, shutdown_keeps_serving_through_handles_until_each_child_stops) {
  counter a_starts, b_starts;
  auto b = handle("b"), a = handle("a");
  auto sup = start(spec("sup", actors::strategy::one_for_one,
                        {actors::child(b, b_starts.start()), actors::child(a, a_starts.start())}));
  ASSERT_EQ(who(b), 1);
  std::future<caf::expected<std::string>> in_flight;
  ASSERT_TRUE(begin_work(a, 3000, 10s, in_flight));
  caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
  for (int i = 0; i < 20; ++i) {
    auto served = who(b);
    ASSERT_TRUE(served) << "call " << i << ": " << actors::describe(served.error());
  }
  ASSERT_EQ(in_flight.wait_for(0s), std::future_status::timeout) << "a was still stopping";
  ASSERT_TRUE(in_flight.get());
  EXPECT_EQ(exit_reason_of(sup), caf::exit_reason::user_shutdown);
  auto refused = who(b);
  ASSERT_FALSE(refused);
  EXPECT_TRUE(is(refused.error(), actors::errc::shutting_down)) << actors::describe(refused.error());
}

TEST_F(supervisor_test, shutdown_finishes_work_in_flight_then_refuses_new_work) {
  counter starts;
  auto a = handle("a");
  auto sup = start(spec("sup", actors::strategy::one_for_one, {actors::child(a, starts.start())}));
  ASSERT_EQ(who(a), 1);
  std::future<caf::expected<std::string>> in_flight;
  ASSERT_TRUE(begin_work(a, 300, 5s, in_flight));
  caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
  EXPECT_EQ(exit_reason_of(sup), caf::exit_reason::user_shutdown);
  auto done = in_flight.get();
  ASSERT_TRUE(done) << actors::describe(done.error());
  EXPECT_EQ(*done, "done");
  auto refused = who(a);
  ASSERT_FALSE(refused);
  EXPECT_TRUE(is(refused.error(), actors::errc::shutting_down)) << actors::describe(refused.error());
  EXPECT_EQ(events.count(supervision_event::child_stopped, "a"), 1u);
}
