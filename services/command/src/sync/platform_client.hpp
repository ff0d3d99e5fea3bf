#pragma once
// The gRPC client of the Platform Service's GrpcPlatform (the course's
// contract): plaintext for http:// (or a bare host:port), TLS with a given CA
// for https://.
#include "model.hpp"

#include <chrono>
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

class platform_client {
public:
  // `ca_pem`: the root certificates for TLS (ignored for plaintext).
  platform_client(const grpc_target& target, const std::string& ca_pem);
  ~platform_client();

  // GetAllPlatforms within `deadline`; throws sync_error naming the target
  // and the gRPC status.
  std::vector<platform> fetch_all(std::chrono::milliseconds deadline);

private:
  struct impl;
  std::string target_;
  std::unique_ptr<impl> impl_;
};

} // namespace command
