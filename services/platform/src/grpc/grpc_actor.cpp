#include "grpc/grpc_actor.hpp"

#include <actors/errors.hpp>
#include <actors/log.hpp>
#include <actors/supervisor.hpp>
#include <actors/trace.hpp>
#include <shared/http/request.hpp>

#include <google/protobuf/io/coded_stream.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <platforms.grpc.pb.h>

#include <algorithm>
#include <fstream>
#include <mutex>
#include <sstream>
#include <utility>

#include <malloc.h>

namespace platform {

namespace {

const char* const actor_name = "platform.grpc";

// GetAllPlatforms reads in pages of the stream's default too: 150,000
// platforms take as long as with 10,000-row pages (about 0.3 s), and the
// process keeps less afterwards (+2 MiB resident, not +5 to +9).
constexpr std::int32_t default_page = 1'000;
constexpr std::int32_t max_page = 10'000;

// The caller's x-request-id metadata when valid, else a fresh one; echoed in
// the initial metadata and carried by every log line about the call.
std::string request_id(grpc::ServerContext& ctx) {
  auto& metadata = ctx.client_metadata();
  auto i = metadata.find("x-request-id");
  std::string id;
  if (i != metadata.end())
    id.assign(i->second.data(), i->second.size());
  if (!shared::http::valid_request_id(id))
    id = shared::http::generate_request_id();
  ctx.AddInitialMetadata("x-request-id", id);
  return id;
}

// This call's span of the caller's trace (traceparent metadata), or of a new one.
actors::trace::context trace_of(grpc::ServerContext& ctx) {
  auto& metadata = ctx.client_metadata();
  auto i = metadata.find("traceparent");
  return actors::trace::child_of(i == metadata.end()
                                   ? std::string_view{}
                                   : std::string_view{i->second.data(), i->second.size()});
}

bool timed_out(const caf::error& err) {
  return err.category() == caf::atom("actors")
         && err.code() == static_cast<std::uint8_t>(actors::errc::deadline_exceeded);
}

// One call's limits: the caller's deadline and cancellation for the whole
// call, checked between pages (work for a caller who gave up stops within one
// page), and each repository request within what is left of the deadline,
// capped by our own timeout.
class call_limits {
public:
  call_limits(grpc::ServerContext& ctx, std::string request_id, std::chrono::milliseconds ours)
    : ctx_(ctx), request_id_(std::move(request_id)), trace_(trace_of(ctx).log_fields()),
      ours_(ours) {
    auto deadline = ctx.deadline();
    if (deadline != std::chrono::system_clock::time_point::max())
      callers_ = std::chrono::steady_clock::now() + (deadline - std::chrono::system_clock::now());
  }

  const std::string& request_id() const { return request_id_; }

  // OK while the call may go on.
  grpc::Status check() const {
    if (ctx_.IsCancelled())
      return {grpc::StatusCode::CANCELLED, "the call was cancelled"};
    if (std::chrono::steady_clock::now() >= callers_)
      return {grpc::StatusCode::DEADLINE_EXCEEDED, "the caller's deadline passed"};
    return grpc::Status::OK;
  }

  // The deadline of the next repository request: what is left of the
  // caller's, or our own timeout when that is shorter.
  struct budget {
    std::chrono::milliseconds deadline;
    bool callers;
  };
  budget next_request() const {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      callers_ - std::chrono::steady_clock::now());
    if (left >= ours_)
      return {ours_, false};
    return {std::max(left, std::chrono::milliseconds{1}), true};
  }

