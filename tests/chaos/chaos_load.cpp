// The chaos run's client and judge (chaos_run.sh drives the faults).
//
//   chaos_load load <gateway port> <api key> <dir> <platforms> <rate> <command rate>
//     POSTs platforms through the gateway at <rate>/s, and commands for the
//     seeded platforms 1-3 at <command rate>/s, until <dir>/stop exists and
//     at least <platforms> were sent. Each answer is one line of
//     <dir>/platforms.tsv or <dir>/commands.tsv. Each platform carries an
//     Idempotency-Key; once the faults are over, a platform not answered 201
//     is sent again with its key until it is (<dir>/retries.tsv): a POST
//     whose answer was lost with its commit is found, not made twice.
//   chaos_load check <gateway port> <dir> <command log>
//     Compares what was created with what the command service has and with
//     the events its log shows (LogLevel=debug: duplicates too), checks each
//     answer against the fault windows in <dir>/faults.tsv, prints the
//     figures and exits 1 when one of them is not what is promised.
#include <sanitizers.hpp>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

long long now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

httplib::Client gateway(int port) {
  httplib::Client c{"127.0.0.1", port};
  c.set_connection_timeout(2s);
  c.set_read_timeout(15s);
  return c;
}

// ---- load ---------------------------------------------------------------------

// One answer: when it was asked and answered, its status (0: none), the id
// it created, whether it was a replay (an Idempotency-Key that had created
// the platform before) and its content type.
struct answer {
  long long index;
  long long sent_ms;
  long long done_ms;
  int status;
  long long target; // the platform a command was for; 0 for a platform
  long long id;
  int replayed;
  std::string content_type;
};

class recorder {
public:
  explicit recorder(const fs::path& file) : out_(file) {}
  void add(const answer& a) {
    std::lock_guard lock{mutex_};
    out_ << a.index << '\t' << a.sent_ms << '\t' << a.done_ms << '\t' << a.status << '\t'
         << a.target << '\t' << a.id << '\t' << a.replayed << '\t'
         << (a.content_type.empty() ? "-" : a.content_type)
         << '\n';
    out_.flush();
  }

private:
  std::mutex mutex_;
  std::ofstream out_;
};

// `request_id` names the request in every log line about it; it is the
// Idempotency-Key too when `keyed`.
answer post(int port, const std::string& key, const std::string& request_id, long long index,
            long long target, const std::string& path, const json& body, bool keyed = false) {
  answer a{index, now_ms(), 0, 0, target, 0, 0, {}};
  auto c = gateway(port);
  httplib::Headers headers{{"X-Api-Key", key}, {"X-Request-Id", request_id}};
  if (keyed)
    headers.emplace("Idempotency-Key", request_id);
  auto r = c.Post(path, headers, body.dump(), "application/json");
  a.done_ms = now_ms();
  if (r) {
    a.status = r->status;
    a.replayed = r->get_header_value("Idempotent-Replayed") == "true" ? 1 : 0;
    a.content_type = r->get_header_value("Content-Type");
    std::erase(a.content_type, ' '); // one word in the answer file
    auto parsed = json::parse(r->body, nullptr, false);
    if (r->status == 201 && parsed.is_object() && parsed["id"].is_number())
      a.id = parsed["id"].get<long long>();
  }
  return a;
}

// Sends request k at start + k / rate from a pool of threads, so that slow
// answers (a database restarting) do not slow the pace; until `done`.
template <class request, class finished>
void paced(double rate, int threads, const request& send, const finished& done) {
  std::atomic<long long> next{0};
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      for (;;) {
        auto k = next++;
        if (done(k))
          return;
        std::this_thread::sleep_until(start + std::chrono::microseconds(
                                                static_cast<long long>(k * 1e6 / rate)));
        send(k);
      }
    });
  for (auto& t : pool)
    t.join();
}

answer post_platform(int port, const std::string& key, long long k) {
  return post(port, key, "chaos-p-" + std::to_string(k), k, 0, "/api/platforms",
              {{"name", "chaos " + std::to_string(k)}, {"publisher", "chaos"}, {"cost", "free"}},
              true);
}

