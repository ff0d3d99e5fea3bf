#include "shared/metrics/registry.hpp"

#include <charconv>
#include <cmath>
#include <sstream>

namespace shared::metrics {

namespace {

std::string number(double v) {
  if (std::isinf(v))
    return v > 0 ? "+Inf" : "-Inf";
  // Shortest form that reads back as the same double, written as %g would
  // (0.0005, 1e-05), as the Prometheus clients write bounds: a bound is a
  // label, kept as written, so 0.1 must print "0.1" for le="0.1" to match.
  char buf[32];
  auto end = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general).ptr;
  return {buf, end};
}

std::string escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"')
      out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

template <class Map>
std::string expose_values(const std::string& name, const std::vector<std::string>& labels,
                          std::mutex& mutex, const Map& values) {
  std::string out;
  std::lock_guard guard{mutex};
  for (auto& [key, v] : values)
    out += series_name(name, labels, key) + ' ' + number(v) + '\n';
  return out;
}

} // namespace

std::string series_name(const std::string& name, const std::vector<std::string>& labels,
                        const label_values& values) {
  if (labels.empty())
    return name;
  std::string out = name + '{';
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (i)
      out += ',';
    out += labels[i] + "=\"" + escape(i < values.size() ? values[i] : std::string{}) + '"';
  }
  return out + '}';
}

void counter_family::inc(const label_values& values, double by) {
  std::lock_guard guard{mutex_};
  values_[values] += by;
}

double counter_family::value(const label_values& values) const {
  std::lock_guard guard{mutex_};
  auto i = values_.find(values);
  return i == values_.end() ? 0.0 : i->second;
}

std::string counter_family::expose(const std::string& name) const {
  return expose_values(name, labels_, mutex_, values_);
}

void gauge_family::set(const label_values& values, double value) {
  std::lock_guard guard{mutex_};
  values_[values] = value;
}

std::string gauge_family::expose(const std::string& name) const {
  return expose_values(name, labels_, mutex_, values_);
}

histogram_family::histogram_family(std::vector<std::string> labels, std::vector<double> bounds)
  : labels_(std::move(labels)), bounds_(std::move(bounds)) {}

void histogram_family::observe(const label_values& values, double value) {
  std::size_t bucket = 0;
  while (bucket < bounds_.size() && value > bounds_[bucket])
    ++bucket;
  std::lock_guard guard{mutex_};
  auto& s = series_[values];
  if (s.buckets.empty())
    s.buckets.resize(bounds_.size() + 1);
  ++s.buckets[bucket];
  s.sum += value;
  ++s.count;
}

std::string histogram_family::expose(const std::string& name) const {
  auto with_le = labels_;
  with_le.push_back("le");
  std::string out;
  std::lock_guard guard{mutex_};
  for (auto& [key, s] : series_) {
    std::uint64_t cumulative = 0;
    auto values = key;
    values.push_back({});
    for (std::size_t i = 0; i <= bounds_.size(); ++i) {
      cumulative += s.buckets[i];
      values.back() = i < bounds_.size() ? number(bounds_[i]) : "+Inf";
      out += series_name(name + "_bucket", with_le, values) + ' ' + std::to_string(cumulative)
             + '\n';
    }
    out += series_name(name + "_sum", labels_, key) + ' ' + number(s.sum) + '\n';
    out += series_name(name + "_count", labels_, key) + ' ' + std::to_string(s.count) + '\n';
  }
  return out;
}

std::vector<double> latency_buckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

template <class Family, class... Args>
Family& registry::family(const std::string& name, const std::string& help,
                                 const std::string& type, Args&&... args) {
  std::lock_guard guard{mutex_};
  if (auto i = families_.find(name); i != families_.end())
    return *static_cast<Family*>(i->second.get());
  auto f = std::make_shared<Family>(std::forward<Args>(args)...);
  families_[name] = f;
  entries_.push_back({name, help, type, [f, name] { return f->expose(name); }});
  return *f;
}

counter_family& registry::counter(const std::string& name, const std::string& help,
                                          std::vector<std::string> labels) {
  return family<counter_family>(name, help, "counter", std::move(labels));
}

gauge_family& registry::gauge(const std::string& name, const std::string& help,
                                      std::vector<std::string> labels) {
  return family<gauge_family>(name, help, "gauge", std::move(labels));
}

histogram_family& registry::histogram(const std::string& name, const std::string& help,
                                              std::vector<std::string> labels,
                                              std::vector<double> bounds) {
  return family<histogram_family>(name, help, "histogram", std::move(labels), std::move(bounds));
}

void registry::collect(const std::string& name, const std::string& help,
                               const std::string& type, std::vector<std::string> labels,
                               sampler read) {
  std::lock_guard guard{mutex_};
  entries_.push_back({name, help, type, [name, labels = std::move(labels), read = std::move(read)] {
                        std::string out;
                        for (auto& [values, v] : read())
                          out += series_name(name, labels, values) + ' ' + number(v) + '\n';
                        return out;
                      }});
}

std::string registry::expose() const {
  std::lock_guard guard{mutex_};
  std::string out;
  for (auto& e : entries_) {
    out += "# HELP " + e.name + ' ' + e.help + '\n';
    out += "# TYPE " + e.name + ' ' + e.type + '\n';
    out += e.expose();
  }
  return out;
}

} // namespace shared::metrics
