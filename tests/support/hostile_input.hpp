#pragma once
// Hostile values for the text fields both services read (the rules of
// shared::http::body_reader), and checks that an answer shows no internals.
#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <vector>

namespace support {

struct text_case {
  std::string what;
  std::string json_value; // the value as JSON text, escapes and all
  bool body_error = false; // reported under "$" (the body is not UTF-8 JSON), not the field
};

inline std::string repeated(std::string_view piece, std::size_t times) {
  std::string out;
  for (std::size_t i = 0; i < times; ++i)
    out.append(piece);
  return out;
}

// Each breaks a text field rule: every one is a 400 naming the field (or
// the body, for what is not UTF-8 JSON at all).
inline std::vector<text_case> refused_text_values() {
  return {
    {"NUL only", R"("\u0000")"},
    {"NUL inside", R"("Dock\u0000er")"},
    {"10,000 characters", std::string{"\""}.append(10'000, 'x').append("\"")},
    {"201 two-byte characters", std::string{"\""}.append(repeated("\u00e9", 201)).append("\"")},
    {"BEL", R"("a\u0007b")"},
    {"newline", R"("a\nb")"},
    {"DEL", "\"a\x7f" "b\""},
    {"C1 control", R"("a\u0085b")"},
    {"no-break spaces only", R"("\u00a0\u00a0\u00a0")"},
    {"ideographic space and BOM only", R"("\u3000\ufeff")"},
    {"empty", R"("")"},
    {"lone surrogate escape", R"("\ud800")", true},
    {"invalid UTF-8", "\"a\xc3\x28\"", true},
    {"overlong UTF-8 NUL", "\"a\xc0\x80\"", true},
  };
}

// 200 code points of 3- and 4-byte characters (700 bytes): the longest
// accepted value, stored and answered exactly.
inline std::string longest_multibyte_value() {
  return repeated("\u20ac\U0001F680", 100);
}

inline std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// The first word of a database's, a library's or the runtime's error text
// found in `body` (lower-cased comparison); "" when there is none.
inline std::string internal_text_in(const std::string& body) {
  static const char* const words[] = {
    "sqlstate", "violates", "check constraint", "insert into", "select ", "while executing",
    "postgres", "libpq", "soci", "sqlite", "connection to server", "cannot establish",
    "unhandled_exception", "deadline_exceeded", "child_unavailable", "request_timeout",
    "caf::", "json.exception", "parse error", "platform.repository", "command.repository"};
  auto text = lower(body);
  for (auto* w : words)
    if (text.find(w) != std::string::npos)
      return w;
  return "";
}

// The sum of every series of `name` in a Prometheus text exposition.
inline double metric_total(const std::string& exposition, const std::string& name) {
  double total = 0;
  std::size_t at = 0;
  while ((at = exposition.find("\n" + name, at)) != std::string::npos) {
    at += 1 + name.size();
    if (exposition[at] != ' ' && exposition[at] != '{')
      continue; // another metric whose name starts the same
    auto value = exposition.find(' ', exposition.find_first_of(" }", at));
    total += std::stod(exposition.substr(value + 1));
  }
  return total;
}

} // namespace support
