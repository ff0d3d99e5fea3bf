#include "actors/log.hpp"

#include <atomic>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace actors::log {

namespace {

std::mutex output_mutex;
std::string service_name = "-";
thread_local std::vector<field> context;
std::atomic<level> min_level{level::info};

const char* name_of(level lvl) {
  switch (lvl) {
    case level::debug: return "debug";
    case level::info: return "info";
    case level::warn: return "warn";
    case level::error: return "error";
  }
  return "?";
}

// Values with spaces, quotes, '=' or control characters are quoted and escaped
// so that every line stays machine-readable.
void append_value(std::string& out, std::string_view value) {
  bool plain = !value.empty();
  for (unsigned char c : value)
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f)
      plain = false;
  if (plain) {
    out += value;
    return;
  }
  out += '"';
  for (unsigned char c : value) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < ' ' || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

void append_pair(std::string& out, std::string_view key, std::string_view value) {
  out += ' ';
  out += key;
  out += '=';
  append_value(out, value);
}

} // namespace

std::string utc_time(std::chrono::system_clock::time_point at) {
  using namespace std::chrono;
  auto secs = system_clock::to_time_t(at);
  auto millis = duration_cast<milliseconds>(at.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(millis));
  return buf;
}

bool parse_level(std::string_view text, level& out) {
  for (auto lvl : {level::debug, level::info, level::warn, level::error})
    if (text == name_of(lvl)) {
      out = lvl;
      return true;
    }
  return false;
}

void set_service(std::string name) {
  std::lock_guard guard{output_mutex};
  service_name = std::move(name);
}

void set_level(level min) {
  min_level = min;
}

bool enabled(level lvl) {
  return lvl >= min_level.load(std::memory_order_relaxed);
}

field::field(std::string_view key, std::string_view value) : key(key), value(value) {}
field::field(std::string_view key, const std::string& value) : key(key), value(value) {}
field::field(std::string_view key, const char* value) : key(key), value(value) {}
field::field(std::string_view key, bool value) : key(key), value(value ? "true" : "false") {}
field::field(std::string_view key, std::chrono::milliseconds value)
  : key(std::string{key} + "_ms"), value(std::to_string(value.count())) {}
field::field(std::string_view key, double value) : key(key) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", value);
  this->value = buf;
}

std::string format(level lvl, std::string_view actor, std::string_view event,
                   std::span<const field> fields) {
  std::string line = "ts=" + utc_time(std::chrono::system_clock::now());
  append_pair(line, "level", name_of(lvl));
  {
    std::lock_guard guard{output_mutex};
    append_pair(line, "service", service_name);
  }
  append_pair(line, "actor", actor);
  append_pair(line, "event", event);
  for (auto& f : fields)
    append_pair(line, f.key, f.value);
  for (auto& f : context)
    append_pair(line, f.key, f.value);
  line += '\n';
  return line;
}

void set_context(std::vector<field> fields) {
  context = std::move(fields);
}

void clear_context() {
  context.clear();
}

context_scope::context_scope(std::vector<field> fields) : previous_(std::move(context)) {
  context = std::move(fields);
}

context_scope::~context_scope() {
  context = std::move(previous_);
}

namespace {

// Whole lines, so that lines of different threads never interleave.
void put(std::string_view lines) {
  std::lock_guard guard{output_mutex};
  std::fwrite(lines.data(), 1, lines.size(), stdout);
  std::fflush(stdout);
}

} // namespace

void write(level lvl, std::string_view actor, std::string_view event,
           std::span<const field> fields) {
  if (enabled(lvl))
    put(format(lvl, actor, event, fields));
}

void batch::add(level lvl, std::string_view actor, std::string_view event,
                std::span<const field> fields) {
  if (enabled(lvl))
    lines_ += format(lvl, actor, event, fields);
}

void batch::flush() {
  if (lines_.empty())
    return;
  put(lines_);
  lines_.clear();
}

} // namespace actors::log