// What a careful client does with a 502/503 (or no answer): the same POST
// with the same key, until it is answered 201 (30 s at most each).
void retry_with_keys(int port, const std::string& key, const std::vector<long long>& failed,
                     const fs::path& file) {
  recorder retries{file};
  for (auto k : failed) {
    auto until = std::chrono::steady_clock::now() + 30s;
    answer a{};
    do {
      a = post_platform(port, key, k);
      if (a.status != 201)
        std::this_thread::sleep_for(500ms);
    } while (a.status != 201 && std::chrono::steady_clock::now() < until);
    retries.add(a);
  }
}

int load(int port, const std::string& key, const fs::path& dir, long long platforms, double rate,
         double command_rate) {
  recorder created{dir / "platforms.tsv"}, commands{dir / "commands.tsv"};
  auto stop_file = dir / "stop";
  std::atomic<bool> platforms_done{false};
  std::thread command_thread([&] {
    paced(command_rate, 4, [&](long long k) {
      auto target = 1 + k % 3; // the seeded platforms: known to the command service
      commands.add(post(port, key, "chaos-c-" + std::to_string(k), k, target, "/api/c/platforms/" + std::to_string(target) + "/commands",
                        {{"howTo", "chaos " + std::to_string(k)}, {"commandLine", "true"}}));
    }, [&](long long) { return platforms_done.load(); });
  });
  std::mutex failed_mutex;
  std::vector<long long> failed;
  paced(rate, 32, [&](long long k) {
    auto a = post_platform(port, key, k);
    created.add(a);
    if (a.status != 201) {
      std::lock_guard lock{failed_mutex};
      failed.push_back(k);
    }
  }, [&](long long k) { return k >= platforms && fs::exists(stop_file); });
  platforms_done = true;
  command_thread.join();
  retry_with_keys(port, key, failed, dir / "retries.tsv");
  return 0;
}

// ---- check --------------------------------------------------------------------

std::vector<answer> read_answers(const fs::path& file) {
  std::vector<answer> out;
  std::ifstream in{file};
  answer a{};
  while (in >> a.index >> a.sent_ms >> a.done_ms >> a.status >> a.target >> a.id >> a.replayed
         >> a.content_type)
    out.push_back(a);
  return out;
}

struct fault {
  std::string component;
  long long start_ms;
  long long end_ms; // the component answers again
};

std::vector<fault> read_faults(const fs::path& file) {
  std::vector<fault> out;
  std::ifstream in{file};
  fault f;
  while (in >> f.component >> f.start_ms >> f.end_ms)
    out.push_back(f);
  return out;
}

long long parse_ts(const std::string& ts) { // 2026-11-29T19:23:51.123Z
  std::tm tm{};
  std::istringstream in{ts};
  in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%S");
  return static_cast<long long>(timegm(&tm)) * 1000 + std::stoll(ts.substr(20, 3));
}

// What the command service's subscriber did with each platform's event(s).
struct delivery_log {
  std::map<long long, int> events; // platform id -> events handled (applied or duplicate)
  std::vector<long long> times;    // each event's log time, in order
};

delivery_log read_deliveries(const fs::path& log) {
  static const std::regex line{
    R"(ts=(\S+) .*actor=command\.subscriber event=event_(applied|duplicate) .*detail="platform (\d+)\")"};
  delivery_log d;
  std::ifstream in{log};
  std::smatch m;
  for (std::string l; std::getline(in, l);)
    if (std::regex_search(l, m, line)) {
      ++d.events[std::stoll(m[3])];
      d.times.push_back(parse_ts(m[1]));
    }
  return d;
}

// Platform names in the platform service -> how many platforms carry each.
std::map<std::string, int> names_at(int port) {
  auto r = gateway(port).Get("/api/platforms");
  if (!r || r->status != 200)
    throw std::runtime_error("GET /api/platforms failed");
  std::map<std::string, int> names;
  for (auto& item : json::parse(r->body))
    ++names[item["name"].get<std::string>()];
  return names;
}

std::set<long long> ids_at(int port, const std::string& path) {
  auto r = gateway(port).Get(path);
  if (!r || r->status != 200)
    throw std::runtime_error("GET " + path + " failed");
  std::set<long long> ids;
  for (auto& item : json::parse(r->body))
    ids.insert(item["id"].get<long long>());
  return ids;
}