  // A repository request within `b` failed: the caller cancelled, its
  // deadline ran out first (the request timed out, or had no time left to be
  // sent), or the store did not answer (the client may retry; details only
  // in the log).
  grpc::Status failed(const char* rpc, const budget& b, const caf::error& err) const {
    if (auto s = check(); !s.ok())
      return s;
    if (b.callers && (!err || timed_out(err)))
      return {grpc::StatusCode::DEADLINE_EXCEEDED, "the caller's deadline passed"};
    actors::log::warn(actor_name, "database_unavailable",
                      {{"rpc", rpc}, {"error", actors::describe(err)},
                       {"request_id", request_id_}});
    return {grpc::StatusCode::UNAVAILABLE, "the platform store did not answer; retry"};
  }

private:
  grpc::ServerContext& ctx_;
  std::string request_id_;
  actors::log::context_scope trace_; // on each line this call logs
  std::chrono::milliseconds ours_;
  std::chrono::steady_clock::time_point callers_ = std::chrono::steady_clock::time_point::max();
};

void add_platforms(PlatformResponse& out, std::vector<platform_record>& platforms) {
  out.mutable_platform()->Reserve(out.platform_size() + static_cast<int>(platforms.size()));
  for (auto& p : platforms) {
    auto* m = out.add_platform();
    m->set_platformid(p.id);
    m->set_name(std::move(p.name));
    m->set_publisher(std::move(p.publisher));
  }
}

// The encoded size of out.platform(from ...): each is field 1, length-delimited.
std::size_t encoded_size(const PlatformResponse& out, int from) {
  std::size_t bytes = 0;
  for (int i = from; i < out.platform_size(); ++i) {
    auto n = out.platform(i).ByteSizeLong();
    bytes += 1 + google::protobuf::io::CodedOutputStream::VarintSize64(n) + n;
  }
  return bytes;
}

// glibc keeps the memory a large response freed (scattered through the
// handler thread's arena) unless asked to return it. The response is freed
// only after the handler returns, so a handler marks its thread and gRPC's
// hook after each synchronous call trims.
thread_local bool trim_after_call = false;
// Response bytes; below, a trim would cost more than it gives back.
constexpr std::size_t trim_above = 1 << 20;

void release_memory_after_call() {
  trim_after_call = true;
}

class trim_after_marked_calls final : public grpc::Server::GlobalCallbacks {
public:
  void PreSynchronousRequest(grpc::ServerContext*) override {}
  void PostSynchronousRequest(grpc::ServerContext*) override {
    if (std::exchange(trim_after_call, false))
      malloc_trim(0);
  }
};

// gRPC takes these hooks once per process, before its first server.
void install_trim_hook() {
  static std::once_flag once;
  std::call_once(once, [] { grpc::Server::SetGlobalCallbacks(new trim_after_marked_calls); });
}

class grpc_platform_service final : public GrpcPlatform::Service {
public:
  grpc_platform_service(repository_client repository, const grpc_config& cfg)
    : repository_(std::move(repository)), timeout_(cfg.request_timeout),
      max_message_bytes_(cfg.max_message_bytes) {}

  // The whole catalogue in one message, built page by page straight from the
  // repository (no second copy), refused once it outgrows the message limit.
  grpc::Status GetAllPlatforms(grpc::ServerContext* ctx, const GetAllRequest*,
                               PlatformResponse* out) override {
    call_limits limits{*ctx, request_id(*ctx), timeout_};
    std::size_t bytes = 0;
    auto status = page_through("GetAllPlatforms", limits, default_page, [&](auto& page) {
      auto from = out->platform_size();
      add_platforms(*out, page);
      bytes += encoded_size(*out, from);
      if (bytes <= max_message_bytes_)
        return grpc::Status::OK;
      actors::log::warn(actor_name, "response_too_large",
                        {{"rpc", "GetAllPlatforms"}, {"platforms_so_far", out->platform_size()},
                         {"max_bytes", max_message_bytes_}, {"request_id", limits.request_id()}});
      return grpc::Status{grpc::StatusCode::RESOURCE_EXHAUSTED,
                          std::string{"the catalogue exceeds GrpcMaxMessageBytes ("}
                            .append(std::to_string(max_message_bytes_))
                            .append(" bytes): use StreamAllPlatforms")};
    });
    if (bytes > trim_above)
      release_memory_after_call();
    return status;
  }

