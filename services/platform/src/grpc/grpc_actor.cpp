#include "grpc/grpc_actor.hpp"

#include <actors/errors.hpp>
#include <actors/log.hpp>
#include <actors/supervisor.hpp>
#include <shared/http/request.hpp>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <platforms.grpc.pb.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace platform {

namespace {

const char* const actor_name = "platform.grpc";

constexpr std::int32_t default_page = 1'000;
constexpr std::int32_t max_page = 10'000;

// The caller's x-request-id metadata when valid, else a fresh one; echoed in
// the initial metadata and carried by every log line about the call.
std::string request_id(grpc::ServerContext& ctx) {
  auto& metadata = ctx.client_metadata();
  auto i = metadata.find("x-request-id");
  std::string id;
  if (i != metadata.end())
    id.assign(i->second.data(), i->second.size());
  if (!shared::http::valid_request_id(id))
    id = shared::http::generate_request_id();
  ctx.AddInitialMetadata("x-request-id", id);
  return id;
}

grpc::Status unavailable(const char* rpc, const std::string& request_id, const caf::error& err) {
  auto why = actors::describe(err);
  actors::log::warn(actor_name, "database_unavailable",
                    {{"rpc", rpc}, {"error", why}, {"request_id", request_id}});
  return {grpc::StatusCode::UNAVAILABLE, why};
}

void add_platforms(PlatformResponse& out, std::vector<platform_record>& platforms) {
  out.mutable_platform()->Reserve(static_cast<int>(platforms.size()));
  for (auto& p : platforms) {
    auto* m = out.add_platform();
    m->set_platformid(p.id);
    m->set_name(std::move(p.name));
    m->set_publisher(std::move(p.publisher));
  }
}

class grpc_platform_service final : public GrpcPlatform::Service {
public:
  explicit grpc_platform_service(repository_client repository)
    : repository_(std::move(repository)) {}

  grpc::Status GetAllPlatforms(grpc::ServerContext* ctx, const GetAllRequest*,
                               PlatformResponse* out) override {
    auto id = request_id(*ctx);
    auto all = repository_.all();
    if (!all)
      return unavailable("GetAllPlatforms", id, all.error());
    add_platforms(*out, *all);
    return grpc::Status::OK;
  }

  // Page by page (keyset on id): memory stays one page however large the
  // catalogue, and the first platforms leave before the last are read.
  grpc::Status StreamAllPlatforms(grpc::ServerContext* ctx, const StreamAllRequest* req,
                                  grpc::ServerWriter<PlatformResponse>* out) override {
    auto id = request_id(*ctx);
    if (req->pagesize() < 0)
      return {grpc::StatusCode::INVALID_ARGUMENT, "pageSize must not be negative"};
    auto size = req->pagesize() == 0 ? default_page : std::min(req->pagesize(), max_page);
    std::int32_t after = 0;
    for (;;) {
      if (ctx->IsCancelled())
        return grpc::Status::CANCELLED;
      auto page = repository_.page(after, size);
      if (!page)
        return unavailable("StreamAllPlatforms", id, page.error());
      if (page->empty())
        return grpc::Status::OK;
      after = page->back().id;
      bool last = page->size() < static_cast<std::size_t>(size);
      PlatformResponse message;
      add_platforms(message, *page);
      if (!out->Write(message))
        return {grpc::StatusCode::CANCELLED, "the client stopped reading"};
      if (last)
        return grpc::Status::OK;
    }
  }

private:
  repository_client repository_;
};

std::string read_file(const std::string& path) {
  std::ifstream in{path};
  if (!in)
    throw std::runtime_error("cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::shared_ptr<grpc::ServerCredentials> credentials(const grpc_config& cfg) {
  if (cfg.certificate_file.empty())
    return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions tls;
  tls.pem_key_cert_pairs.push_back({read_file(cfg.private_key_file),
                                    read_file(cfg.certificate_file)});
  return grpc::SslServerCredentials(tls);
}

struct grpc_state {
  std::string name = "platform.grpc";
  std::unique_ptr<grpc_platform_service> service;
  std::unique_ptr<grpc::Server> server;
  ~grpc_state() {
    // Lets calls in flight finish for a moment, then cancels the rest.
    if (server)
      server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  }
};

caf::behavior grpc_server(caf::stateful_actor<grpc_state>* self, grpc_config cfg,
                          repository_client repository) {
  actors::fail_on_exception(self);
  auto& st = self->state;
  st.service = std::make_unique<grpc_platform_service>(std::move(repository));
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int bound = 0;
  builder.AddListeningPort("0.0.0.0:" + std::to_string(cfg.port), credentials(cfg), &bound);
  builder.RegisterService(st.service.get());
  st.server = builder.BuildAndStart();
  if (!st.server || bound == 0)
    throw std::runtime_error("cannot listen on gRPC port " + std::to_string(cfg.port));
  st.server->GetHealthCheckService()->SetServingStatus("GrpcPlatform", true);
  actors::log::info(st.name, "listening", {{"port", bound}, {"tls", !cfg.certificate_file.empty()}});
  return actors::hold_until_exit();
}

} // namespace

caf::actor spawn_grpc(caf::actor_system& sys, const grpc_config& cfg, repository_client repository) {
  return sys.spawn<caf::detached>(grpc_server, cfg, std::move(repository));
}

} // namespace platform