// A 502/503 is allowed while one of `components` is down, and for a moment
// after it answers again: a second for requests already on their way; three
// for PostgreSQL, whose clients retry their sessions every <= 2 s.
bool excused(const answer& a, const std::vector<fault>& faults, const std::set<std::string>& components) {
  for (auto& f : faults) {
    auto grace = f.component == "db" ? 3000 : 1000;
    if (components.count(f.component) && a.done_ms >= f.start_ms && a.sent_ms <= f.end_ms + grace)
      return true;
  }
  return false;
}

struct answer_counts {
  std::size_t created = 0, unavailable = 0, unexcused = 0, other = 0, slow_refusals = 0;
};

answer_counts judge(const std::vector<answer>& answers, const std::vector<fault>& faults,
                    const std::set<std::string>& components, const char* what) {
  answer_counts c;
  for (auto& a : answers) {
    if (a.status == 201) {
      ++c.created;
    } else if (a.status == 502 || a.status == 503) {
      ++c.unavailable;
      if (a.content_type.rfind("application/problem+json", 0) != 0) {
        ++c.other;
        std::cout << "  " << what << " " << a.index << ": " << a.status << " without a problem body\n";
      } else if (excused(a, faults, {"platform"}) && !excused(a, faults, {"db"})
                 && a.done_ms - a.sent_ms > 1000) {
        ++c.slow_refusals; // the gateway answers for a service that is away
        std::cout << "  " << what << " " << a.index << ": " << a.status << " after "
                  << a.done_ms - a.sent_ms << " ms\n";
      } else if (!excused(a, faults, components)) {
        ++c.unexcused;
        std::cout << "  " << what << " " << a.index << ": " << a.status << " at " << a.sent_ms
                  << " with nothing down\n";
      }
    } else {
      ++c.other;
      std::cout << "  " << what << " " << a.index << ": status " << a.status << '\n';
    }
  }
  return c;
}

// Broker back -> the first event the subscriber handled after it.
long long longest_first_delivery(const std::vector<fault>& faults, const delivery_log& d) {
  long long longest = -1;
  for (auto& f : faults) {
    if (f.component != "broker")
      continue;
    auto first = std::lower_bound(d.times.begin(), d.times.end(), f.end_ms);
    auto took = first == d.times.end() ? -1 : *first - f.end_ms;
    std::cout << "  broker back at " << f.end_ms << ": first event delivered after "
              << took << " ms";
    // Another part down meanwhile measures that part's recovery, not the broker's.
    for (auto& other : faults)
      if (&other != &f && other.start_ms < (took < 0 ? f.end_ms : *first) && other.end_ms > f.end_ms)
        std::cout << " (" << other.component << " down from +" << other.start_ms - f.end_ms
                  << " to +" << other.end_ms - f.end_ms << " ms)";
    std::cout << '\n';
    if (took < 0)
      return -1;
    longest = std::max(longest, took);
  }
  return longest;
}

