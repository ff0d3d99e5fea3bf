#pragma once
// The gRPC front: an actor owning a grpc::Server with the course's
// GrpcPlatform service (GetAllPlatforms, read through the repository), the
// standard health service and server reflection. Plaintext HTTP/2 unless a
// certificate and key are configured. The server shuts down when the actor
// exits.
#include "config.hpp"
#include "repository/repository_actor.hpp"

#include <caf/all.hpp>

namespace platform {

caf::actor spawn_grpc(caf::actor_system& sys, const grpc_config& cfg,
                      repository_client repository);

} // namespace platform
