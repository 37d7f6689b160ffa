// Prometheus text exposition of the few figures operators need: request durations by route
// and status class, append latency, projection and relay lag.
#pragma once

#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace procedo {
class ConsumerSupervisor;
}  // namespace procedo

namespace procedo::http {

class Histogram {
 public:
  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1,    5};
  void Observe(double seconds);
  std::string Render(const std::string& name, const std::string& labels) const;

 private:
  std::array<std::atomic<uint64_t>, kBuckets.size() + 1> counts_{};
  std::atomic<uint64_t> sum_micros_{0};
};

class Metrics {
 public:
  void ObserveRequest(const std::string& route, int status, double seconds);
  Histogram& append_latency() { return append_; }
  // Gauges computed when scraped (lag, positions).
  void AddGauge(const std::string& name, const std::string& help, std::function<double()> value);
  // Counters kept by other components, read when scraped: one series per label set, e.g.
  // {"outcome=\"accepted\"", 3}.
  using Series = std::vector<std::pair<std::string, double>>;
  void AddCounter(const std::string& name, const std::string& help, std::function<Series()> series);
  void AddGaugeSeries(const std::string& name, const std::string& help,
                      std::function<Series()> series);
  std::string Render() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Histogram>> requests_;  // "route|class" -> histogram
  Histogram append_;
  struct Gauge {
    std::string help;
    std::function<double()> value;
  };
  std::map<std::string, Gauge> gauges_;
  struct Counter {
    std::string help;
    std::function<Series()> series;
  };
  std::map<std::string, Counter> counters_;
  std::map<std::string, Counter> gauge_series_;
};

// Every consumer of the supervisor (engine/views/consumer.h) as the same series, labelled
// consumer="<name>": position, lag, lag in seconds, health, and its own counters.
void AddConsumerMetrics(Metrics& metrics, const ConsumerSupervisor& consumers);

}  // namespace procedo::http
