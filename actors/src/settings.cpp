#include "actors/settings.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <regex>
#include <sstream>

extern char** environ;

namespace actors {

namespace {

// `Connection:Platforms` and `Connection__Platforms` are the same setting.
std::string normalize(std::string name) {
  for (std::size_t i = 0; (i = name.find(':', i)) != std::string::npos;)
    name.replace(i, 1, "__");
  return name;
}

std::map<std::string, std::string> process_environment() {
  std::map<std::string, std::string> env;
  for (char** p = environ; p && *p; ++p) {
    std::string kv = *p;
    if (auto eq = kv.find('='); eq != std::string::npos)
      env.emplace(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return env;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

} // namespace

std::optional<std::int64_t> parse_integer(const std::string& text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty())
    return std::nullopt;
  return value;
}

std::optional<std::chrono::milliseconds> parse_duration(const std::string& text) {
  static const std::regex form{R"(^(\d{1,12})(ms|s|m|h)?$)"};
  std::smatch m;
  if (!std::regex_match(text, m, form))
    return std::nullopt;
  auto n = std::stoll(m[1].str());
  auto unit = m[2].str();
  if (unit == "s")
    n *= 1000;
  else if (unit == "m")
    n *= 60'000;
  else if (unit == "h")
    n *= 3'600'000;
  return std::chrono::milliseconds{n};
}

std::string format_duration(std::chrono::milliseconds value) {
  auto ms = value.count();
  if (ms != 0 && ms % 3'600'000 == 0)
    return std::to_string(ms / 3'600'000) + "h";
  if (ms != 0 && ms % 60'000 == 0)
    return std::to_string(ms / 60'000) + "m";
  if (ms != 0 && ms % 1000 == 0)
    return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::optional<bool> parse_boolean(const std::string& text) {
  auto t = lower(text);
  if (t == "true" || t == "1" || t == "yes" || t == "on")
    return true;
  if (t == "false" || t == "0" || t == "no" || t == "off")
    return false;
  return std::nullopt;
}

std::string mask_password(const std::string& connection) {
  static const std::regex keyword{R"((password\s*=\s*)('[^']*'|[^\s;]*))", std::regex::icase};
  static const std::regex url{R"((://[^:/@]+:)([^@]*)(@))"};
  auto masked = std::regex_replace(connection, keyword, "$1***");
  return std::regex_replace(masked, url, "$1***$3");
}

settings::settings(int argc, const char* const* argv,
                   std::optional<std::map<std::string, std::string>> env)
  : env_(env ? std::move(*env) : process_environment()) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      help_requested_ = true;
      continue;
    }
    if (arg == "--version") {
      version_requested_ = true;
      continue;
    }
    if (arg.rfind("--", 0) != 0 || arg.size() == 2) {
      problems_.push_back("argument '" + arg + "': expected --Name=value");
      continue;
    }
    auto body = arg.substr(2);
    auto eq = body.find('=');
    if (eq != std::string::npos) {
      flags_[normalize(body.substr(0, eq))] = body.substr(eq + 1);
    } else if (i + 1 < argc) {
      flags_[normalize(body)] = argv[++i];
    } else {
      problems_.push_back("flag --" + body + ": missing value");
    }
  }
}

std::optional<std::string> settings::raw(const std::string& name) {
  auto key = normalize(name);
  if (auto i = flags_.find(key); i != flags_.end()) {
    used_flags_[key] = true;
    return i->second;
  }
  if (auto i = env_.find(key); i != env_.end())
    return i->second;
  return std::nullopt;
}

void settings::record(const std::string& name, std::string type, const std::string& help,
                      std::string shown, std::string fallback) {
  declared_.push_back({name, std::move(type), help, std::move(shown), std::move(fallback)});
}

void settings::problem(const std::string& name, const std::string& value,
                       const std::string& what) {
  problems_.push_back(name + "='" + value + "': " + what);
}

std::string settings::text(const std::string& name, const std::string& fallback,
                           const std::string& help) {
  auto value = raw(name).value_or(fallback);
  if (value.empty())
    problem(name, value, "must not be empty");
  record(name, "text", help, value, fallback);
  return value;
}

std::string settings::optional_text(const std::string& name, const std::string& help) {
  auto value = raw(name).value_or("");
  record(name, "text", help, value, "");
  return value;
}

std::string settings::secret(const std::string& name, const std::string& fallback,
                             const std::string& help) {
  auto value = raw(name).value_or(fallback);
  record(name, "secret", help, value.empty() ? "" : "***", fallback.empty() ? "" : "***");
  return value;
}

std::string settings::connection_string(const std::string& name, const std::string& fallback,
                                        const std::string& help) {
  auto value = raw(name).value_or(fallback);
  if (value.empty())
    problem(name, value, "must not be empty");
  record(name, "connection string", help, mask_password(value), mask_password(fallback));
  return value;
}

std::string settings::choice(const std::string& name, const std::string& fallback,
                             const std::vector<std::string>& allowed, const std::string& help) {
  auto value = raw(name).value_or(fallback);
  if (std::find(allowed.begin(), allowed.end(), value) == allowed.end()) {
    std::string list;
    for (auto& a : allowed)
      list += (list.empty() ? "" : ", ") + a;
    problem(name, value, "expected one of " + list);
    value = fallback;
  }
  std::string type;
  for (auto& a : allowed)
    type.append(type.empty() ? "" : "|").append(a);
  record(name, std::move(type), help, value, fallback);
  return value;
}

std::int64_t settings::integer(const std::string& name, std::int64_t fallback, std::int64_t min,
                               std::int64_t max, const std::string& help) {
  auto text = raw(name);
  auto value = fallback;
  if (text) {
    auto parsed = parse_integer(*text);
    if (!parsed)
      problem(name, *text, "not an integer");
    else if (*parsed < min || *parsed > max)
      problem(name, *text,
              "out of range [" + std::to_string(min) + ", " + std::to_string(max) + "]");
    else
      value = *parsed;
  }
  auto type = std::string{"integer "}.append(std::to_string(min)).append("..").append(
    std::to_string(max));
  record(name, std::move(type), help, std::to_string(value), std::to_string(fallback));
  return value;
}

std::uint16_t settings::port(const std::string& name, std::uint16_t fallback,
                             const std::string& help) {
  return static_cast<std::uint16_t>(integer(name, fallback, 1, 65535, help));
}

bool settings::boolean(const std::string& name, bool fallback, const std::string& help) {
  auto text = raw(name);
  auto value = fallback;
  if (text) {
    if (auto parsed = parse_boolean(*text))
      value = *parsed;
    else
      problem(name, *text, "not a boolean (true/false)");
  }
  record(name, "boolean", help, value ? "true" : "false", fallback ? "true" : "false");
  return value;
}

std::chrono::milliseconds settings::duration(const std::string& name,
                                             std::chrono::milliseconds fallback,
                                             const std::string& help) {
  auto text = raw(name);
  auto value = fallback;
  if (text) {
    if (auto parsed = parse_duration(*text))
      value = *parsed;
    else
      problem(name, *text, "not a duration (e.g. 250ms, 2s, 5m)");
  }
  record(name, "duration", help, format_duration(value), format_duration(fallback));
  return value;
}

void settings::finish() const {
  auto problems = problems_;
  for (auto& [flag, value] : flags_)
    if (!used_flags_.count(flag))
      problems.push_back("flag --" + flag + ": unknown setting (see --help)");
  if (problems.empty())
    return;
  std::ostringstream out;
  out << "invalid settings:";
  for (auto& p : problems)
    out << "\n  " << p;
  throw settings_error(out.str());
}

std::string settings::usage(const std::string& program) const {
  std::ostringstream out;
  out << "usage: " << program << " [--Name=value ...] [--help] [--version]\n"
      << "Each setting comes from its flag (--Name=value or --Name value), else the\n"
      << "environment variable of the same name (`__` nests: a flag may write it `:`),\n"
      << "else its default.\n\n";
  auto flag = [](const declared& d) { return "--" + d.name + " <" + d.type + ">"; };
  std::size_t width = 0;
  for (auto& d : declared_)
    width = std::max(width, flag(d).size());
  const std::string indent(2 + width + 2, ' ');
  for (auto& d : declared_) {
    auto left = flag(d);
    out << "  " << left << std::string(width - left.size() + 2, ' ') << d.help << '\n'
        << indent << "default: " << (d.fallback.empty() ? "none" : d.fallback)
        << ", env: " << d.name << '\n';
  }
  return out.str();
}

std::vector<log::field> settings::masked() const {
  std::vector<log::field> fields;
  for (auto& d : declared_)
    fields.emplace_back(d.name, d.shown);
  return fields;
}

} // namespace actors