  // Page by page (keyset on id): memory stays one page however large the
  // catalogue, and the first platforms leave before the last are read.
  grpc::Status StreamAllPlatforms(grpc::ServerContext* ctx, const StreamAllRequest* req,
                                  grpc::ServerWriter<PlatformResponse>* out) override {
    call_limits limits{*ctx, request_id(*ctx), timeout_};
    if (req->pagesize() < 0)
      return {grpc::StatusCode::INVALID_ARGUMENT, "pageSize must not be negative"};
    auto size = req->pagesize() == 0 ? default_page : std::min(req->pagesize(), max_page);
    std::size_t bytes = 0;
    auto status = page_through("StreamAllPlatforms", limits, size, [&](auto& page) {
      PlatformResponse message;
      add_platforms(message, page);
      bytes += message.ByteSizeLong();
      if (!out->Write(message))
        return grpc::Status{grpc::StatusCode::CANCELLED, "the client stopped reading"};
      return grpc::Status::OK;
    });
    // The pages were freed one by one, but between them live blocks (the
    // cache's new entries) pin their memory: each sync of the whole catalogue
    // would leave the heap a little larger.
    if (bytes > trim_above)
      release_memory_after_call();
    return status;
  }

private:
  // Every platform in ascending id order, `size` at a time, each page given
  // to `take` (which may end the call with its status), within `limits`.
  template <class Take>
  grpc::Status page_through(const char* rpc, const call_limits& limits, std::int32_t size,
                            Take take) {
    std::int32_t after = 0;
    for (;;) {
      if (auto s = limits.check(); !s.ok())
        return s;
      auto budget = limits.next_request();
      auto repository = repository_;
      repository.set_deadline(budget.deadline);
      auto page = repository.page(after, size);
      if (!page)
        return limits.failed(rpc, budget, page.error());
      if (page->empty())
        return grpc::Status::OK;
      after = page->back().id;
      bool last = page->size() < static_cast<std::size_t>(size);
      if (auto s = take(*page); !s.ok())
        return s;
      if (last)
        return grpc::Status::OK;
    }
  }

  repository_client repository_;
  std::chrono::milliseconds timeout_;
  std::size_t max_message_bytes_;
};

std::string read_file(const std::string& path) {
  std::ifstream in{path};
  if (!in)
    throw std::runtime_error("cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::shared_ptr<grpc::ServerCredentials> credentials(const grpc_config& cfg) {
  if (cfg.certificate_file.empty())
    return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions tls;
  tls.pem_key_cert_pairs.push_back({read_file(cfg.private_key_file),
                                    read_file(cfg.certificate_file)});
  return grpc::SslServerCredentials(tls);
}

struct grpc_state {
  std::string name = "platform.grpc";
  std::unique_ptr<grpc_platform_service> service;
  std::unique_ptr<grpc::Server> server;
  ~grpc_state() {
    // Lets calls in flight finish for a moment, then cancels the rest.
    if (server)
      server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  }
};

caf::behavior grpc_server(caf::stateful_actor<grpc_state>* self, grpc_config cfg,
                          repository_client repository) {
  actors::fail_on_exception(self);
  auto& st = self->state;
  st.service = std::make_unique<grpc_platform_service>(std::move(repository), cfg);
  install_trim_hook();
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int bound = 0;
  builder.AddListeningPort("0.0.0.0:" + std::to_string(cfg.port), credentials(cfg), &bound);
  builder.RegisterService(st.service.get());
  auto max_bytes = static_cast<int>(cfg.max_message_bytes);
  builder.SetMaxReceiveMessageSize(max_bytes);
  builder.SetMaxSendMessageSize(max_bytes);
  st.server = builder.BuildAndStart();
  if (!st.server || bound == 0)
    throw std::runtime_error("cannot listen on gRPC port " + std::to_string(cfg.port));
  st.server->GetHealthCheckService()->SetServingStatus("GrpcPlatform", true);
  actors::log::info(st.name, "listening", {{"port", bound}, {"tls", !cfg.certificate_file.empty()}});
  return actors::hold_until_exit();
}

} // namespace

caf::actor spawn_grpc(caf::actor_system& sys, const grpc_config& cfg, repository_client repository) {
  return sys.spawn<caf::detached>(grpc_server, cfg, std::move(repository));
}

} // namespace platform
