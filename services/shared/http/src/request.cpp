#include "shared/http/request.hpp"

#include <cctype>
#include <charconv>
#include <cstdio>
#include <limits>
#include <map>
#include <random>
#include <vector>

namespace shared::http {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i]))
        != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

namespace {

using json = nlohmann::json;

// The code point starting at text[i], advancing i past it; nullopt for an
// ill-formed sequence (RFC 3629: no overlong forms, surrogates or values
// above U+10FFFF).
std::optional<char32_t> next_code_point(std::string_view text, std::size_t& i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char lead = byte(i);
  if (lead < 0x80) {
    ++i;
    return lead;
  }
  std::size_t length = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 0;
  if (length == 0 || lead > 0xf4 || i + length > text.size())
    return std::nullopt;
  char32_t cp = lead & (0x3f >> (length - 1));
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80)
      return std::nullopt;
    cp = (cp << 6) | (byte(i + k) & 0x3f);
  }
  constexpr char32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < smallest[length] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    return std::nullopt;
  i += length;
  return cp;
}

bool control(char32_t c) {
  return c < 0x20 || (c >= 0x7f && c <= 0x9f);
}

// Unicode's White_Space, plus the invisible U+180E, U+200B-U+200D, U+2060
// and U+FEFF: a name of only these looks empty.
bool white_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 || c == 0xa0 || c == 0x1680
         || c == 0x180e || (c >= 0x2000 && c <= 0x200d) || c == 0x2028 || c == 0x2029
         || c == 0x202f || c == 0x205f || c == 0x2060 || c == 0x3000 || c == 0xfeff;
}

std::string hex_code(char32_t c) {
  char text[16];
  std::snprintf(text, sizeof text, "U+%04X", static_cast<unsigned>(c));
  return text;
}

std::string lower(std::string_view s) {
  std::string out{s};
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Where the body stops being UTF-8, if it does.
std::optional<std::size_t> invalid_utf8_at(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    auto at = i;
    if (!next_code_point(text, i))
      return at;
  }
  return std::nullopt;
}

} // namespace

std::optional<std::string> text_field_error(std::string_view field, std::string_view text) {
  std::string the_field = std::string{"The "}.append(field).append(" field ");
  std::size_t count = 0;
  bool blank = true;
  for (std::size_t i = 0; i < text.size();) {
    auto cp = next_code_point(text, i);
    if (!cp)
      return the_field + "is not valid UTF-8.";
    ++count;
    if (control(*cp))
      return the_field + "must not contain control characters (" + hex_code(*cp)
             + " at character " + std::to_string(count) + ").";
    blank = blank && white_space(*cp);
  }
  if (count == 0)
    return the_field + "must not be empty.";
  if (blank)
    return the_field + "must not be blank (it has only white space).";
  if (count > max_text_length)
    return the_field + "must be at most " + std::to_string(max_text_length)
           + " characters (Unicode code points) long; it has " + std::to_string(count) + ".";
  return std::nullopt;
}

body_reader::body_reader(std::string_view body) : failure_(make_problem(400)) {
  if (auto at = invalid_utf8_at(body)) {
    error("$", "The body is not valid UTF-8 (at byte " + std::to_string(*at) + ").");
    return;
  }
  parse(body);
  if (ok() && !object_.is_object())
    error("$", std::string{"The body must be a JSON object, not "} + object_.type_name() + ".");
}

// nlohmann::json keeps the last of repeated names silently: the callback
// sees each name as it is read, one set of names per open object.
void body_reader::parse(std::string_view body) {
  std::vector<std::map<std::string, std::string>> open; // lower case -> as first written
  auto track = [&](int depth, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start)
      open.emplace_back();
    else if (event == json::parse_event_t::object_end)
      open.pop_back();
    else if (event == json::parse_event_t::key) {
      auto& name = parsed.get_ref<const std::string&>();
      auto [first, added] = open.back().emplace(lower(name), name);
      if (!added) {
        if (depth == 1)
          repeated_.insert(first->first);
        error(depth == 1 ? first->second : "$",
              "The property '" + first->second + "' is given more than once ('" + first->second
                + "', '" + name + "'; names match ignoring case).");
      }
    }
    return true;
  };
  try {
    object_ = json::parse(body, track);
  } catch (const json::exception& e) {
    // A syntax error, or a number too large for a double (1e3333333: found by
    // tests/fuzz); only this error counts, what came before may be misread.
    failure_.errors.clear();
    repeated_.clear();
    object_ = nullptr;
    auto* syntax = dynamic_cast<const json::parse_error*>(&e);
    error("$", syntax ? "The body is not valid JSON (at byte " + std::to_string(syntax->byte) + ")."
                      : std::string{"The body is not valid JSON (a number out of range)."});
  }
}

const nlohmann::json* body_reader::find(std::string_view field) const {
  if (!object_.is_object())
    return nullptr;
  if (auto exact = object_.find(field); exact != object_.end())
    return &*exact;
  for (auto it = object_.begin(); it != object_.end(); ++it)
    if (iequals(it.key(), field))
      return &it.value();
  return nullptr;
}

void body_reader::error(std::string field, std::string message) {
  failure_.errors[std::move(field)].push_back(std::move(message));
}

std::string body_reader::required_string(std::string_view field) {
  if (!object_.is_object() || repeated_.count(lower(field)))
    return {};
  auto* value = find(field);
  std::string name{field};
  if (!value || value->is_null()) {
    error(name, "The " + name + " field is required.");
    return {};
  }
  if (!value->is_string()) {
    error(name, "The " + name + " field must be a string, not " + value->type_name() + ".");
    return {};
  }
  auto& text = value->get_ref<const std::string&>();
  if (auto why = text_field_error(name, text)) {
    error(name, std::move(*why));
    return {};
  }
  return text;
}

std::optional<std::int32_t> parse_positive_id(std::string_view text) {
  if (text.empty() || text.front() < '0' || text.front() > '9')
    return std::nullopt;
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < 1
      || value > std::numeric_limits<std::int32_t>::max())
    return std::nullopt;
  return static_cast<std::int32_t>(value);
}

bool is_json_content_type(std::string_view content_type) {
  auto media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && media.back() == ' ')
    media.remove_suffix(1);
  if (iequals(media, "application/json"))
    return true;
  constexpr std::string_view prefix = "application/", suffix = "+json";
  return media.size() > prefix.size() + suffix.size()
         && iequals(media.substr(0, prefix.size()), prefix)
         && iequals(media.substr(media.size() - suffix.size()), suffix);
}

std::string request_id(const httplib::Response& res) {
  return res.get_header_value("X-Request-Id");
}

actors::trace::context trace_of(const httplib::Response& res) {
  return actors::trace::same_span(res.get_header_value("traceresponse"));
}

bool valid_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128)
    return false;
  for (unsigned char c : id)
    if (c <= ' ' || c >= 0x7f)
      return false;
  return true;
}

std::string generate_request_id() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  static constexpr char digits[] = "0123456789abcdef";
  auto bits = engine();
  std::string id(16, '0');
  for (auto& c : id) {
    c = digits[bits & 0xf];
    bits >>= 4;
  }
  return id;
}

} // namespace shared::http