int check(int port, const fs::path& dir, const fs::path& command_log) {
  auto platforms = read_answers(dir / "platforms.tsv");
  auto commands = read_answers(dir / "commands.tsv");
  auto retries = read_answers(dir / "retries.tsv");
  auto faults = read_faults(dir / "faults.tsv");
  bool ok = true;
  auto expect = [&](bool holds, const std::string& what) {
    std::cout << (holds ? "ok    " : "FAIL  ") << what << '\n';
    ok = ok && holds;
  };

  auto p = judge(platforms, faults, {"db", "platform"}, "platform");
  auto c = judge(commands, faults, {"command", "db"}, "command");
  std::set<long long> created;
  for (auto& a : platforms)
    if (a.status == 201)
      created.insert(a.id);
  std::size_t retried_created = 0, found_by_key = 0;
  for (auto& a : retries)
    if (a.status == 201) {
      created.insert(a.id);
      ++retried_created;
      found_by_key += static_cast<std::size_t>(a.replayed);
    }
  auto names = names_at(port);
  std::size_t names_missing = 0, names_twice = 0;
  for (auto& a : platforms) {
    auto n = names.find("chaos " + std::to_string(a.index));
    names_missing += n == names.end() ? 1 : 0;
    names_twice += n != names.end() && n->second > 1 ? 1 : 0;
  }
  auto in_platform_service = ids_at(port, "/api/platforms");
  // The backlog of the outages drains over the bus: wait for it (2 minutes at most).
  auto waited_from = std::chrono::steady_clock::now();
  delivery_log deliveries;
  std::size_t lost = 0;
  for (;;) {
    deliveries = read_deliveries(command_log);
    lost = 0;
    for (auto id : in_platform_service)
      lost += id > 3 && !deliveries.events.count(id) ? 1 : 0; // the seeds publish no event
    if (lost == 0 || std::chrono::steady_clock::now() - waited_from > 120s)
      break;
    std::this_thread::sleep_for(1s);
  }
  std::cout << "  backlog delivered " << std::chrono::duration_cast<std::chrono::seconds>(
                                            std::chrono::steady_clock::now() - waited_from).count()
            << " s after the load ended\n";
  auto in_command_service = ids_at(port, "/api/c/platforms");
  std::size_t not_stored = 0, redelivered = 0;
  for (auto id : in_platform_service) {
    if (id <= 3)
      continue;
    if (auto seen = deliveries.events.find(id); seen != deliveries.events.end())
      redelivered += static_cast<std::size_t>(seen->second - 1);
    not_stored += in_command_service.count(id) ? 0 : 1;
  }
  std::size_t unknown_created = 0;
  for (auto id : created)
    unknown_created += in_platform_service.count(id) ? 0 : 1;
  std::size_t commands_kept = 0, commands_created = 0;
  std::set<long long> stored_commands;
  for (int target = 1; target <= 3; ++target)
    for (auto id : ids_at(port, "/api/c/platforms/" + std::to_string(target) + "/commands"))
      stored_commands.insert(id);
  for (auto& a : commands)
    if (a.status == 201) {
      ++commands_created;
      commands_kept += stored_commands.count(a.id);
    }
  auto first_delivery = longest_first_delivery(faults, deliveries);

  std::cout << "chaos: platforms sent " << platforms.size() << ", created (201) " << p.created
            << ", 502/503 " << p.unavailable << "; retried with their key " << retries.size()
            << ", created then " << retried_created << " (of which already committed "
            << found_by_key << "); platforms in the platform service "
            << in_platform_service.size() << ", delivered over the bus "
            << deliveries.events.size() << ", lost " << lost << ", missing from the command store "
            << not_stored << ", redelivered (idempotent) " << redelivered
            << "; commands sent " << commands.size() << ", created " << commands_created
            << ", kept " << commands_kept << ", 502/503 " << c.unavailable
            << "; longest broker return -> first event " << first_delivery << " ms\n";
  expect(p.created >= 2000, "at least 2000 platforms created");
  expect(unknown_created == 0, "every 201 platform is in the platform service");
  expect(retried_created == retries.size(), "every platform not answered 201 was created by its retry");
  expect(names_missing == 0 && names_twice == 0,
         "every platform sent exists exactly once (retries with an Idempotency-Key made no second)");
  expect(lost == 0, "lost = 0: every platform's event reached the command service");
  expect(not_stored == 0, "every platform is in the command service's store");
  expect(in_command_service.size() == in_platform_service.size(), "duplicates = 0");
  expect(commands_kept == commands_created && commands_created > 0, "commands kept = all");
  expect(p.other + c.other == 0, "answers other than 201 and 502/503 (problem+json) = 0");
  expect(p.slow_refusals == 0, "with the platform service down the gateway answers within 1 s");
  expect(p.unexcused + c.unexcused == 0,
         "502/503 only while PostgreSQL or the service that answers is down");
  const long long goal_ms = 2000 * support::sanitizer_slowdown;
  expect(first_delivery >= 0 && first_delivery < goal_ms,
         "broker return -> first event delivered < " + std::to_string(goal_ms) + " ms");
  return ok ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.size() == 7 && args[0] == "load")
      return load(std::stoi(args[1]), args[2], args[3], std::stoll(args[4]), std::stod(args[5]),
                  std::stod(args[6]));
    if (args.size() == 4 && args[0] == "check")
      return check(std::stoi(args[1]), args[2], args[3]);
  } catch (const std::exception& e) {
    std::cerr << "chaos_load: " << e.what() << '\n';
    return 2;
  }
  std::cerr << "usage: chaos_load load <gateway port> <api key> <dir> <platforms> <rate> <command rate>\n"
               "       chaos_load check <gateway port> <dir> <command log>\n";
  return 2;
}
