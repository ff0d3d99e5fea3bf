#pragma once
// How both services restart the actors that hold a broker connection (the
// platform service's relay, the command service's subscriber): a broker
// outage lasts as long as it lasts, and its end should be noticed at once.
#include <actors/backoff.hpp>
#include <actors/restart_window.hpp>

#include <chrono>

namespace shared::amqp {

// 200 ms, 400 ms, then every 500 ms (+-20%): once the broker answers again,
// the relay and the subscriber are each back within ~0.6 s, so events flow
// within ~1 s of its return (the chaos run asks for 2 s on a loaded machine).
inline const actors::backoff_policy reconnect_backoff{std::chrono::milliseconds{200},
                                                      std::chrono::milliseconds{500}, 0.2};

// At most ~150 attempts a minute (0.4 s apart with jitter): a long outage
// stays below the limit and never escalates; a crash loop is paced by the
// backoff instead.
inline const actors::restart_intensity reconnect_intensity{200, std::chrono::seconds{60}};

} // namespace shared::amqp
