#pragma once
// The Command Service's settings, read and checked once at start-up, one
// struct per actor.
#include "events/event_processor_actor.hpp"
#include "events/subscriber_actor.hpp"
#include "rest/rest_controller_actor.hpp"
#include "sync/platform_sync_actor.hpp"

#include <actors/settings.hpp>

#include <string>

namespace command {

struct config {
  std::string database; // ":memory:" (SQLite, the default), "sqlite:<file>" or PostgreSQL
  rest_config rest;
  subscriber_config subscriber;
  event_processor_config processor;
  platform_sync_config sync;
};

config read_config(actors::settings& s);

} // namespace command
