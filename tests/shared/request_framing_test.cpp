// request_framer: where a request ends and which limits refuse it, fed all at
// once and byte by byte.
#include <shared/http/request_framing.hpp>

#include <gtest/gtest.h>

#include <string>

using namespace shared::http;

namespace {

framing_limits small_limits() {
  framing_limits l;
  l.max_request_line = 64;
  l.max_header_line = 48;
  l.max_header_count = 4;
  l.max_header_bytes = 128;
  l.max_body = 32;
  return l;
}

framing_verdict frame(const std::string& input, framing_limits limits = small_limits()) {
  request_framer f{limits};
  return f.advance(input);
}

// The same input one byte at a time: the verdict once it is decided.
framing_verdict frame_bytewise(const std::string& input, framing_limits limits = small_limits()) {
  request_framer f{limits};
  framing_verdict v;
  for (std::size_t n = 1; n <= input.size() && v.kind == framing_verdict::incomplete; ++n)
    v = f.advance(std::string_view{input}.substr(0, n));
  return v;
}

void expect_refused(const std::string& input, int status, const std::string& detail_part) {
  for (auto v : {frame(input), frame_bytewise(input)}) {
    EXPECT_EQ(v.kind, framing_verdict::refused) << input;
    EXPECT_EQ(v.status, status) << input;
    EXPECT_NE(v.detail.find(detail_part), std::string::npos) << v.detail;
  }
}

void expect_complete(const std::string& input, std::size_t size) {
  for (auto v : {frame(input), frame_bytewise(input)}) {
    EXPECT_EQ(v.kind, framing_verdict::complete) << input << v.detail;
    EXPECT_EQ(v.size, size) << input;
  }
}

const std::string get = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";

} // namespace

TEST(request_framer, a_request_without_body_ends_after_its_empty_line) {
  expect_complete(get, get.size());
  expect_complete(get + "GET /b HTTP/1.1\r\n", get.size()); // pipelined bytes are not part of it
  EXPECT_EQ(frame(get.substr(0, get.size() - 1)).kind, framing_verdict::incomplete);
}

TEST(request_framer, content_length_body_is_part_of_the_request_whatever_the_method) {
  std::string head = "GET /a HTTP/1.1\r\nContent-Length: 5\r\n\r\n";
  EXPECT_EQ(frame(head + "1234").kind, framing_verdict::incomplete);
  // A GET's body is read and dropped, never taken for the next request.
  expect_complete(head + "12345GET /b HTTP/1.1\r\n\r\n", head.size() + 5);
}

TEST(request_framer, chunked_body_ends_after_its_last_chunk) {
  std::string head = "POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  std::string body = "5\r\nhello\r\n1a;ext=1\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n";
  expect_complete(head + body + "GET", head.size() + body.size());
  EXPECT_EQ(frame(head + body.substr(0, body.size() - 1)).kind, framing_verdict::incomplete);
}

TEST(request_framer, request_line_over_its_limit_is_414_before_it_ends) {
  expect_refused("GET /" + std::string(70, 'a'), 414, "longer than 64 bytes");
  // 64 bytes with the CRLF pass; 65 do not.
  expect_refused("GET /" + std::string(49, 'a') + " HTTP/1.1\r\n\r\n", 414, "request line");
  auto longest = "GET /" + std::string(48, 'a') + " HTTP/1.1\r\n\r\n";
  expect_complete(longest, longest.size());
}

TEST(request_framer, header_count_size_and_line_limits_are_431) {
  std::string four = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n";
  expect_complete(four, four.size());
  expect_refused("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n", 431,
                 "More than 4 header fields");
  expect_refused("GET / HTTP/1.1\r\nA: " + std::string(60, 'v'), 431, "longer than 48 bytes");
  std::string v(40, 'v');
  expect_refused("GET / HTTP/1.1\r\nA: " + v + "\r\nB: " + v + "\r\nC: " + v + "\r\nD: " + v, 431,
                 "larger than 128 bytes");
}

TEST(request_framer, body_over_the_cap_is_413_as_soon_as_it_is_announced) {
  expect_refused("POST / HTTP/1.1\r\nContent-Length: 33\r\n\r\n", 413, "larger than 32 bytes");
  auto at_cap = "POST / HTTP/1.1\r\nContent-Length: 32\r\n\r\n" + std::string(32, 'x');
  expect_complete(at_cap, at_cap.size());
  std::string chunked = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  // The second chunk would pass the cap: refused before its data arrives.
  expect_refused(chunked + "10\r\n" + std::string(16, 'x') + "\r\n11\r\n", 413,
                 "larger than 32 bytes");
  auto chunked_at_cap = chunked + "20\r\n" + std::string(32, 'x') + "\r\n0\r\n\r\n";
  expect_complete(chunked_at_cap, chunked_at_cap.size());
  // Many tiny chunks: the framing, not the payload, passes its limit.
  std::string tiny;
  for (int i = 0; i < 30; ++i)
    tiny += "1;padding-padding\r\nx\r\n";
  expect_refused(chunked + tiny, 413, "chunk framing");
}

