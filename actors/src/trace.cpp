#include "actors/trace.hpp"

#include <random>

namespace actors::trace {

namespace {

bool is_hex(std::string_view s, std::size_t digits) {
  if (s.size() != digits)
    return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return false;
  return true;
}

bool all_zeros(std::string_view s) {
  return s.find_first_not_of('0') == std::string_view::npos;
}

} // namespace

std::string context::traceparent() const {
  if (empty())
    return {};
  return std::string{"00-"}.append(trace_id).append("-").append(span_id).append("-").append(
    flags);
}

std::vector<log::field> context::log_fields() const {
  if (empty())
    return {};
  return {{"trace_id", trace_id}, {"span_id", span_id}};
}

std::optional<context> parse(std::string_view text) {
  // version-trace-parent-flags; a later version may append "-..." fields.
  if (text.size() < 55 || (text.size() > 55 && text[55] != '-'))
    return std::nullopt;
  auto version = text.substr(0, 2);
  auto trace_id = text.substr(3, 32);
  auto parent_id = text.substr(36, 16);
  auto flags = text.substr(53, 2);
  if (!is_hex(version, 2) || version == "ff" || text[2] != '-' || text[35] != '-'
      || text[52] != '-' || (version == "00" && text.size() != 55))
    return std::nullopt;
  if (!is_hex(trace_id, 32) || !is_hex(parent_id, 16) || !is_hex(flags, 2)
      || all_zeros(trace_id) || all_zeros(parent_id))
    return std::nullopt;
  return context{std::string{trace_id}, std::string{parent_id}, std::string{flags}};
}

context child_of(std::string_view traceparent) {
  auto parent = parse(traceparent);
  context c;
  c.trace_id = parent ? parent->trace_id : random_hex(32);
  c.span_id = random_hex(16);
  c.flags = parent ? parent->flags : "01";
  return c;
}

context same_span(std::string_view traceparent) {
  return parse(traceparent).value_or(context{});
}

std::string random_hex(std::size_t digits) {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  while (out.empty() || all_zeros(out)) {
    out.clear();
    for (std::size_t i = 0; i < digits; ++i)
      out += hex[engine() & 15];
  }
  return out;
}

} // namespace actors::trace
