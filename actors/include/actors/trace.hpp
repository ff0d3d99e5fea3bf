#pragma once
// W3C Trace Context: one trace id from the gateway to the command service,
// whatever carries the request (HTTP, gRPC metadata, the outbox row, an AMQP
// header). `traceparent` is "00-<trace-id>-<parent-id>-<flags>": 32 and 16
// lowercase hex digits, neither all zeros, and 2 for the flags.
//
//   auto t = actors::trace::child_of(req.get_header_value("traceparent"));
//   actors::log::context_scope scope{t.log_fields()}; // trace_id, span_id on each line
//   out.set_header("traceparent", t.traceparent());   // the next hop's parent is our span
//
// There is no tracing backend (Debian 12 has no OpenTelemetry C++ SDK): the
// context is propagated and written in the logs.
#include "actors/log.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace actors::trace {

struct context {
  std::string trace_id; // 32 hex digits
  std::string span_id;  // 16 hex digits: the span of the work at hand
  std::string flags = "01";

  bool empty() const { return trace_id.empty(); }
  // "00-<trace_id>-<span_id>-<flags>", or "" when empty.
  std::string traceparent() const;
  // trace_id= and span_id=, for log::context_scope (none when empty).
  std::vector<log::field> log_fields() const;
};

// The context a valid traceparent names (its parent id as the span), else
// nullopt. A version other than 00 is read by its first four fields, as
// the specification asks.
std::optional<context> parse(std::string_view traceparent);

// A new span of the trace `traceparent` names, or of a new trace when it is
// empty or invalid.
context child_of(std::string_view traceparent);

// The span a valid traceparent names, unchanged (an actor continuing the
// work its caller passed on); an empty context when it is invalid.
context same_span(std::string_view traceparent);

// 16 or 32 random lowercase hex digits, never all zeros.
std::string random_hex(std::size_t digits);

} // namespace actors::trace
