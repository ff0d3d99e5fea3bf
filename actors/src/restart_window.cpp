#include "actors/restart_window.hpp"

namespace actors {

bool restart_window::try_record(clock::time_point now) {
  while (!restarts_.empty() && now - restarts_.front() > limits_.within)
    restarts_.pop_front();
  if (restarts_.size() >= limits_.max_restarts)
    return false;
  restarts_.push_back(now);
  return true;
}

} // namespace actors
