#include "rest/platforms_api.hpp"

#include <actors/errors.hpp>
#include <actors/log.hpp>
#include <shared/http/problem.hpp>
#include <shared/http/request.hpp>

#include <algorithm>
#include <malloc.h>

namespace platform {

namespace http = shared::http;

namespace {

const char* const actor_name = "platform.rest";

const char* const json_type = "application/json; charset=utf-8";

// Pages of the full list, and the largest page a client may ask for.
constexpr std::int32_t stream_page = 1'000;
constexpr std::int32_t max_page = 1'000;

void json_reply(httplib::Response& res, int status, const std::string& body) {
  res.status = status;
  res.set_content(body, json_type);
}

struct page_query {
  std::int32_t limit = 0; // 0: the whole list
  std::int32_t after = 0;
};

// ?limit=1..1000&after=<id>; each malformed one named in a 400.
std::optional<page_query> read_page_query(const httplib::Request& req, httplib::Response& res) {
  page_query q;
  http::problem bad = http::make_problem(400);
  if (req.has_param("limit")) {
    auto limit = http::parse_positive_id(req.get_param_value("limit"));
    if (!limit || *limit > max_page)
      bad.errors["limit"].push_back("The limit must be an integer from 1 to "
                                    + std::to_string(max_page) + ".");
    else
      q.limit = *limit;
  }
  if (req.has_param("after")) {
    auto after = http::parse_positive_id(req.get_param_value("after"));
    if (!after)
      bad.errors["after"].push_back("After must be a platform id from 1 to 2147483647.");
    else if (!req.has_param("limit"))
      bad.errors["limit"].push_back("A limit is needed with after.");
    else
      q.after = *after;
  }
  if (!bad.errors.empty()) {
    http::reply(res, bad);
    return std::nullopt;
  }
  return q;
}

// The Idempotency-Key header (IETF httpapi draft): a structured-field string
// ("...") or, as most clients send it, the bare text; 1 to 255 visible ASCII
// characters. "" when absent; nullopt (and a 400 written) when malformed.
constexpr std::size_t max_key_length = 255;

std::optional<std::string> read_idempotency_key(const httplib::Request& req,
                                                httplib::Response& res) {
  if (!req.has_header("Idempotency-Key"))
    return std::string{};
  auto key = req.get_header_value("Idempotency-Key");
  if (key.size() >= 2 && key.front() == '"' && key.back() == '"')
    key = key.substr(1, key.size() - 2);
  auto visible = [](char c) { return c > ' ' && c < 0x7f && c != '"'; };
  if (!key.empty() && key.size() <= max_key_length && std::all_of(key.begin(), key.end(), visible))
    return key;
  auto bad = http::make_problem(400);
  bad.errors["Idempotency-Key"].push_back(
    "The Idempotency-Key must be 1 to " + std::to_string(max_key_length)
    + " visible ASCII characters (no spaces or quotes inside).");
  http::reply(res, bad);
  return std::nullopt;
}

} // namespace

platforms_api::platforms_api(platforms_api_deps deps) : deps_(std::move(deps)) {}

std::vector<http::route> platforms_api::routes() {
  auto bind = [this](void (platforms_api::*f)(const httplib::Request&, httplib::Response&)) {
    return [this, f](const httplib::Request& req, httplib::Response& res) { (this->*f)(req, res); };
  };
  std::vector<http::route> routes{
    {"/api/platforms/?", "/api/platforms", bind(&platforms_api::get_all),
     bind(&platforms_api::create)},
    {"/api/platforms/([^/]+)", "/api/platforms/{id}", bind(&platforms_api::get_one), {}},
  };
  for (auto& r : http::operational_routes([this] { return readiness(); }, deps_.metrics))
    routes.push_back(std::move(r));
  return routes;
}

void platforms_api::get_all(const httplib::Request& req, httplib::Response& res) {
  auto query = read_page_query(req, res);
  if (!query)
    return;
  auto page = deps_.repository.page(query->after, query->limit ? query->limit : stream_page);
  if (!page)
    return http::reply_error(res, page.error(), actor_name, "list");
  if (!query->limit)
    return stream_all(std::move(*page), res);
  if (page->size() == static_cast<std::size_t>(query->limit))
    res.set_header("Link", "</api/platforms?limit=" + std::to_string(query->limit) + "&after="
                             + std::to_string(page->back().id) + ">; rel=\"next\"");
  json_reply(res, 200, to_json_array(*page));
}

// The first page is read before the 200 goes out (a database that does not
// answer is still a 503); a failure after that can only cut the stream, which
// the client sees as a broken chunked body, and the log tells.
void platforms_api::stream_all(std::vector<platform_record> first_page, httplib::Response& res) {
  struct cursor {
    std::vector<platform_record> next;
    std::string request_id;
    bool opened = false;
  };
  auto at = std::make_shared<cursor>(cursor{std::move(first_page), http::request_id(res)});
  res.set_chunked_content_provider(
    json_type,
    [this, at](std::size_t, httplib::DataSink& sink) {
      if (at->next.empty()) {
        sink.write(at->opened ? "]" : "[]", at->opened ? 1 : 2);
        sink.done();
        return true;
      }
      auto chunk = to_json_array(at->next);
      chunk[0] = at->opened ? ',' : '[';
      chunk.pop_back(); // the array stays open for the next page
      at->opened = true;
      if (!sink.write(chunk.data(), chunk.size()))
        return false;
      auto after = at->next.back().id;
      bool last = at->next.size() < static_cast<std::size_t>(stream_page);
      at->next.clear();
      if (last)
        return true;
      auto page = deps_.repository.page(after, stream_page);
      if (!page) {
        actors::log::warn(actor_name, "list_cut", {{"after", after},
                                                   {"error", actors::describe(page.error())},
                                                   {"request_id", at->request_id}});
        return false;
      }
      at->next = std::move(*page);
      return true;
    },
    [](bool) { malloc_trim(0); }); // give the pages' memory back to the system
}

void platforms_api::get_one(const httplib::Request& req, httplib::Response& res) {
  auto id = http::parse_positive_id(req.matches[1].str());
  if (!id) {
    auto p = http::make_problem(400);
    p.errors["id"].push_back("The id must be an integer from 1 to 2147483647, not '"
                             + req.matches[1].str() + "'.");
    return http::reply(res, p);
  }
  auto found = deps_.repository.find(*id);
  if (!found)
    return http::reply_error(res, found.error(), actor_name, "find");
  json_reply(res, 200, to_json(*found).dump());
}

void platforms_api::create(const httplib::Request& req, httplib::Response& res) {
  http::body_reader body{req.body};
  new_platform input{body.required_string("name"), body.required_string("publisher"),
                     body.required_string("cost")};
  if (!body.ok())
    return http::reply(res, body.failure());
  auto key = read_idempotency_key(req, res);
  if (!key)
    return;
  create_origin origin{http::request_id(res), http::trace_of(res).traceparent(), std::move(*key)};
  auto created = deps_.repository.create(input, origin);
  if (!created)
    return http::reply_error(res, created.error(), actor_name, "create");
  auto& platform = created->platform;
  res.set_header("Location", "/api/platforms/" + std::to_string(platform.id));
  if (created->replayed) // the first attempt's answer; its event and call went then
    res.set_header("Idempotent-Replayed", "true");
  json_reply(res, 201, to_json(platform).dump());
  // The course's coupled call: the command service hears of it over HTTP
  // too, off this request's path (the actor only enqueues here).
  if (deps_.command_client && !created->replayed)
    caf::anon_send(deps_.command_client.actor(), notify_atom::value, platform, origin.request_id,
                   origin.traceparent);
}

// Ready when the schema is current and a repository member's session answers.
std::vector<http::readiness_check> platforms_api::readiness() {
  if (!deps_.schema->current())
    return {{"database", false, "migrations are not applied yet"}};
  auto ping = deps_.repository.ping();
  return {{"database", static_cast<bool>(ping), ping ? "up" : actors::describe(ping.error())}};
}

} // namespace platform
