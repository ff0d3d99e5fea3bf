#pragma once
// The bridge from non-actor threads (cpp-httplib and gRPC handler threads) to
// actors: send a request and block until the answer or the deadline.
//
// A fresh scoped_actor per call: CAF 0.17 never cancels request timeouts, so a
// reused one would collect stale timeout messages and slow down (see the CAF
// field guide, section 3). One round trip costs about 100 us (bench/).
#include "actors/errors.hpp"
#include "actors/handle.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>

namespace actors {

// The error a caller sees, named after the target: a timeout becomes
// `deadline_exceeded: platform.repository did not answer within 300ms`.
caf::error explain(const caf::error& err, const std::string& target,
                   std::chrono::milliseconds deadline);

// A request that bounced off a child which died before reading it
// (`request_receiver_down`) was never processed: it is sent again through the
// handle, which holds it until the next child, within the same deadline.
template <class Result, class... Ts>
caf::expected<Result> call(caf::actor_system& sys, const handle& target,
                           std::chrono::milliseconds deadline, const Ts&... xs) {
  using clock = std::chrono::steady_clock;
  auto until = clock::now() + deadline;
  caf::expected<Result> result{caf::error{}};
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - clock::now());
    bool bounced = false;
    caf::scoped_actor self{sys};
    self->request(target.actor(), std::max(left, std::chrono::milliseconds{1}), xs...)
      .receive([&](Result& value) { result = std::move(value); },
               [&](caf::error& err) {
                 bounced = err == caf::sec::request_receiver_down && clock::now() < until;
                 result = explain(err, target.name(), deadline);
               });
    if (!bounced)
      return result;
  }
}

} // namespace actors
