// command-service: the whole supervision tree is built here.
#include "src/config.hpp"

#include <actors/service.hpp>

namespace {

actors::supervisor_spec supervision(actors::service_context&, const command::config&) {
  actors::supervisor_spec root;
  root.name = "command.supervisor";
  root.strategy = actors::strategy::rest_for_one;
  return root;
}

} // namespace

int main(int argc, char** argv) {
  return actors::run_service("command-service", argc, argv, command::read_config, supervision);
}
