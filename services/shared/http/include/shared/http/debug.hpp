#pragma once
// The live supervision tree over HTTP, the same in both services:
//   GET /debug/supervision         JSON {"at":..., "tree":[entry]}; an entry is
//     {"name","state","instance","restarts","intensity":{"max_restarts","within_ms"},
//      "backoff_left_ms" (backing_off), "uptime_ms" (running),
//      "last_failure":{"reason","at"} (once failed), "held" (messages its stable
//      handle holds while it is down), "children":[entry] (a supervisor)};
//     state is running, backing_off, restarting, stopped or gave_up.
//   GET /debug/supervision/events  server-sent events: `supervision` per event
//     (id "<process's board epoch>.<sequence>": a reconnecting client's
//     Last-Event-ID resumes after it, else the last 100 are replayed first), `missed` when a slow reader
//     lost some, a comment each second while quiet (so a gone client and a
//     stopping server are noticed within a second).
// Who may ask (DebugSupervision): `loopback` (default: peers on 127.0.0.0/8 or
// ::1, such as the local gateway; others get 403), `on` (anyone: only behind
// something that protects it), `off` (the routes do not exist: 404).
// Bounded: a snapshot walks one entry per actor; at most 8 event streams at
// once (each holds a worker thread), the next gets 503.
#include "shared/http/server.hpp"

#include <actors/supervision_board.hpp>

#include <memory>
#include <vector>

namespace shared::http {

enum class debug_access { off, loopback, on };

std::vector<route> debug_routes(std::shared_ptr<const actors::supervision_board> board,
                                debug_access access);

} // namespace shared::http
