#pragma once
// The life of a service process: read and check settings, start the root
// supervisor, wait for SIGTERM/SIGINT, shut down gracefully within a deadline.
//
//   int main(int argc, char** argv) {
//     return actors::run_service("platform-service", argc, argv,
//                                platform::read_config,   // settings& -> config
//                                platform::supervision);  // (context&, config) -> tree
//   }
//
// `--help` prints every setting (type, default, environment name) and
// `--version` the version and commit; both exit 0 without starting.
// Exit codes: 0 after a requested shutdown; 1 when the root supervisor gave up
// (so an orchestrator restarts the process) or the shutdown deadline passed;
// 2 for invalid settings.
#include "actors/handle.hpp"
#include "actors/settings.hpp"
#include "actors/supervision_board.hpp"
#include "actors/supervisor.hpp"

#include <caf/all.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace actors {

// What the tree builder gets: the actor system, stable handles (which the
// service closes after the tree has stopped) and the tree's live board.
class service_context {
public:
  explicit service_context(caf::actor_system& sys)
    : sys_(sys), board_(std::make_shared<supervision_board>()) {}

  caf::actor_system& system() { return sys_; }
  handle make_handle(std::string name, handle_options options = {});
  const std::vector<handle>& handles() const { return handles_; }

  // What the debug routes show (/debug/supervision).
  const std::shared_ptr<supervision_board>& board() const { return board_; }
  // The observer for every supervisor of the tree: it draws the board, then
  // calls `also` (the metrics' restart counter).
  supervision_observer observer(supervision_observer also = {}) const;

private:
  caf::actor_system& sys_;
  std::vector<handle> handles_;
  std::shared_ptr<supervision_board> board_;
};

using tree_builder = std::function<supervisor_spec(service_context&)>;

// Non-template core: `configure` reads the service's settings and returns the
// tree builder (or throws settings_error).
int run_service(const std::string& name, int argc, const char* const* argv,
                const std::function<tree_builder(settings&)>& configure);

template <class Configure, class Build>
int run_service(const std::string& name, int argc, const char* const* argv, Configure configure,
                Build build) {
  return run_service(name, argc, argv, [&](settings& s) -> tree_builder {
    auto config = std::make_shared<decltype(configure(s))>(configure(s));
    return [config, build](service_context& ctx) { return build(ctx, *config); };
  });
}

} // namespace actors
