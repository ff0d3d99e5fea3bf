#include "sync/platform_client.hpp"

#include "platforms.grpc.pb.h"

#include <grpcpp/grpcpp.h>

namespace command {

std::optional<grpc_target> parse_grpc_address(const std::string& address) {
  grpc_target out;
  auto rest = address;
  if (rest.rfind("https://", 0) == 0) {
    out.tls = true;
    rest = rest.substr(8);
  } else if (rest.rfind("http://", 0) == 0) {
    rest = rest.substr(7);
  }
  if (!rest.empty() && rest.back() == '/')
    rest.pop_back();
  auto colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == rest.size()
      || rest.find('/') != std::string::npos)
    return std::nullopt;
  out.target = rest;
  return out;
}

struct platform_client::impl {
  std::unique_ptr<GrpcPlatform::Stub> stub;
};

platform_client::platform_client(const grpc_target& target, const std::string& ca_pem)
  : target_(target.target), impl_(std::make_unique<impl>()) {
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (target.tls) {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = ca_pem;
    credentials = grpc::SslCredentials(options);
  } else {
    credentials = grpc::InsecureChannelCredentials();
  }
  impl_->stub = GrpcPlatform::NewStub(grpc::CreateChannel(target.target, credentials));
}

platform_client::~platform_client() = default;

std::vector<platform> platform_client::fetch_all(std::chrono::milliseconds deadline) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + deadline);
  GetAllRequest request;
  PlatformResponse response;
  auto status = impl_->stub->GetAllPlatforms(&ctx, request, &response);
  if (!status.ok())
    throw sync_error("GetAllPlatforms from " + target_ + ": gRPC status "
                     + std::to_string(status.error_code()) + " " + status.error_message());
  std::vector<platform> out;
  out.reserve(response.platform_size());
  for (auto& p : response.platform())
    out.push_back({p.platformid(), p.name()});
  return out;
}

} // namespace command
