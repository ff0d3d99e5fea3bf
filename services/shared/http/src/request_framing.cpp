#include "shared/http/request_framing.hpp"

#include "shared/http/request.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace shared::http {

namespace {

constexpr std::string_view crlf = "\r\n";

// cpp-httplib answers other methods 400 itself; in labels they are "other".
constexpr std::array<std::string_view, 9> methods = {"GET", "HEAD", "POST", "PUT", "DELETE",
                                                     "CONNECT", "OPTIONS", "TRACE", "PATCH"};

bool is_token_char(char c) {
  auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) || std::string_view{"!#$%&'*+-.^_`|~"}.find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_token_char);
}

// Visible ASCII, spaces, tabs and obs-text; no other control characters.
bool is_field_value(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
  });
}

std::string_view trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos)
    return {};
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

// 1-18 decimal digits (no sign, no spaces): no overflow, and what
// cpp-httplib's strtoull reads the same.
std::optional<std::uint64_t> parse_decimal(std::string_view s) {
  if (s.empty() || s.size() > 18)
    return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9')
      return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

std::string bytes(std::size_t n) {
  return std::to_string(n) + " bytes";
}

} // namespace

framing_verdict request_framer::refuse(int status, std::string detail) {
  refused_ = framing_verdict{framing_verdict::refused, 0, status, std::move(detail)};
  return *refused_;
}

std::size_t request_framer::skippable(std::string_view input) const {
  std::size_t n = 0;
  if (phase_ == phase::request_line)
    while (input.substr(n, 2) == crlf)
      n += 2;
  return n;
}

void request_framer::reset() {
  *this = request_framer{limits_};
}

// A line (or header block) that has not ended yet but is already too long.
std::optional<framing_verdict> request_framer::over_partial_line(std::size_t partial) const {
  framing_verdict v{framing_verdict::refused, 0, 0, {}};
  if (phase_ == phase::request_line && partial > limits_.max_request_line) {
    v.status = 414;
    v.detail = "The request line is longer than " + bytes(limits_.max_request_line) + ".";
  } else if (phase_ == phase::fields && partial > limits_.max_header_line) {
    v.status = 431;
    v.detail = "A header field is longer than " + bytes(limits_.max_header_line) + ".";
  } else {
    return std::nullopt;
  }
  return v;
}

framing_verdict request_framer::advance(std::string_view input) {
  if (refused_)
    return *refused_;
  while (phase_ == phase::request_line || phase_ == phase::fields) {
    auto nl = input.find('\n', scan_);
    auto line_start = scan_;
    if (nl == std::string_view::npos) {
      if (auto v = over_partial_line(input.size() - line_start)) {
        refused_ = v;
        return *v;
      }
      if (phase_ == phase::fields && input.size() - fields_start_ > limits_.max_header_bytes)
        return refuse(431, "The header fields are larger than " + bytes(limits_.max_header_bytes)
                             + ".");
      return {};
    }
    scan_ = nl + 1;
    auto line = input.substr(line_start, scan_ - line_start);
    auto v = phase_ == phase::request_line ? on_request_line(line) : on_field_line(line);
    if (v)
      return *v;
  }
  return advance_body(input);
}

std::optional<framing_verdict> request_framer::on_request_line(std::string_view line) {
  if (line.size() > limits_.max_request_line)
    return refuse(414, "The request line is longer than " + bytes(limits_.max_request_line) + ".");
  if (!line.ends_with(crlf))
    return refuse(400, "Lines must end with CRLF.");
  line.remove_suffix(2);
  auto sp1 = line.find(' ');
  auto sp2 = line.rfind(' ');
  auto version = sp2 == std::string_view::npos ? std::string_view{} : line.substr(sp2 + 1);
  if (sp1 == sp2 || (version != "HTTP/1.1" && version != "HTTP/1.0"))
    return refuse(400, "The request line is not 'METHOD target HTTP/1.1'.");
  auto method = line.substr(0, sp1);
  method_ = std::find(methods.begin(), methods.end(), method) != methods.end() ? method : "other";
  phase_ = phase::fields;
  fields_start_ = scan_;
  return std::nullopt;
}

std::optional<framing_verdict> request_framer::on_field_line(std::string_view line) {
  if (line == crlf)
    return on_head_end();
  if (line.size() > limits_.max_header_line)
    return refuse(431, "A header field is longer than " + bytes(limits_.max_header_line) + ".");
  if (++field_count_ > limits_.max_header_count)
    return refuse(431, "More than " + std::to_string(limits_.max_header_count)
                         + " header fields.");
  if (scan_ - fields_start_ > limits_.max_header_bytes)
    return refuse(431, "The header fields are larger than " + bytes(limits_.max_header_bytes)
                         + ".");
  if (!line.ends_with(crlf))
    return refuse(400, "Lines must end with CRLF.");
  line.remove_suffix(2);
  auto colon = line.find(':');
  auto name = line.substr(0, colon);
  // A name with spaces (or a folded line) would not mean the same to cpp-httplib.
  if (colon == std::string_view::npos || !is_token(name))
    return refuse(400, "A header field is not 'Name: value'.");
  auto value = trim(line.substr(colon + 1));
  if (!is_field_value(value))
    return refuse(400, "The " + std::string{name} + " header has control characters.");
  return on_field(name, value);
}

