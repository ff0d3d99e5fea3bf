#include "outbox/relay_actor.hpp"

#include "outbox/batch_pipeline.hpp"
#include "outbox/refusals.hpp"
#include "outbox/relay_progress.hpp"
#include "store/outbox_store.hpp"

#include <actors/log.hpp>
#include <actors/supervisor.hpp>
#include <actors/trace.hpp>
#include <shared/amqp/topology.hpp>

#include <stdexcept>
#include <utility>

namespace platform {

namespace {

using clock = std::chrono::steady_clock;
namespace amqp = shared::amqp;

struct relay_metrics {
  explicit relay_metrics(shared::metrics::registry& m)
    : published(m.counter("outbox_published_total", "Events confirmed by the broker")),
      nacked(m.counter("outbox_nacked_total", "Events the broker nacked (retried)")),
      returned(m.counter("outbox_returned_total",
                         "Events confirmed but routed to no queue, not even the unrouted one")),
      unrouted(m.counter("outbox_unrouted_total",
                         "Events no queue bound to the exchange received: kept in <exchange>.unrouted")),
      parked(m.counter("outbox_parked_total", "Events the broker will not take, parked by reason",
                       {"reason"})),
      failures(m.counter("outbox_publish_failures_total", "Relay rounds failed by an error")),
      backlog(m.gauge("outbox_backlog", "Committed events not yet confirmed")) {}
  shared::metrics::counter_family& published;
  shared::metrics::counter_family& nacked;
  shared::metrics::counter_family& returned;
  shared::metrics::counter_family& unrouted;
  shared::metrics::counter_family& parked;
  shared::metrics::counter_family& failures;
  shared::metrics::gauge_family& backlog;
};

struct relay_state {
  std::string name = "platform.outbox_relay";
  std::shared_ptr<shared::metrics::registry> registry;
  std::unique_ptr<relay_metrics> metrics;
  std::shared_ptr<const schema_status> schema;
  std::unique_ptr<outbox_store> store;
  std::unique_ptr<amqp::connection> broker;
  std::unique_ptr<batch_pipeline> pipeline;
  std::unique_ptr<refusal_tracker> refusals;
  // This connection's exclusive queue on the unrouted exchange, purged to
  // count what reached it; declared once leading ("" until then).
  std::string unrouted_tap;
  relay_leadership leadership;
  backlog_tracker backlog;
  clock::time_point next_backlog_read;
  clock::time_point next_sweep;
  // Each round schedules the next tick under a new number; a wake runs a
  // round at once, which turns the tick still scheduled into a stale one.
  std::uint64_t round = 0;
  bool idle = false;    // the last round found nothing: waiting for a tick or a wake
  // Rows may be pending that the last look did not see: a wake came since,
  // the look was cut at the batch size, a row was nacked, or the relay went
  // idle (its next round, by poll or wake, looks). Without it the relay
  // would look again after each batch it sends, and find nothing.
  bool look_due = true;
  clock::time_point last_look;
  bool blocked = false; // the broker's alarm, told once each way
};

using relay_actor = outbox_relay_actor::stateful_pointer<relay_state>;

// A new broker connection, `trigger` declared, confirms on; nothing in flight.
void connect(relay_actor self, const relay_config& cfg) {
  auto& st = self->state;
  st.broker.reset(); // the old one first: one connection per relay
  st.broker = std::make_unique<amqp::connection>(cfg.broker.connection);
  amqp::declare_trigger(*st.broker, cfg.broker);
  st.broker->enable_confirms();
  st.pipeline = std::make_unique<batch_pipeline>(cfg.batches_in_flight);
  st.unrouted_tap.clear();
}

// With an alternate exchange the broker acks an unrouted publish like any
// other, so the relay watches the alternate exchange instead: a copy of what
// reaches it also lands in this connection's own exclusive queue, which the
// relay purges each second and counts (the durable queue keeps the events).
// Only the leader watches: a standby publishes nothing.
void watch_unrouted(relay_actor self, const relay_config& cfg) {
  auto& st = self->state;
  if (!st.unrouted_tap.empty())
    return;
  amqp::queue_options tap;
  tap.durable = false;
  tap.exclusive = true;
  tap.auto_delete = true;
  st.unrouted_tap = st.broker->declare_queue("", tap);
  st.broker->bind_queue(st.unrouted_tap, amqp::unrouted_name(cfg.broker));
}

void count_unrouted(relay_actor self, const relay_config& cfg) {
  auto& st = self->state;
  if (st.unrouted_tap.empty())
    return;
  if (auto n = st.broker->purge_queue(st.unrouted_tap); n > 0) {
    st.metrics->unrouted.inc({}, static_cast<double>(n));
    actors::log::warn(st.name, "events_unrouted",
                      {{"events", n}, {"queue", amqp::unrouted_name(cfg.broker)},
                       {"why", "no queue was bound to " + cfg.broker.exchange
                                 + ": kept for an operator; the Commands Service's gRPC sync "
                                   "covers the platforms"}});
  }
}

void park(relay_actor self, const std::vector<parked_event>& parked) {
  auto& st = self->state;
  for (auto& p : parked) {
    auto reason = to_string(p.reason);
    st.store->park(p.event.id, std::string{reason}.append(": ").append(p.detail));
    st.metrics->parked.inc({reason});
    actors::log::context_scope trace{actors::trace::same_span(p.event.traceparent).log_fields()};
    actors::log::warn(st.name, "event_parked",
                      {{"id", p.event.id}, {"message_id", p.event.message_id},
                       {"request_id", p.event.correlation_id}, {"reason", reason},
                       {"detail", p.detail}});
  }
}

void publish(relay_actor self, const relay_config& cfg, std::vector<outbox_event> events) {
  auto& st = self->state;
  std::uint64_t first = 0;
  for (auto& e : events) {
    amqp::properties props{e.message_id, "application/json", e.type, e.correlation_id, true, {}};
    // The request's trace goes on with the event (the course's .NET
    // reference app carries it the same way).
    if (!e.traceparent.empty())
      props.headers.emplace("traceparent", e.traceparent);
    auto sequence = st.broker->publish(cfg.broker.exchange, "", e.payload, props,
                                       /*mandatory=*/true);
    if (actors::log::enabled(actors::log::level::debug)) {
      actors::log::context_scope trace{actors::trace::same_span(e.traceparent).log_fields()};
      actors::log::debug(st.name, "event_sent", {{"id", e.id}, {"message_id", e.message_id},
                                                 {"request_id", e.correlation_id}});
    }
    if (!first)
      first = sequence;
  }
  st.pipeline->sent(std::move(events), first);
}

void tell_unroutable(relay_actor self, const relay_config& cfg,
                     const std::vector<outbox_event>& returned) {
  for (auto& e : returned) {
    actors::log::context_scope trace{actors::trace::same_span(e.traceparent).log_fields()};
    actors::log::warn(self->state.name, "event_unroutable",
                      {{"message_id", e.message_id}, {"request_id", e.correlation_id},
                       {"exchange", cfg.broker.exchange},
                       {"why", "no queue bound, not even to the unrouted exchange: dropped; "
                               "the Commands Service's gRPC sync covers it"}});
  }
}

// Nacked rows stay pending and go out again, on a new channel: a quorum
// queue nacks what its leader did not take, and a RabbitMQ 3.10 channel
// opened while the queue elects a new leader (its node SIGKILLed) keeps
// sending to the dead one, nacking every publish until that node returns
// (cluster_it: 37 s); a new channel finds the new leader. Only a batch
// wholly nacked with none behind it: nothing in flight is sent twice, and a
// row the broker refuses while taking others (refusals.hpp) changes nothing.
void reconnect_after_nacks(relay_actor self, const relay_config& cfg, std::size_t nacked) {
  actors::log::warn(self->state.name, "events_nacked",
                    {{"events", nacked}, {"broker", self->state.broker->peer()},
                     {"action", "publishing them again on a new connection"}});
  connect(self, cfg);
}

// Waits for the oldest batch's confirms and marks what the broker took, with
// the later batches already settled, in one statement, up to about a batch's
// rows: full batches are marked one at a time, so that the broker keeps the
// others in flight while the database marks one.
// False when they did not come because the broker blocks us (a resource
// alarm): the batch stays in flight and the next round waits again.
bool settle_oldest(relay_actor self, const relay_config& cfg) {
  auto& st = self->state;
  auto& pipeline = *st.pipeline;
  pipeline.settle(st.broker->wait_for_confirms(cfg.confirm_timeout,
                                               pipeline.oldest_last_sequence()));
  if (auto unsettled = pipeline.oldest_unsettled(); unsettled > 0) {
    if (st.broker->blocked())
      return false;
    throw std::runtime_error(std::to_string(unsettled) + " publishes not confirmed within "
                             + std::to_string(cfg.confirm_timeout.count()) + "ms");
  }
  std::vector<std::int64_t> confirmed;
  std::vector<parked_event> parked;
  std::size_t wholly_nacked = 0; // the last batch's nacks when the broker took none of it
  while (pipeline.in_flight() > 0 && pipeline.oldest_unsettled() == 0
         && confirmed.size() < cfg.batch_size) {
    auto out = pipeline.take_oldest();
    confirmed.insert(confirmed.end(), out.confirmed.begin(), out.confirmed.end());
    st.metrics->nacked.inc({}, static_cast<double>(out.nacked.size()));
    st.metrics->returned.inc({}, static_cast<double>(out.returned.size()));
    st.look_due = st.look_due || !out.nacked.empty(); // nacked rows stay pending
    tell_unroutable(self, cfg, out.returned);
    auto refused = st.refusals->settled(out, clock::now());
    parked.insert(parked.end(), refused.begin(), refused.end());
    actors::log::debug(st.name, "batch_confirmed",
                       {{"confirmed", out.confirmed.size()}, {"nacked", out.nacked.size()},
                        {"returned", out.returned.size()}});
    wholly_nacked = out.confirmed.empty() ? out.nacked.size() : 0;
  }
  st.store->mark_published(confirmed);
  st.metrics->published.inc({}, static_cast<double>(confirmed.size()));
  st.backlog.published(confirmed.size());
  park(self, parked);
  if (wholly_nacked > 0 && pipeline.in_flight() == 0)
    reconnect_after_nacks(self, cfg, wholly_nacked);
  return true;
}

// The broker closed the channel with 406 PRECONDITION_FAILED while events
// were in flight: it will not take one of them (e.g. over its own
// max_message_size). Failing would publish the same row again after each
// restart, so the relay parks it when it was alone, or else sends the
// suspects one at a time, on a new connection. False for any other error.
bool recover_from_refusal(relay_actor self, const relay_config& cfg, const amqp::error& e) {
  auto& st = self->state;
  if (e.reply_code() != amqp::precondition_failed || !st.pipeline)
    return false;
  auto unsettled = st.pipeline->unsettled();
  if (unsettled.empty())
    return false;
  actors::log::warn(st.name, "publish_refused",
                    {{"in_flight", unsettled.size()}, {"error", e.what()}});
  if (auto parked = st.refusals->channel_refused(unsettled, e.what()))
    park(self, {*parked});
  connect(self, cfg);
  st.look_due = true; // what was in flight is pending again
  return true;
}

// True once this relay holds the database's relay lock; until then it stands
// by, trying again each poll, and takes over when the leader's session ends.
bool lead(relay_actor self) {
  auto& st = self->state;
  if (st.leadership.leading())
    return true;
  switch (st.leadership.observe(st.store->lead())) {
    case relay_leadership::change::took_lead: {
      actors::log::info(st.name, "leading", {{"detail", "publishes this database's outbox"}});
      auto waiting = st.store->backlog();
      st.backlog.found(waiting, clock::now());
      if (waiting > 0)
        actors::log::info(st.name, "backlog_found", {{"events", waiting}});
      break;
    }
    case relay_leadership::change::standing_by:
      actors::log::info(st.name, "standby", {{"detail", "another replica's relay holds the lock"}});
      break;
    case relay_leadership::change::none:
      break;
  }
  return st.leadership.leading();
}

// Whether the next batch may go out now.
bool may_send(relay_actor self) {
  auto& st = self->state;
  return !st.pipeline->full() && !(st.refusals->isolating() && st.pipeline->in_flight() > 0)
         && !st.refusals->paused(clock::now());
}

// Whether to look for pending rows now. With batches in flight, the relay
// looks at most once per OutboxWakeLinger and settles meanwhile: under
// steady creates the wakes of that time become one batch. From idle it looks
// at once, so a lone event waits for nothing.
bool look_now(relay_actor self, const relay_config& cfg) {
  auto& st = self->state;
  return st.look_due && may_send(self)
         && (st.pipeline->in_flight() == 0 || clock::now() - st.last_look >= cfg.wake_linger);
}

// One round: send the next batch while the pipeline has room, and settle the
// oldest once it is full or nothing more is pending. Nacked rows (unless
// parked), and rows committed late with an id inside the span in flight,
// stay pending and go out in a later batch (at the latest, the next poll's). True while there is work left.
bool publish_round(relay_actor self, const relay_config& cfg) {
  auto& st = self->state;
  if (!st.schema->current() || !lead(self)) {
    st.broker->keep_alive();
    return false;
  }
  watch_unrouted(self, cfg);
  bool fetched = false;
  if (look_now(self, cfg)) {
    auto limit = st.refusals->batch_size(cfg.batch_size);
    st.last_look = clock::now();
    auto events = st.store->pending(limit, st.pipeline->in_flight_ids());
    fetched = !events.empty();
    st.look_due = events.size() >= limit; // cut at the batch size: more wait
    st.refusals->fetched(events);
    park(self, st.refusals->too_large(events));
    publish(self, cfg, std::move(events));
  }
  if (st.pipeline->in_flight() == 0) {
    if (fetched) {
      st.look_due = true; // all of it was parked: there may be more
      return true;
    }
    st.broker->keep_alive();
    if (st.refusals->paused(clock::now()))
      return false;
    if (auto drained = st.backlog.idle(clock::now()))
      actors::log::info(st.name, "backlog_drained",
                        {{"published", drained->published}, {"ms", drained->took.count()}});
    return false;
  }
  if (st.pipeline->full() || !fetched)
    return settle_oldest(self, cfg);
  return true;
}

// A leader whose session PostgreSQL ended (it sat idle past its lease, e.g.
// frozen) may have been replaced by a standby: it must not publish on.
void check_lead(relay_actor self) {
  auto& st = self->state;
  if (st.leadership.leading() && !st.store->holds_lead())
    throw std::runtime_error("the relay lock is no longer held by this session");
}

// The leader deletes rows published more than OutboxRetention ago, a small
// batch at a time, at most each minute.
void sweep_published(relay_actor self, const relay_config& cfg) {
  constexpr std::size_t batch = 1'000;
  constexpr int max_batches = 10; // the rest waits for the next sweep
  auto& st = self->state;
  if (!st.leadership.leading() || clock::now() < st.next_sweep)
    return;
  st.next_sweep = clock::now() + std::min<clock::duration>(std::chrono::minutes{1}, cfg.retention);
  std::size_t deleted = 0;
  for (int i = 0; i < max_batches; ++i) {
    auto n = st.store->delete_published(cfg.retention, batch);
    deleted += n;
    if (n < batch)
      break;
  }
  if (deleted > 0)
    actors::log::info(st.name, "published_deleted",
                      {{"rows", deleted}, {"older_than_ms", cfg.retention.count()}});
}

// Each second: the lock check, the backlog gauge, what reached the unrouted
// exchange, and the retention sweep when due.
void update_backlog(relay_actor self, const relay_config& cfg) {
  auto& st = self->state;
  if (clock::now() < st.next_backlog_read || !st.schema->current())
    return;
  st.next_backlog_read = clock::now() + std::chrono::seconds(1);
  check_lead(self);
  st.metrics->backlog.set({}, static_cast<double>(st.store->backlog()));
  count_unrouted(self, cfg);
  sweep_published(self, cfg);
}

void tell_blocked(relay_actor self) {
  auto& st = self->state;
  auto& reason = st.broker->blocked();
  if (reason.has_value() == st.blocked)
    return;
  st.blocked = reason.has_value();
  if (reason)
    actors::log::warn(st.name, "broker_blocked",
                      {{"reason", *reason}, {"detail", "publishes wait until the alarm clears"}});
  else
    actors::log::info(st.name, "broker_unblocked");
}

// How long an idle relay waits for its next round (a wake may come first).
std::chrono::milliseconds idle_wait(relay_actor self, const relay_config& cfg) {
  auto& st = self->state;
  auto now = clock::now();
  if (st.refusals->paused(now))
    return std::chrono::ceil<std::chrono::milliseconds>(st.refusals->resume_at() - now);
  // Until the schema is current, look again soon rather than at the next poll.
  return st.schema->current() ? cfg.poll_interval
                              : std::min(cfg.poll_interval, std::chrono::milliseconds{100});
}

void run_round(relay_actor self, const relay_config& cfg) {
  auto& st = self->state;
  bool more;
  try {
    more = publish_round(self, cfg);
    update_backlog(self, cfg);
    tell_blocked(self);
  } catch (const amqp::error& e) {
    st.metrics->failures.inc({});
    if (!recover_from_refusal(self, cfg, e))
      throw;
    more = true;
  } catch (...) {
    st.metrics->failures.inc({});
    throw;
  }
  // A paused relay waits out its pause: wakes do not shorten it.
  st.idle = !more && !st.refusals->paused(clock::now());
  st.look_due = st.look_due || !more;
  auto wait = idle_wait(self, cfg);
  if (more)
    self->send(self, tick_atom::value, ++st.round);
  else
    self->delayed_send(self, wait, tick_atom::value, ++st.round);
}

outbox_relay_actor::behavior_type relay(relay_actor self, relay_config cfg,
                                        std::shared_ptr<shared::metrics::registry> registry,
                                        std::shared_ptr<const schema_status> schema) {
  actors::fail_on_exception(self);
  auto& st = self->state;
  st.registry = std::move(registry);
  st.metrics = std::make_unique<relay_metrics>(*st.registry);
  st.schema = std::move(schema);
  st.store = std::make_unique<outbox_store>(cfg.database, cfg.lease);
  st.refusals = std::make_unique<refusal_tracker>(cfg.refusals);
  // Before the broker: while it is away, each restart attempt still counts
  // the events waiting for it.
  update_backlog(self, cfg);
  connect(self, cfg);
  actors::log::info(st.name, "connected", {{"broker", st.broker->peer()},
                                           {"exchange", cfg.broker.exchange},
                                           {"durable", cfg.broker.durable_exchange}});
  self->send(self, tick_atom::value, st.round);
  return {
    [=](tick_atom, std::uint64_t round) {
      if (round == self->state.round)
        run_round(self, cfg);
    },
    [=](wake_atom) {
      // A standby's poll keeps trying the lock: it would only try again on
      // every commit, so only a leader (or a relay yet to try) acts on wakes.
      // A busy relay looks again once its round ends.
      self->state.look_due = true;
      if (self->state.idle && !self->state.leadership.standing_by())
        run_round(self, cfg);
    },
  };
}

} // namespace

caf::actor spawn_relay(caf::actor_system& sys, const relay_config& cfg,
                       std::shared_ptr<shared::metrics::registry> metrics,
                       std::shared_ptr<const schema_status> schema) {
  return caf::actor_cast<caf::actor>(
    sys.spawn<caf::detached>(relay, cfg, std::move(metrics), std::move(schema)));
}

} // namespace platform