TEST(request_framer, compressed_bodies_are_415_naming_the_encoding) {
  expect_refused("POST / HTTP/1.1\r\nContent-Encoding: gzip\r\nContent-Length: 3\r\n\r\n", 415,
                 "'gzip'");
  expect_refused("POST / HTTP/1.1\r\nContent-Encoding: identity\r\nContent-Encoding: br\r\n\r\n",
                 415, "'br'");
  std::string identity = "POST / HTTP/1.1\r\nContent-Encoding: Identity\r\nContent-Length: 1\r\n\r\nx";
  expect_complete(identity, identity.size());
}

TEST(request_framer, ambiguous_framing_is_refused) {
  expect_refused("GET / HTTP/1.1\nHost: x\r\n\r\n", 400, "CRLF");
  expect_refused("GET / HTTP/1.1\r\nHost: x\n\r\n", 400, "CRLF");
  expect_refused("GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400, "Name: value");
  expect_refused("GET / HTTP/1.1\r\nContent-Length : 5\r\n\r\n", 400, "Name: value");
  expect_refused("GET / HTTP/1.1\r\nX: a\x01" "b\r\n\r\n", 400, "control characters");
  expect_refused("GET / HTTP/1.1\r\nContent-Length: 0x5\r\n\r\n", 400, "Content-Length");
  expect_refused("GET / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", 400,
                 "Content-Length");
  expect_refused("GET / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
                 400, "both");
  expect_refused("GET / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501,
                 "'gzip, chunked'");
  expect_refused("GET / HTTP/2.0\r\n\r\n", 400, "request line");
  expect_refused("GET /\r\n\r\n", 400, "request line");
  std::string chunked = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  expect_refused(chunked + "+5\r\nhello\r\n0\r\n\r\n", 400, "chunk size");
  expect_refused(chunked + "5 \r\nhello\r\n0\r\n\r\n", 400, "chunk size");
  expect_refused(chunked + "5\r\nhelloX\r\n0\r\n\r\n", 400, "CRLF");
  expect_refused(chunked + "0\r\nTrailer: x\r\n\r\n", 400, "trailers");
}

TEST(request_framer, keeps_its_refusal_and_starts_over_after_reset) {
  request_framer f{small_limits()};
  auto v = f.advance("GET / HTTP/1.1\r\nContent-Length: 99\r\n\r\n");
  EXPECT_EQ(v.status, 413);
  EXPECT_EQ(f.advance("anything").status, 413);
  f.reset();
  EXPECT_EQ(f.advance(get).kind, framing_verdict::complete);
}

TEST(request_framer, knows_method_request_id_and_expect_continue) {
  request_framer f{small_limits()};
  std::string head = "POST / HTTP/1.1\r\nX-Request-Id: abc\r\nExpect: 100-continue\r\n"
                     "Content-Length: 3\r\n\r\n";
  f.advance(head.substr(0, head.size() - 2));
  EXPECT_FALSE(f.expects_continue()); // not before the head is whole and accepted
  f.advance(head);
  EXPECT_TRUE(f.head_complete());
  EXPECT_TRUE(f.expects_continue());
  EXPECT_EQ(f.method(), "POST");
  EXPECT_EQ(f.request_id(), "abc");
  request_framer g{small_limits()};
  g.advance("BREW / HTTP/1.1\r\nX-Request-Id: has space\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_FALSE(g.expects_continue()); // no body to wait for
  EXPECT_EQ(g.method(), "other");
  EXPECT_EQ(g.request_id(), "");
  request_framer refused{small_limits()};
  refused.advance("POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 99\r\n\r\n");
  EXPECT_FALSE(refused.expects_continue()); // answered 413 instead
}

TEST(request_framer, empty_lines_before_a_request_are_skippable) {
  request_framer f{small_limits()};
  EXPECT_EQ(f.skippable("\r\n\r\nGET"), 4u);
  EXPECT_EQ(f.skippable("GET"), 0u);
  f.advance(get);
  EXPECT_EQ(f.skippable("\r\n"), 0u); // past the request line they are the request's
}
