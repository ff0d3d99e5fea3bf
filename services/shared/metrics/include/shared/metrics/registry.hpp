#pragma once
// A small Prometheus registry: counter and histogram families keyed by label
// values, gauges read when scraped, and the text exposition format (0.0.4).
// Thread-safe; families live as long as the registry.
//
//   registry m;
//   auto& requests = m.counter("http_requests_total", "HTTP requests",
//                              {"route", "status"});
//   requests.inc({"/api/platforms", "200"});
//   res.set_content(m.expose(), registry::content_type);
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace shared::metrics {

using label_values = std::vector<std::string>;

class counter_family {
public:
  counter_family(std::vector<std::string> labels) : labels_(std::move(labels)) {}
  // `values` are in the order of the family's label names.
  void inc(const label_values& values, double by = 1.0);
  double value(const label_values& values) const;
  std::string expose(const std::string& name) const;

private:
  std::vector<std::string> labels_;
  mutable std::mutex mutex_;
  std::map<label_values, double> values_;
};

class gauge_family {
public:
  gauge_family(std::vector<std::string> labels) : labels_(std::move(labels)) {}
  void set(const label_values& values, double value);
  std::string expose(const std::string& name) const;

private:
  std::vector<std::string> labels_;
  mutable std::mutex mutex_;
  std::map<label_values, double> values_;
};

class histogram_family {
public:
  // `bounds` are the buckets' upper bounds, ascending (+Inf is implicit).
  histogram_family(std::vector<std::string> labels, std::vector<double> bounds);
  void observe(const label_values& values, double value);
  std::string expose(const std::string& name) const;

private:
  struct series {
    std::vector<std::uint64_t> buckets; // not cumulative; one per bound, then +Inf
    double sum = 0;
    std::uint64_t count = 0;
  };
  std::vector<std::string> labels_;
  std::vector<double> bounds_;
  mutable std::mutex mutex_;
  std::map<label_values, series> series_;
};

// Latency buckets in seconds, 0.5 ms to 10 s.
std::vector<double> latency_buckets();

class registry {
public:
  static constexpr const char* content_type = "text/plain; version=0.0.4; charset=utf-8";

  // A family is created on first use and returned by later calls with the
  // same name (the other arguments are then ignored).
  counter_family& counter(const std::string& name, const std::string& help,
                          std::vector<std::string> labels = {});
  gauge_family& gauge(const std::string& name, const std::string& help,
                      std::vector<std::string> labels = {});
  histogram_family& histogram(const std::string& name, const std::string& help,
                              std::vector<std::string> labels = {},
                              std::vector<double> bounds = latency_buckets());

  // Samples computed when scraped, e.g. restarts per actor from the runtime.
  using sampler = std::function<std::vector<std::pair<label_values, double>>()>;
  void collect(const std::string& name, const std::string& help, const std::string& type,
               std::vector<std::string> labels, sampler read);

  std::string expose() const;

private:
  struct entry {
    std::string name;
    std::string help;
    std::string type;
    std::function<std::string()> expose;
  };
  template <class Family, class... Args>
  Family& family(const std::string& name, const std::string& help, const std::string& type,
                 Args&&... args);

  mutable std::mutex mutex_;
  std::deque<entry> entries_;
  std::map<std::string, std::shared_ptr<void>> families_;
};

// `name{a="x",b="y"}` with label values escaped.
std::string series_name(const std::string& name, const std::vector<std::string>& labels,
                        const label_values& values);

} // namespace shared::metrics
