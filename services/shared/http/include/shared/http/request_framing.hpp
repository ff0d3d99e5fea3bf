#pragma once
// Where a request ends on the wire, decided by the server before cpp-httplib
// sees a byte of it, and the limits that refuse it on the way:
//   request line longer than max_request_line (with its CRLF)         414
//   a field line longer than max_header_line, more than
//   max_header_count fields, field lines over max_header_bytes        431
//   Content-Length, or the payload of a chunked body, over max_body   413
//   chunk framing (size lines, CRLFs) over max_header_bytes           413
//   Content-Encoding other than identity (never inflated)             415
//   Transfer-Encoding other than chunked                              501
//   bare LF, obs-fold, a malformed field or chunk, Content-Length
//   that is not decimal or given twice, Content-Length with
//   Transfer-Encoding, chunk trailers                                 400
// A refused request is answered and its connection closed, so bytes the
// server did not read are never taken for the next request. Parsing is
// stricter than cpp-httplib's own, so what passes means the same to both.
// The two line limits are cpp-httplib's compile-time ones, which it enforces
// again (with 400) when it reads the request.
//
//   request_framer framer{limits};
//   auto v = framer.advance(input);   // again as more input arrives
//   if (v.kind == framing_verdict::complete) serve(input.substr(0, v.size));
#include <httplib.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace shared::http {

struct framing_limits {
  std::size_t max_request_line = CPPHTTPLIB_REQUEST_URI_MAX_LENGTH;
  std::size_t max_header_line = CPPHTTPLIB_HEADER_MAX_LENGTH;
  std::size_t max_header_count = 100;
  std::size_t max_header_bytes = 16 * 1024; // the field lines with their CRLFs
  std::size_t max_body = 64 * 1024;         // payload bytes
};

struct framing_verdict {
  enum kind_t { incomplete, complete, refused };
  kind_t kind = incomplete;
  std::size_t size = 0; // complete: the request is the input's first `size` bytes
  int status = 0;       // refused: the answer; the connection then closes
  std::string detail;
};

class request_framer {
public:
  explicit request_framer(framing_limits limits) : limits_(limits) {}

  // `input` starts with the request and only grows between calls (until
  // reset()); each call examines only what is new. After a refusal every
  // call returns it again.
  framing_verdict advance(std::string_view input);

  // Empty lines a client may send before a request line (RFC 9112 2.2) are
  // not part of the request: drop the input's first skippable() bytes before
  // advance(). 0 once the request line has arrived.
  std::size_t skippable(std::string_view input) const;

  // For the next request on the connection.
  void reset();

  // Once the header block is complete: whether the client waits for
  // "100 Continue" before sending the body it announced.
  bool head_complete() const { return phase_ > phase::fields; }
  bool expects_continue() const { return head_complete() && expects_continue_; }
  // A standard method (GET, POST, ...) or "other"; the X-Request-Id when
  // valid, else empty. Known as soon as their lines arrived.
  const std::string& method() const { return method_; }
  const std::string& request_id() const { return request_id_; }

private:
  enum class phase { request_line, fields, length_body, chunk_size, chunk_data, chunk_crlf,
                     last_crlf, done };

  framing_verdict refuse(int status, std::string detail);
  std::optional<framing_verdict> on_request_line(std::string_view line);
  std::optional<framing_verdict> on_field_line(std::string_view line);
  std::optional<framing_verdict> on_field(std::string_view name, std::string_view value);
  std::optional<framing_verdict> on_head_end();
  std::optional<framing_verdict> on_chunk_size(std::string_view line);
  std::optional<framing_verdict> over_partial_line(std::size_t partial) const;
  framing_verdict advance_body(std::string_view input);
  framing_verdict too_much_framing();

  framing_limits limits_;
  phase phase_ = phase::request_line;
  std::size_t scan_ = 0;        // input before this is examined
  std::size_t fields_start_ = 0;
  std::size_t field_count_ = 0;
  std::size_t body_end_ = 0;    // length_body: where the request ends
  std::uint64_t chunk_left_ = 0;
  std::size_t payload_ = 0;     // chunked: payload bytes announced so far
  std::size_t framing_ = 0;     // chunked: size lines and CRLFs so far
  std::optional<std::uint64_t> content_length_;
  int content_length_count_ = 0;
  std::string transfer_encoding_; // as sent, the values joined by ", "
  std::string content_encoding_;  // the first value other than identity
  bool expects_continue_ = false;
  std::string method_;
  std::string request_id_;
  std::optional<framing_verdict> refused_;
};

} // namespace shared::http
