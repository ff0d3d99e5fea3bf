#include "grpc/grpc_actor.hpp"

#include <actors/errors.hpp>
#include <actors/log.hpp>
#include <actors/supervisor.hpp>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <platforms.grpc.pb.h>

#include <fstream>
#include <sstream>

namespace platform {

namespace {

class grpc_platform_service final : public GrpcPlatform::Service {
public:
  explicit grpc_platform_service(repository_client repository)
    : repository_(std::move(repository)) {}

  grpc::Status GetAllPlatforms(grpc::ServerContext*, const GetAllRequest*,
                               PlatformResponse* out) override {
    auto all = repository_.all();
    if (!all)
      return {grpc::StatusCode::UNAVAILABLE, actors::describe(all.error())};
    out->mutable_platform()->Reserve(static_cast<int>(all->size()));
    for (auto& p : *all) {
      auto* m = out->add_platform();
      m->set_platformid(p.id);
      m->set_name(std::move(p.name));
      m->set_publisher(std::move(p.publisher));
    }
    return grpc::Status::OK;
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
  return {[](ready_atom) { return true; }};
}

} // namespace

caf::actor spawn_grpc(caf::actor_system& sys, const grpc_config& cfg, repository_client repository) {
  return sys.spawn<caf::detached>(grpc_server, cfg, std::move(repository));
}

} // namespace platform
