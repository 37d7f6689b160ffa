#include "adapters/http/metrics.h"

#include "engine/views/consumer.h"

#include <fmt/format.h>

#include <memory>

namespace procedo::http {

void Histogram::Observe(double seconds) {
  size_t i = 0;
  while (i < kBuckets.size() && seconds > kBuckets[i]) ++i;
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

std::string Histogram::Render(const std::string& name, const std::string& labels) const {
  std::string out;
  uint64_t cumulative = 0;
  std::string sep = labels.empty() ? "" : labels + ",";
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    cumulative += counts_[i].load();
    out += fmt::format("{}_bucket{{{}le=\"{}\"}} {}\n", name, sep, kBuckets[i], cumulative);
  }
  cumulative += counts_[kBuckets.size()].load();
  out += fmt::format("{}_bucket{{{}le=\"+Inf\"}} {}\n", name, sep, cumulative);
  std::string l = labels.empty() ? "" : "{" + labels + "}";
  out += fmt::format("{}_sum{} {}\n{}_count{} {}\n", name, l, sum_micros_.load() / 1e6, name, l, cumulative);
  return out;
}

void Metrics::ObserveRequest(const std::string& route, int status, double seconds) {
  std::string key = fmt::format("{}|{}xx", route, status / 100);
  Histogram* h = nullptr;
  {
    std::lock_guard lock(mu_);
    auto& slot = requests_[key];
    if (!slot) slot = std::make_unique<Histogram>();
    h = slot.get();
  }
  h->Observe(seconds);
}

void Metrics::AddGauge(const std::string& name, const std::string& help, std::function<double()> value) {
  std::lock_guard lock(mu_);
  gauges_[name] = Gauge{help, std::move(value)};
}

void Metrics::AddCounter(const std::string& name, const std::string& help,
                         std::function<Series()> series) {
  std::lock_guard lock(mu_);
  counters_[name] = Counter{help, std::move(series)};
}

void Metrics::AddGaugeSeries(const std::string& name, const std::string& help,
                             std::function<Series()> series) {
  std::lock_guard lock(mu_);
  gauge_series_[name] = Counter{help, std::move(series)};
}

void AddConsumerMetrics(Metrics& metrics, const ConsumerSupervisor& consumers) {
  auto each = [&consumers](auto value) {
    return [&consumers, value] {
      Metrics::Series out;
      for (const auto& s : consumers.Statuses()) {
        out.emplace_back(fmt::format("consumer=\"{}\"", s.name), value(s.progress));
      }
      return out;
    };
  };
  metrics.AddGaugeSeries("procedo_consumer_position",
                         "Where each consumer is: the last log position it handled.",
                         each([](const ConsumerProgress& p) { return double(p.position); }));
  metrics.AddGaugeSeries("procedo_consumer_lag",
                         "Log positions (messages, for Kafka commands) not handled yet.",
                         each([](const ConsumerProgress& p) { return double(p.lag.value_or(0)); }));
  metrics.AddGaugeSeries("procedo_consumer_lag_seconds",
                         "Age of the oldest event a consumer has not handled; 0 when caught up.",
                         each([](const ConsumerProgress& p) { return p.lag_seconds; }));
  metrics.AddGaugeSeries("procedo_consumer_healthy", "1 when the consumer reports no failure.",
                         each([](const ConsumerProgress& p) { return p.health.ok() ? 1.0 : 0.0; }));
  metrics.AddCounter("procedo_consumer_events_total",
                     "What each consumer counted since the server started, by counter.",
                     [&consumers] {
                       Metrics::Series out;
                       for (const auto& s : consumers.Statuses()) {
                         for (const auto& [counter, v] : s.progress.counters) {
                           out.emplace_back(
                               fmt::format("consumer=\"{}\",counter=\"{}\"", s.name, counter), v);
                         }
                       }
                       return out;
                     });
}

std::string Metrics::Render() const {
  std::lock_guard lock(mu_);
  std::string out =
      "# HELP procedo_http_request_duration_seconds Time from a request's arrival to its answer.\n"
      "# TYPE procedo_http_request_duration_seconds histogram\n";
  for (const auto& [key, h] : requests_) {
    auto bar = key.find('|');
    out += h->Render("procedo_http_request_duration_seconds",
                     fmt::format("route=\"{}\",code=\"{}\"", key.substr(0, bar), key.substr(bar + 1)));
  }
  out += "# HELP procedo_append_duration_seconds Time to decide and durably append a command.\n"
         "# TYPE procedo_append_duration_seconds histogram\n";
  out += append_.Render("procedo_append_duration_seconds", "");
  for (const auto& [name, g] : gauges_) {
    out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n{} {}\n", name, g.help, name, name, g.value());
  }
  for (const auto& [name, c] : gauge_series_) {
    out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n", name, c.help, name);
    for (const auto& [labels, value] : c.series()) {
      out += fmt::format("{}{} {}\n", name, labels.empty() ? "" : "{" + labels + "}", value);
    }
  }
  for (const auto& [name, c] : counters_) {
    out += fmt::format("# HELP {} {}\n# TYPE {} counter\n", name, c.help, name);
    for (const auto& [labels, value] : c.series()) {
      out += fmt::format("{}{} {}\n", name, labels.empty() ? "" : "{" + labels + "}", value);
    }
  }
  return out;
}

}  // namespace procedo::http
