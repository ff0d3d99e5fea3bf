// The pieces of bench/run that need a client library, against a running
// stack (its addresses come as flags). Each prints `key=value` lines that
// bench/run reads.
//
//   stack_probe publish --amqp=HOST:PORT --user=U --password=P --count=N --first-id=I [--batch=2000]
//       N Platform_Published events to `trigger`, persistent and mandatory,
//       as the relay sends them, confirms read once per batch: the relay's
//       ceiling (a bare rabbitmq-c publisher), and a way to queue events.
//   stack_probe consume --amqp=... --user=U --password=P --queue=Q --count=N [--prefetch=256]
//       acks N deliveries of Q: the ceiling of the command service's consumer.
//   stack_probe get-all --grpc=HOST:PORT [--calls=5]
//       GetAllPlatforms, each call timed.
//   stack_probe latency --port=P --log=FILE [--rate=1000] [--seconds=10] [--senders=rate/20]
//       creates at a fixed rate to platform-service on P, then 201 -> applied
//       from the command service's log FILE (its `event_applied` lines).
#include "creates.hpp"

#include <shared/amqp/connection.hpp>

#include <grpcpp/grpcpp.h>
#include <platforms.grpc.pb.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <stdexcept>
#include <thread>

using namespace std::chrono_literals;
using namespace command_bench;
namespace amqp = shared::amqp;

namespace {

// --name=value flags after the subcommand.
class flags {
public:
  flags(int argc, char** argv) {
    for (int i = 2; i < argc; ++i) {
      std::string a = argv[i];
      auto eq = a.find('=');
      if (a.rfind("--", 0) != 0 || eq == std::string::npos)
        throw std::invalid_argument("expected --name=value, got " + a);
      values_[a.substr(2, eq - 2)] = a.substr(eq + 1);
    }
  }
  std::string text(const std::string& name, std::optional<std::string> fallback = {}) const {
    auto i = values_.find(name);
    if (i != values_.end())
      return i->second;
    if (!fallback)
      throw std::invalid_argument("--" + name + " is required");
    return *fallback;
  }
  int number(const std::string& name, std::optional<int> fallback = {}) const {
    auto fb = fallback ? std::optional{std::to_string(*fallback)} : std::nullopt;
    return std::stoi(text(name, fb));
  }

private:
  std::map<std::string, std::string> values_;
};

amqp::connection_options broker(const flags& f) {
  amqp::connection_options o;
  auto address = f.text("amqp");
  auto colon = address.rfind(':');
  o.host = address.substr(0, colon);
  o.port = static_cast<std::uint16_t>(std::stoi(address.substr(colon + 1)));
  o.user = f.text("user");
  o.password = f.text("password");
  o.name = "stack_probe";
  return o;
}

double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

void settle(amqp::connection& c) {
  while (c.unconfirmed() > 0)
    for (auto& [seq, status] : c.wait_for_confirms(10s))
      if (status != amqp::confirm_status::acked)
        throw std::runtime_error(std::string{"publish "}.append(std::to_string(seq)).append(" ")
                                   .append(to_string(status)));
}

int publish(const flags& f) {
  amqp::connection c{broker(f)};
  c.enable_confirms();
  auto count = f.number("count"), first = f.number("first-id"), batch = f.number("batch", 2000);
  auto start = clock_type::now();
  for (int i = 0; i < count; ++i) {
    auto id = std::to_string(first + i);
    amqp::properties props{"probe-" + id, "application/json", "Platform_Published", "", true, {}};
    c.publish("trigger", "",
              std::string{R"({"Event":"Platform_Published","Id":)"}.append(id)
                .append(R"(,"Name":"probe-)").append(id).append(R"("})"),
              props, /*mandatory=*/true);
    if ((i + 1) % batch == 0)
      settle(c);
  }
  settle(c);
  auto s = seconds_since(start);
  std::printf("events=%d\nseconds=%.3f\nevents_per_s=%.0f\n", count, s, count / s);
  return 0;
}

int consume(const flags& f) {
  amqp::connection c{broker(f)};
  c.qos(static_cast<std::uint16_t>(f.number("prefetch", 256)));
  c.consume(f.text("queue"));
  auto count = f.number("count");
  std::optional<clock_type::time_point> start; // from the first delivery
  int got = 0;
  while (got < count) {
    auto d = c.next(5s);
    if (!d)
      throw std::runtime_error(std::to_string(got) + " of " + std::to_string(count)
                               + " delivered, then nothing for 5 s");
    if (!start)
      start = clock_type::now();
    c.ack(d->delivery_tag);
    ++got;
  }
  auto s = seconds_since(*start);
  std::printf("events=%d\nseconds=%.3f\nevents_per_s=%.0f\n", count, s, count / s);
  return 0;
}

int get_all(const flags& f) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(256 << 20);
  auto stub = GrpcPlatform::NewStub(
    grpc::CreateCustomChannel(f.text("grpc"), grpc::InsecureChannelCredentials(), args));
  std::vector<double> times;
  int platforms = 0;
  for (int i = 0, calls = f.number("calls", 5); i < calls; ++i) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 60s);
    PlatformResponse res;
    auto t0 = clock_type::now();
    auto status = stub->GetAllPlatforms(&ctx, GetAllRequest{}, &res);
    times.push_back(seconds_since(t0));
    if (!status.ok())
      throw std::runtime_error("GetAllPlatforms: " + status.error_message());
    platforms = res.platform_size();
  }
  std::printf("platforms=%d\ncalls=%zu\nmin_s=%.3f\nmedian_s=%.3f\nmax_s=%.3f\n", platforms,
              times.size(), quantile(times, 0), quantile(times, 0.5), quantile(times, 1));
  return 0;
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in{path};
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);)
    out.push_back(std::move(line));
  return out;
}

