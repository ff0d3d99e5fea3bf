#include "shared/http/request.hpp"

#include <cctype>
#include <charconv>
#include <limits>
#include <random>

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

bool blank(const std::string& s) {
  return s.find_first_not_of(" \t\r\n") == std::string::npos;
}

} // namespace

body_reader::body_reader(std::string_view body) : failure_(make_problem(400)) {
  try {
    object_ = nlohmann::json::parse(body);
  } catch (const nlohmann::json::parse_error& e) {
    error("$", std::string{"The body is not valid JSON: "} + e.what());
    return;
  }
  if (!object_.is_object())
    error("$", std::string{"The body must be a JSON object, not "} + object_.type_name() + ".");
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
  if (!object_.is_object())
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
  auto text = value->get<std::string>();
  if (blank(text)) {
    error(name, "The " + name + " field must not be empty.");
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
