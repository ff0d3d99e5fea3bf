// W3C Trace Context: what a valid traceparent is, continuing a trace, and
// the trace fields on each log line of a scope.
#include <actors/log.hpp>
#include <actors/trace.hpp>

#include <gtest/gtest.h>

namespace trace = actors::trace;

namespace {

const std::string valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

} // namespace

TEST(trace, reads_a_valid_traceparent) {
  auto t = trace::parse(valid);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(t->span_id, "00f067aa0ba902b7");
  EXPECT_EQ(t->flags, "01");
  EXPECT_EQ(t->traceparent(), valid);
}

TEST(trace, refuses_what_the_specification_refuses) {
  for (std::string bad : {
         "",
         "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",     // no flags
         "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  // upper case
         "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  // zero trace id
         "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  // zero parent id
         "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // version ff
         "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-", // 00 has four fields
         "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
         "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
       })
    EXPECT_FALSE(trace::parse(bad)) << bad;
  EXPECT_TRUE(trace::parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-later"))
    << "a later version is read by its first four fields";
}

TEST(trace, a_child_continues_the_trace_in_a_new_span) {
  auto child = trace::child_of(valid);
  EXPECT_EQ(child.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(child.flags, "01");
  EXPECT_NE(child.span_id, "00f067aa0ba902b7");
  EXPECT_TRUE(trace::parse(child.traceparent())) << child.traceparent();
}

TEST(trace, without_a_valid_parent_a_new_trace_starts) {
  auto a = trace::child_of("garbage");
  auto b = trace::child_of("");
  EXPECT_TRUE(trace::parse(a.traceparent())) << a.traceparent();
  EXPECT_NE(a.trace_id, b.trace_id);
  EXPECT_TRUE(trace::same_span("garbage").empty());
  EXPECT_EQ(trace::same_span(valid).traceparent(), valid);
}

TEST(trace, a_scope_adds_the_trace_to_each_line_and_restores_the_outer_one) {
  auto outer = trace::same_span(valid);
  actors::log::context_scope a{outer.log_fields()};
  auto line = actors::log::format(actors::log::level::info, "x.y", "e", {});
  EXPECT_NE(line.find(" trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7\n"),
            std::string::npos) << line;
  {
    actors::log::context_scope b{trace::child_of(valid).log_fields()};
    auto inner = actors::log::format(actors::log::level::info, "x.y", "e", {});
    EXPECT_EQ(inner.find("span_id=00f067aa0ba902b7"), std::string::npos) << inner;
  }
  line = actors::log::format(actors::log::level::info, "x.y", "e", {});
  EXPECT_NE(line.find("span_id=00f067aa0ba902b7"), std::string::npos) << line;
}
