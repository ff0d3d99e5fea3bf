#pragma once
// The gRPC client of the Platform Service's GrpcPlatform (the course's
// contract): plaintext for http:// (or a bare host:port), TLS with a given CA
// for https://. Reads the catalogue page by page through StreamAllPlatforms,
// or through the course's GetAllPlatforms from a peer that has no stream.
#include "model.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

class GrpcPlatform;

namespace command {

struct grpc_target {
  std::string target; // "host:port"
  bool tls = false;
};

// "http://h:666" -> {"h:666", false}; "https://h:666" -> {"h:666", true};
// "h:666" -> plaintext; nullopt when there is no host:port.
std::optional<grpc_target> parse_grpc_address(const std::string& address);

class sync_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// How a sync got the platforms: the name of the RPC.
enum class sync_method { stream_all_platforms, get_all_platforms };
const char* to_string(sync_method m);

class platform_client {
public:
  // `ca_pem`: the root certificates for TLS (ignored for plaintext).
  // `max_message_bytes`: the largest message accepted (the course's
  // GetAllPlatforms answers the whole catalogue in one).
  platform_client(const grpc_target& target, const std::string& ca_pem,
                  std::size_t max_message_bytes);
  ~platform_client();

  using page_handler = std::function<void(std::vector<platform>)>;

  // Every platform, in pages of at most `page_size` given to `take` one at a
  // time as they arrive, so memory stays one page: through
  // StreamAllPlatforms, or, from a peer without it (UNIMPLEMENTED: the
  // course's own service), through GetAllPlatforms cut into pages.
  // `deadline` bounds the wait for each page of the stream (which lasts as
  // long as pages keep coming), and GetAllPlatforms as a whole. Throws
  // sync_error naming the target, the RPC and the gRPC status; what `take`
  // throws ends the call and passes through. `traceparent` (W3C, may be
  // empty) goes to the server as metadata, so its log lines join the trace.
  sync_method fetch_all(std::chrono::milliseconds deadline, const page_handler& take,
                        const std::string& traceparent = {});

  // The server's largest page (about 370 KB a page, 15 round trips for
  // 150,000 platforms).
  static constexpr int page_size = 10'000;

private:
  void get_all(std::chrono::milliseconds deadline, const page_handler& take,
               const std::string& traceparent);

  struct impl;
  std::string target_;
  std::unique_ptr<impl> impl_;
};

} // namespace command
