#pragma once

// Real PostgreSQL and RabbitMQ servers for integration tests. Each runs on
// 127.0.0.1 on its own free port with its data under a private temp dir
// (/tmp/realsrv-XXXXXX); nothing touches system services or default ports.
// Everything is torn down at exit, and by a reaper process if the test
// process dies abruptly. The classes are not thread-safe: drive them from
// the test thread.

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <sys/types.h>

namespace support {

namespace detail {

struct launch_spec;

// A server started under a supervisor child that reaps it and everything it
// leaves behind: once the supervisor has exited, all of the server is gone.
class supervised_process {
public:
  supervised_process() = default;
  ~supervised_process(); // kills whatever still runs
  supervised_process(const supervised_process&) = delete;
  supervised_process& operator=(const supervised_process&) = delete;

  // The server's pid (its process group) is in pgid_file, for the reaper,
  // for as long as the server runs.
  void launch(const launch_spec& spec, const std::filesystem::path& pgid_file);
  void signal(int signal_number) const; // the server process only
  void kill_group() const;              // SIGKILL its whole process group
  // Waits up to timeout_ms; true once everything exited and was reaped.
  bool wait(int timeout_ms);
  bool running() const;
  bool succeeded() const; // exited with code 0 (once wait() returned true)
  std::string exit_description() const;

private:
  void reaped(int status);

  pid_t supervisor_ = -1;
  pid_t leader_ = -1;
  int status_ = 0;
};

} // namespace detail

class postgres_server {
public:
  // Runs initdb in dir (which must not exist yet) and starts the server.
  explicit postgres_server(std::filesystem::path dir);
  ~postgres_server();
  postgres_server(const postgres_server&) = delete;
  postgres_server& operator=(const postgres_server&) = delete;

  std::string host() const; // "127.0.0.1"
  int port() const;
  // libpq keyword style, e.g. "host=127.0.0.1 port=N dbname=NAME
  // user=postgres connect_timeout=3".
  std::string connection_string(const std::string& dbname = "postgres") const;
  void create_database(const std::string& name); // dropped first if present

  void stop();  // fast shutdown (what pg_ctl -m fast does), blocks until down
  void start(); // same port and data dir, blocks until it accepts queries
  void kill();  // SIGKILL the postmaster; its backends then exit, as after a crash
  bool running() const;

private:
  std::filesystem::path data_dir() const;
  std::filesystem::path log_file() const;
  void init_data_dir();
  void wait_until_ready();
  void remove_crash_leftovers();
  std::string describe_failure(const std::string& what) const;

  std::filesystem::path dir_;
  int port_;
  detail::supervised_process process_;
};

// How a broker takes part in a cluster (rabbitmq_cluster); the defaults make
// a broker alone.
struct rabbitmq_node_options {
  std::string node_name;          // empty: realsrv<pid>@localhost
  int epmd_port = 0;              // the epmd its cluster runs there; 0: one of its own
  std::string cookie;             // the cluster's Erlang cookie; empty: Erlang makes one
  std::vector<std::string> peers; // nodes it joins on its first boot (classic-config discovery)
};

class rabbitmq_server {
public:
  // Prepares dir (which must not exist yet) and starts the broker.
  explicit rabbitmq_server(std::filesystem::path dir, rabbitmq_node_options options = {});
  ~rabbitmq_server();
  rabbitmq_server(const rabbitmq_server&) = delete;
  rabbitmq_server& operator=(const rabbitmq_server&) = delete;

  std::string host() const; // "127.0.0.1"
  int port() const;         // AMQP port, the same across restarts
  std::string user() const;
  std::string password() const;

  void stop();  // clean shutdown, blocks until every process and port is gone
  void start(); // same port, node and data dir, blocks until AMQP login works
  // SIGKILL the broker's process group, blocks until it is gone. The
  // definitions declared so far are made durable first (sync_definitions):
  // tests kill the broker to see messages and services survive, not to lose
  // a queue declared a millisecond earlier.
  void kill();
  // Blocks until every queue, exchange and binding declared so far is on
  // disk. RabbitMQ 3.10 answers queue.declare-ok once the definition is in
  // Mnesia, whose transaction log is written asynchronously: a SIGKILL right
  // after a declaration can lose the durable queue, and with it the
  // persistent messages it had confirmed (seen: 3 of 10 queues declared just
  // before a SIGKILL on a busy machine; 0 of 10 after this, 0 of 10 after
  // waiting 1 s). This runs mnesia:sync_log() in the broker.
  void sync_definitions() const;
  void restart();
  bool running() const;

  // Runs `rabbitmqctl -n <node> args...` against this broker and returns its
  // output; throws with the output's tail when it fails.
  std::string ctl(const std::vector<std::string>& args) const;

  std::string node_name() const;
  int epmd_port() const { return epmd_port_; }
  std::filesystem::path log_file() const; // the node's own log

private:
  std::vector<std::string> environment() const;
  void write_config() const;
  void write_cookie() const;
  void start_epmd();
  void wait_until_ready();
  std::string describe_failure(const std::string& what) const;

  std::filesystem::path dir_;
  rabbitmq_node_options options_;
  int port_;
  int dist_port_;
  int epmd_port_;
  detail::supervised_process epmd_; // unless the cluster's runs
  detail::supervised_process process_;
};

// Nodes of one RabbitMQ cluster on loopback, each with its own node name,
// AMQP and distribution ports and data, sharing one epmd (node 0's, on its
// own port) and one Erlang cookie. Node 0 boots alone; each other node joins
// the nodes before it on its first boot (classic-config peer discovery), so
// the cluster forms in order; the constructor checks that every node runs
// in it. A node killed and started again comes back with its data and
// rejoins. Stopped in reverse order.
class rabbitmq_cluster {
public:
  rabbitmq_cluster(std::filesystem::path dir, std::size_t size);
  ~rabbitmq_cluster();
  rabbitmq_cluster(const rabbitmq_cluster&) = delete;
  rabbitmq_cluster& operator=(const rabbitmq_cluster&) = delete;

  std::size_t size() const { return nodes_.size(); }
  rabbitmq_server& node(std::size_t i) { return *nodes_.at(i); }
  // "127.0.0.1:P,127.0.0.1:Q": the AMQP addresses of every node but `except`
  // (RabbitMQAddresses beside RabbitMQHost/RabbitMQPort of that one).
  std::string addresses_except(std::size_t except) const;
  // How many nodes node `seen_from` sees running in its cluster.
  std::size_t running_nodes(std::size_t seen_from) const;

private:
  std::vector<std::unique_ptr<rabbitmq_server>> nodes_;
};

// Lazily started on first call, shared by all tests of the binary, torn down
// at process exit. A failed start is remembered and rethrown on later calls.
postgres_server& postgres();
rabbitmq_server& rabbitmq();
rabbitmq_cluster& rabbitmq_cluster_of_three(); // no other broker is started with it

} // namespace support
