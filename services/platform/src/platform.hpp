#pragma once
// The Platform Service's domain values, their wire forms (REST bodies, bus
// events, as CONTRACTS.md fixes them) and the messages its actors exchange.
#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace platform {

struct platform_record {
  std::int32_t id = 0;
  std::string name;
  std::string publisher;
  std::string cost;
};

// What a client posts: the record without its id.
struct new_platform {
  std::string name;
  std::string publisher;
  std::string cost;
};

// Where a create comes from: the request id and traceparent travel with its
// Platform_Published event; a client's Idempotency-Key ("" when none) makes
// a retry answer with the platform the first attempt created.
struct create_origin {
  std::string request_id;
  std::string traceparent;
  std::string idempotency_key;
};

// A create's answer; `replayed` when its key had created the platform before.
struct created_platform {
  platform_record platform;
  bool replayed = false;
};

// An outbox row as the relay reads it.
struct outbox_event {
  std::int64_t id = 0;
  std::string message_id; // uuid
  std::string type;       // "Platform_Published"
  std::string payload;    // the event JSON
  std::string correlation_id;
  std::string traceparent; // W3C, of the request that wrote it ("" when none)
};

// Outbox ids first..last; empty when last < first.
struct id_range {
  std::int64_t first = 0;
  std::int64_t last = -1;
};

inline constexpr const char* platform_published = "Platform_Published";

// {"id":1,"name":"Dot Net","publisher":"Microsoft","cost":"Free"}
nlohmann::json to_json(const platform_record& p);
std::string to_json_array(const std::vector<platform_record>& ps);

// The course's event body: {"Id":5,"Name":"Docker","Event":"Platform_Published"}
std::string published_event(const platform_record& p);

// That body around its id, for a statement that learns the id as it inserts:
// head + std::to_string(id) + tail == published_event({id, name, ...}).
struct event_text {
  std::string head;
  std::string tail;
};
event_text published_event_around_id(const std::string& name);

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, platform_record& x) {
  return f(caf::meta::type_name("platform_record"), x.id, x.name, x.publisher, x.cost);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, new_platform& x) {
  return f(caf::meta::type_name("new_platform"), x.name, x.publisher, x.cost);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, create_origin& x) {
  return f(caf::meta::type_name("create_origin"), x.request_id, x.traceparent, x.idempotency_key);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, created_platform& x) {
  return f(caf::meta::type_name("created_platform"), x.platform, x.replayed);
}

// Errors of the service's actors (category atom "platform", registered with
// its names and kinds, so the shared mapping answers not_found with 404).
enum class platform_errc : std::uint8_t {
  not_found = 1,    // no platform with that id
  key_reused,       // an Idempotency-Key already created a different platform
};

// Declared right after the enum: CAF caches has_make_error<platform_errc> on first use.
caf::error make_error(platform_errc code, std::string context);

bool is(const caf::error& err, platform_errc code);

using list_atom = caf::atom_constant<caf::atom("p_list")>;
using page_atom = caf::atom_constant<caf::atom("p_page")>;
using create_atom = caf::atom_constant<caf::atom("p_create")>;
using ping_atom = caf::atom_constant<caf::atom("p_ping")>;
using notify_atom = caf::atom_constant<caf::atom("p_notify")>;
using tick_atom = caf::atom_constant<caf::atom("p_tick")>;
using wake_atom = caf::atom_constant<caf::atom("p_wake")>;

} // namespace platform
