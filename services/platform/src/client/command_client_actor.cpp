#include "client/command_client_actor.hpp"

#include <actors/log.hpp>
#include <actors/supervisor.hpp>
#include <actors/trace.hpp>

#include <httplib.h>

#include <memory>

namespace platform {

namespace {

struct command_client_state {
  std::string name = "platform.command_client";
  std::unique_ptr<httplib::Client> client;
  std::string path;
};

caf::behavior command_client(caf::stateful_actor<command_client_state>* self,
                             command_client_config cfg) {
  actors::fail_on_exception(self);
  auto url = parse_url(cfg.url);
  if (!url)
    throw std::invalid_argument("CommandService is not an http(s) URL: " + cfg.url);
  auto& st = self->state;
  st.client = std::make_unique<httplib::Client>(url->origin);
  st.client->set_connection_timeout(cfg.timeout);
  st.client->set_read_timeout(cfg.timeout);
  st.client->set_write_timeout(cfg.timeout);
  // One connection for every create: a connection per POST cost a TCP
  // handshake and a server thread's start each (bench/RESULTS.md). A socket
  // the server closed while idle is seen before the next send and reopened.
  st.client->set_keep_alive(true);
  st.client->set_tcp_nodelay(true);
  st.path = url->path;
  return {
    [=](notify_atom, const platform_record& p, const std::string& request_id,
        const std::string& traceparent) {
      auto& st = self->state;
      // A span of its own in the request's trace: the POST is a hop of it.
      auto trace = actors::trace::child_of(traceparent);
      actors::log::context_scope scope{trace.log_fields()};
      auto r = st.client->Post(st.path,
                               {{"X-Request-Id", request_id}, {"traceparent", trace.traceparent()}},
                               to_json(p).dump(), "application/json");
      if (!r) {
        actors::log::warn(st.name, "command_service_unreachable",
                          {{"id", p.id}, {"error", httplib::to_string(r.error())},
                           {"request_id", request_id}});
        return;
      }
      auto lvl = r->status < 300 ? actors::log::level::info : actors::log::level::warn;
      actors::log::write(lvl, st.name, "command_service_answered",
                         {{"id", p.id}, {"status", r->status}, {"request_id", request_id}});
    },
  };
}

} // namespace

std::optional<split_url> parse_url(const std::string& url) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos)
    return std::nullopt;
  auto name = url.substr(0, scheme);
  if (name != "http" && name != "https")
    return std::nullopt;
  auto slash = url.find('/', scheme + 3);
  if (slash == scheme + 3)
    return std::nullopt;
  if (slash == std::string::npos)
    return split_url{url, "/"};
  return split_url{url.substr(0, slash), url.substr(slash)};
}

caf::actor spawn_command_client(caf::actor_system& sys, const command_client_config& cfg) {
  return sys.spawn<caf::detached>(command_client, cfg);
}

} // namespace platform
