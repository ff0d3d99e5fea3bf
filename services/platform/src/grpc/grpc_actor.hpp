#pragma once
// The gRPC front: an actor owning a grpc::Server with the course's
// GrpcPlatform service (GetAllPlatforms, read through the repository), the
// standard health service and server reflection. Plaintext HTTP/2 unless a
// certificate and key are configured. The server shuts down when the actor
// exits.
//
// Every call stops within one page of the caller's deadline (capped by our
// request timeout) or cancellation: DEADLINE_EXCEEDED / CANCELLED, or
// UNAVAILABLE when the store did not answer (details only in the log).
// Messages are limited to GrpcMaxMessageBytes both ways; a GetAllPlatforms
// answer past it is RESOURCE_EXHAUSTED (StreamAllPlatforms has no such
// limit). Memory freed by a GetAllPlatforms answer is returned to the system
// once it is sent.
#include "config.hpp"
#include "repository/repository_actor.hpp"

#include <caf/all.hpp>

namespace platform {

caf::actor spawn_grpc(caf::actor_system& sys, const grpc_config& cfg,
                      repository_client repository);

} // namespace platform
