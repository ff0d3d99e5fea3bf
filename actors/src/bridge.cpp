#include "actors/bridge.hpp"

namespace actors {

caf::error explain(const caf::error& err, const std::string& target,
                   std::chrono::milliseconds deadline) {
  if (err == caf::sec::request_timeout)
    return make_error(errc::deadline_exceeded, target + " did not answer within "
                                                 + std::to_string(deadline.count()) + "ms");
  if (err == caf::sec::request_receiver_down)
    return make_error(errc::child_unavailable, target + " is down");
  return err;
}

} // namespace actors
