#include "sync/platform_client.hpp"

#include "platforms.grpc.pb.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>

namespace command {

std::optional<grpc_target> parse_grpc_address(const std::string& address) {
  grpc_target out;
  auto rest = address;
  if (rest.rfind("https://", 0) == 0) {
    out.tls = true;
    rest = rest.substr(8);
  } else if (rest.rfind("http://", 0) == 0) {
    rest = rest.substr(7);
  }
  if (!rest.empty() && rest.back() == '/')
    rest.pop_back();
  auto colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == rest.size()
      || rest.find('/') != std::string::npos)
    return std::nullopt;
  out.target = rest;
  return out;
}

const char* to_string(sync_method m) {
  return m == sync_method::stream_all_platforms ? "StreamAllPlatforms" : "GetAllPlatforms";
}

namespace {

std::vector<platform> platforms_of(const PlatformResponse& response, int from, int to) {
  std::vector<platform> out;
  out.reserve(static_cast<std::size_t>(to - from));
  for (int i = from; i < to; ++i)
    out.push_back({response.platform(i).platformid(), response.platform(i).name()});
  return out;
}

// One StreamAllPlatforms call on a completion queue of its own, so that each
// step waits with its own deadline (a blocking reader cannot). Every
// operation started is waited for, so the queue drains when the call ends.
class page_stream {
public:
  page_stream(GrpcPlatform::Stub& stub, std::chrono::milliseconds step_deadline,
              const std::string& traceparent)
    : step_deadline_(step_deadline) {
    if (!traceparent.empty())
      ctx_.AddMetadata("traceparent", traceparent);
    StreamAllRequest request;
    request.set_pagesize(platform_client::page_size);
    reader_ = stub.PrepareAsyncStreamAllPlatforms(&ctx_, request, &cq_);
    reader_->StartCall(this);
    open_ = wait();
  }

  ~page_stream() {
    if (!finished_) {
      ctx_.TryCancel();
      finish();
    }
    cq_.Shutdown();
    void* tag = nullptr;
    bool ok = false;
    while (cq_.Next(&tag, &ok)) {
    }
  }

  // The next page; false at the end of the stream, when it broke (finish()
  // tells) or when no page came within the step deadline (timed_out()).
  bool next(PlatformResponse& page) {
    if (!open_)
      return false;
    reader_->Read(&page, this);
    open_ = wait();
    return open_;
  }

  grpc::Status finish() {
    finished_ = true;
    grpc::Status status;
    reader_->Finish(&status, this);
    wait();
    return status;
  }

  bool timed_out() const { return timed_out_; }

private:
  // The one operation in flight; past the deadline, the call is cancelled
  // and the operation, failed, collected.
  bool wait() {
    void* tag = nullptr;
    bool ok = false;
    auto until = std::chrono::system_clock::now() + step_deadline_;
    if (cq_.AsyncNext(&tag, &ok, until) == grpc::CompletionQueue::GOT_EVENT)
      return ok;
    timed_out_ = true;
    ctx_.TryCancel();
    cq_.Next(&tag, &ok);
    return false;
  }

  std::chrono::milliseconds step_deadline_;
  grpc::ClientContext ctx_;
  grpc::CompletionQueue cq_;
  std::unique_ptr<grpc::ClientAsyncReader<PlatformResponse>> reader_;
  bool open_ = false;
  bool finished_ = false;
  bool timed_out_ = false;
};

std::string status_text(const grpc::Status& status) {
  return std::string{"gRPC status "}
    .append(std::to_string(status.error_code()))
    .append(" ")
    .append(status.error_message());
}

} // namespace

struct platform_client::impl {
  std::unique_ptr<GrpcPlatform::Stub> stub;
};

platform_client::platform_client(const grpc_target& target, const std::string& ca_pem,
                                 std::size_t max_message_bytes)
  : target_(target.target), impl_(std::make_unique<impl>()) {
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (target.tls) {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = ca_pem;
    credentials = grpc::SslCredentials(options);
  } else {
    credentials = grpc::InsecureChannelCredentials();
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(static_cast<int>(max_message_bytes));
  args.SetMaxSendMessageSize(static_cast<int>(max_message_bytes));
  impl_->stub = GrpcPlatform::NewStub(grpc::CreateCustomChannel(target.target, credentials, args));
}

platform_client::~platform_client() = default;

sync_method platform_client::fetch_all(std::chrono::milliseconds deadline,
                                       const page_handler& take, const std::string& traceparent) {
  bool any = false;
  grpc::Status status;
  {
    page_stream stream{*impl_->stub, deadline, traceparent};
    PlatformResponse page;
    while (stream.next(page)) {
      any = true;
      take(platforms_of(page, 0, page.platform_size()));
    }
    if (stream.timed_out())
      throw sync_error("StreamAllPlatforms from " + target_ + ": no page within "
                       + std::to_string(deadline.count()) + "ms");
    status = stream.finish();
  }
  if (status.ok())
    return sync_method::stream_all_platforms;
  if (status.error_code() != grpc::StatusCode::UNIMPLEMENTED || any)
    throw sync_error("StreamAllPlatforms from " + target_ + ": " + status_text(status));
  get_all(deadline, take, traceparent);
  return sync_method::get_all_platforms;
}

void platform_client::get_all(std::chrono::milliseconds deadline, const page_handler& take,
                              const std::string& traceparent) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + deadline);
  if (!traceparent.empty())
    ctx.AddMetadata("traceparent", traceparent);
  PlatformResponse response;
  auto status = impl_->stub->GetAllPlatforms(&ctx, GetAllRequest{}, &response);
  if (!status.ok())
    throw sync_error("GetAllPlatforms from " + target_ + ": " + status_text(status));
  for (int from = 0; from < response.platform_size(); from += page_size)
    take(platforms_of(response, from, std::min(from + page_size, response.platform_size())));
}

} // namespace command
