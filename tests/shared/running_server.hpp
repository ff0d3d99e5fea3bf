#pragma once
// A shared::http::server on an ephemeral loopback port, through the
// services' listener (its backlog, its start and stop), nobody told when it
// ends.
#include <shared/http/listener.hpp>
#include <shared/http/server.hpp>
#include <shared/metrics/registry.hpp>

#include <memory>
#include <vector>

class running_server {
public:
  running_server(const shared::http::server_options& options, shared::metrics::registry& metrics,
                 const std::vector<shared::http::route>& routes)
    : listener_(std::make_unique<shared::http::server>(options, metrics, "test.http", routes),
                "127.0.0.1", 0, caf::actor_addr{}) {}

  int port() const { return listener_.port(); }

private:
  shared::http::listener listener_;
};