std::optional<framing_verdict> request_framer::on_field(std::string_view name,
                                                        std::string_view value) {
  if (iequals(name, "Content-Length")) {
    content_length_ = parse_decimal(value);
    if (!content_length_ || ++content_length_count_ > 1)
      return refuse(400, "Content-Length must be one decimal number.");
  } else if (iequals(name, "Transfer-Encoding")) {
    transfer_encoding_ += (transfer_encoding_.empty() ? "" : ", ") + std::string{value};
  } else if (iequals(name, "Content-Encoding")) {
    if (!value.empty() && !iequals(value, "identity") && content_encoding_.empty())
      content_encoding_ = value;
  } else if (iequals(name, "Expect")) {
    expects_continue_ = iequals(value, "100-continue");
  } else if (iequals(name, "X-Request-Id") && valid_request_id(value)) {
    request_id_ = value;
  }
  return std::nullopt;
}

std::optional<framing_verdict> request_framer::on_head_end() {
  bool chunked = !transfer_encoding_.empty();
  if (chunked && content_length_)
    return refuse(400, "Content-Length and Transfer-Encoding cannot both be given.");
  if (chunked && !iequals(transfer_encoding_, "chunked"))
    return refuse(501, "Transfer-Encoding '" + transfer_encoding_
                         + "' is not supported; only chunked.");
  if (!content_encoding_.empty())
    return refuse(415, "Content-Encoding '" + content_encoding_
                         + "' is not accepted; send the body uncompressed.");
  if (content_length_ && *content_length_ > limits_.max_body)
    return refuse(413, "The body is larger than " + bytes(limits_.max_body) + ".");
  expects_continue_ = expects_continue_ && (chunked || content_length_.value_or(0) > 0);
  body_end_ = scan_ + content_length_.value_or(0);
  phase_ = chunked ? phase::chunk_size : phase::length_body;
  return std::nullopt;
}

framing_verdict request_framer::too_much_framing() {
  return refuse(413, "The chunk framing is larger than " + bytes(limits_.max_header_bytes) + ".");
}

// "1a;ext=x\r\n": hex digits, an optional extension, CRLF.
std::optional<framing_verdict> request_framer::on_chunk_size(std::string_view line) {
  line.remove_suffix(1); // '\n'
  std::uint64_t size = 0;
  std::size_t digits = 0;
  for (; digits < line.size() && hex_digit(line[digits]) >= 0; ++digits)
    size = size * 16 + static_cast<std::uint64_t>(hex_digit(line[digits]));
  auto rest = line.substr(digits);
  if (digits == 0 || digits > 15 || !rest.ends_with('\r') || (rest.size() > 1 && rest[0] != ';')
      || !is_field_value(rest.substr(0, rest.size() - 1)))
    return refuse(400, "Malformed chunk size line.");
  if (size > limits_.max_body - payload_)
    return refuse(413, "The body is larger than " + bytes(limits_.max_body) + ".");
  payload_ += static_cast<std::size_t>(size);
  chunk_left_ = size;
  phase_ = size == 0 ? phase::last_crlf : phase::chunk_data;
  return std::nullopt;
}

framing_verdict request_framer::advance_body(std::string_view input) {
  for (;;) {
    switch (phase_) {
      case phase::length_body:
        if (input.size() < body_end_)
          return {};
        phase_ = phase::done;
        scan_ = body_end_;
        break;
      case phase::chunk_size: {
        auto nl = input.find('\n', scan_);
        auto end = nl == std::string_view::npos ? input.size() : nl + 1;
        if (framing_ + (end - scan_) > limits_.max_header_bytes)
          return too_much_framing();
        if (nl == std::string_view::npos)
          return {}; // read again from scan_ when more arrives: the line is short
        framing_ += end - scan_;
        auto line = input.substr(scan_, end - scan_);
        scan_ = end;
        if (auto v = on_chunk_size(line))
          return *v;
        break;
      }
      case phase::chunk_data: {
        auto take = std::min<std::uint64_t>(chunk_left_, input.size() - scan_);
        scan_ += static_cast<std::size_t>(take);
        chunk_left_ -= take;
        if (chunk_left_ > 0)
          return {};
        phase_ = phase::chunk_crlf;
        break;
      }
      case phase::chunk_crlf:
      case phase::last_crlf:
        if (input.size() - scan_ < 2)
          return {};
        if (input.substr(scan_, 2) != crlf)
          return refuse(400, phase_ == phase::last_crlf ? "Chunk trailers are not accepted."
                                                        : "A chunk does not end with CRLF.");
        scan_ += 2;
        framing_ += 2;
        if (framing_ > limits_.max_header_bytes)
          return too_much_framing();
        phase_ = phase_ == phase::last_crlf ? phase::done : phase::chunk_size;
        break;
      case phase::done: return {framing_verdict::complete, scan_, 0, {}};
      default: return {};
    }
  }
}

} // namespace shared::http
