#pragma once
// Structured logs: one line per event, logfmt (key=value), written atomically
// to stdout:
//   ts=2026-11-25T07:41:02.123Z level=info service=platform-service
//   actor=platform.supervisor event=child_started child=platform.repository
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace actors::log {

enum class level { debug, info, warn, error };

// Parses "debug", "info", "warn" or "error"; false if `text` is none of them.
bool parse_level(std::string_view text, level& out);

void set_service(std::string name);
void set_level(level min);
bool enabled(level lvl);

// A key and its value, rendered once at the call site.
struct field {
  field(std::string_view key, std::string_view value);
  field(std::string_view key, const std::string& value);
  field(std::string_view key, const char* value);
  field(std::string_view key, bool value);
  field(std::string_view key, std::chrono::milliseconds value); // key_ms=N
  template <class Int>
    requires std::is_integral_v<Int>
  field(std::string_view key, Int value) : key(key), value(std::to_string(value)) {}
  field(std::string_view key, double value);

  std::string key;
  std::string value;
};

// Fields added to every line written on this thread while set, after the
// line's own: the trace of the request or event being handled (trace_id,
// span_id). A thread handling one request sets them as it starts; an actor
// handling one message holds a context_scope.
void set_context(std::vector<field> fields);
void clear_context();

class context_scope {
public:
  explicit context_scope(std::vector<field> fields);
  ~context_scope();
  context_scope(const context_scope&) = delete;
  context_scope& operator=(const context_scope&) = delete;

private:
  std::vector<field> previous_;
};

// `at` as the logs write it: 2026-11-25T07:41:02.123Z.
std::string utc_time(std::chrono::system_clock::time_point at);

// Formats one line (without writing it); the writer and the tests share it.
std::string format(level lvl, std::string_view actor, std::string_view event,
                   std::span<const field> fields);

void write(level lvl, std::string_view actor, std::string_view event,
           std::span<const field> fields);

// Lines formatted as they are added (time, level and this thread's context
// then) and written together with one write by flush() or the destructor:
// one system call for a batch of events that each keep their line.
class batch {
public:
  batch() = default;
  ~batch() { flush(); }
  batch(const batch&) = delete;
  batch& operator=(const batch&) = delete;

  void add(level lvl, std::string_view actor, std::string_view event,
           std::span<const field> fields);
  void flush();

private:
  std::string lines_;
};

inline void write(level lvl, std::string_view actor, std::string_view event,
                  std::initializer_list<field> fields = {}) {
  write(lvl, actor, event, std::span<const field>{fields.begin(), fields.size()});
}

inline void debug(std::string_view actor, std::string_view event,
                  std::initializer_list<field> fields = {}) {
  if (enabled(level::debug))
    write(level::debug, actor, event, fields);
}
inline void info(std::string_view actor, std::string_view event,
                 std::initializer_list<field> fields = {}) {
  write(level::info, actor, event, fields);
}
inline void warn(std::string_view actor, std::string_view event,
                 std::initializer_list<field> fields = {}) {
  write(level::warn, actor, event, fields);
}
inline void error(std::string_view actor, std::string_view event,
                  std::initializer_list<field> fields = {}) {
  write(level::error, actor, event, fields);
}

} // namespace actors::log
