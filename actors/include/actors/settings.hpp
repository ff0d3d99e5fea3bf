#pragma once
// Settings: each value from a command-line flag (`--Name=value` or
// `--Name value`), else an environment variable of the same name, else its
// default. Names are the course's (ASP.NET style: `__` nests, and a flag may
// write it `:`). Problems are collected; `finish()` reports them all at once,
// naming each setting and what was wrong, so a bad value stops start-up.
#include "actors/log.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace actors {

class settings_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

class settings {
public:
  // `env` is the process environment by default; tests pass their own.
  settings(int argc, const char* const* argv,
           std::optional<std::map<std::string, std::string>> env = std::nullopt);

  std::string text(const std::string& name, const std::string& fallback,
                   const std::string& help);
  // May be empty (not set): for optional paths and addresses.
  std::string optional_text(const std::string& name, const std::string& help);
  // Logged as "***".
  std::string secret(const std::string& name, const std::string& fallback,
                     const std::string& help);
  // A libpq/SOCI connection string; its password is masked in logs.
  std::string connection_string(const std::string& name, const std::string& fallback,
                                const std::string& help);
  // One of `allowed` (exact match).
  std::string choice(const std::string& name, const std::string& fallback,
                     const std::vector<std::string>& allowed, const std::string& help);
  std::int64_t integer(const std::string& name, std::int64_t fallback, std::int64_t min,
                       std::int64_t max, const std::string& help);
  std::uint16_t port(const std::string& name, std::uint16_t fallback, const std::string& help);
  bool boolean(const std::string& name, bool fallback, const std::string& help);
  // "250ms", "2s", "5m"; a bare number is milliseconds.
  std::chrono::milliseconds duration(const std::string& name, std::chrono::milliseconds fallback,
                                     const std::string& help);

  // Reports a value the service's own validation rejected, with the others.
  void reject(const std::string& name, const std::string& value, const std::string& what) {
    problem(name, value, what);
  }

  bool help_requested() const { return help_requested_; }
  bool version_requested() const { return version_requested_; }
  // Each setting: its flag and type, then aligned below its help, default and
  // environment variable.
  std::string usage(const std::string& program) const;

  // Throws settings_error listing every problem, unknown flags included.
  void finish() const;

  // Every setting read, secrets masked, for the start-up log line.
  std::vector<log::field> masked() const;

private:
  struct declared {
    std::string name;
    std::string type; // "duration", "integer 1..64", "debug|info|warn|error"
    std::string help;
    std::string shown; // value as logged (masked when secret)
    std::string fallback;
  };

  std::optional<std::string> raw(const std::string& name);
  void record(const std::string& name, std::string type, const std::string& help,
              std::string shown, std::string fallback);
  void problem(const std::string& name, const std::string& value, const std::string& what);

  std::map<std::string, std::string> flags_; // normalized name -> value
  std::map<std::string, std::string> env_;
  std::map<std::string, bool> used_flags_;
  std::vector<declared> declared_;
  std::vector<std::string> problems_;
  bool help_requested_ = false;
  bool version_requested_ = false;
};

// Parsers shared by settings and tests; nullopt when the text is malformed.
std::optional<std::chrono::milliseconds> parse_duration(const std::string& text);
// The largest whole unit: 10000ms -> "10s", 300000ms -> "5m", 250ms -> "250ms".
std::string format_duration(std::chrono::milliseconds value);
std::optional<std::int64_t> parse_integer(const std::string& text);
std::optional<bool> parse_boolean(const std::string& text);
// "host=db password=x user=u" -> "host=db password=*** user=u" (also URL form).
std::string mask_password(const std::string& connection);

} // namespace actors