int latency(const flags& f) {
  auto port = f.number("port"), rate = f.number("rate", 1000);
  // One sender per 20 creates/s: each keeps its share of the schedule while
  // a POST takes up to 50 ms (a loaded machine).
  auto seconds = f.number("seconds", 10), senders = f.number("senders", std::max(4, rate / 20));
  auto log = f.text("log");
  auto period = std::chrono::duration_cast<clock_type::duration>(1s) / rate;
  std::atomic<int> errors{0};
  // Half a second of warm-up (connections, caches), not reported.
  send_creates(port, rate / 2, period, senders, "warm", errors);
  errors = 0;
  auto tag = "lat" + std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
  auto creates = send_creates(port, rate * seconds, period, senders, tag, errors);
  std::size_t created = 0;
  for (auto& c : creates)
    created += c.id != 0;
  std::vector<double> applied;
  for (auto until = clock_type::now() + 15s; clock_type::now() < until;
       std::this_thread::sleep_for(200ms))
    if ((applied = applied_after_201(creates, read_lines(log), tag)).size() >= created)
      break;
  auto span = ms(creates.back().sent - creates.front().sent) / 1000;
  std::vector<double> post;
  for (auto& c : creates)
    post.push_back(ms(c.returned - c.sent));
  std::printf("creates=%zu\nsent_per_s=%.0f\nnot_201=%d\napplied=%zu\n", creates.size(),
              static_cast<double>(creates.size()) / span, errors.load(), applied.size());
  auto p50 = quantile(applied, 0.5), p99 = quantile(applied, 0.99), max = quantile(applied, 1);
  std::printf("applied_p50_ms=%.2f\napplied_p99_ms=%.2f\napplied_max_ms=%.2f\n", p50, p99, max);
  auto post50 = quantile(post, 0.5), post99 = quantile(post, 0.99);
  std::printf("post_p50_ms=%.2f\npost_p99_ms=%.2f\n", post50, post99);
  return applied.size() == created && errors == 0 ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) try {
  std::string what = argc > 1 ? argv[1] : "";
  flags f{argc, argv};
  if (what == "publish")
    return publish(f);
  if (what == "consume")
    return consume(f);
  if (what == "get-all")
    return get_all(f);
  if (what == "latency")
    return latency(f);
  std::cerr << "usage: stack_probe publish|consume|get-all|latency --name=value ...\n";
  return 2;
} catch (const std::exception& e) {
  std::cerr << "stack_probe " << (argc > 1 ? argv[1] : "") << ": " << e.what() << "\n";
  return 1;
}
