// platform-service: the whole supervision tree is built here.
#include "src/config.hpp"

#include <actors/service.hpp>

namespace {

actors::supervisor_spec supervision(actors::service_context&, const platform::config&) {
  actors::supervisor_spec root;
  root.name = "platform.supervisor";
  root.strategy = actors::strategy::rest_for_one;
  return root;
}

} // namespace

int main(int argc, char** argv) {
  return actors::run_service("platform-service", argc, argv, platform::read_config, supervision);
}
