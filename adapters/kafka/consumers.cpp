#include "adapters/kafka/consumers.h"

namespace procedo::kafka {

Status RelayConsumer::Start() {
  std::lock_guard lock(mu_);
  if (relay_) return Status::Ok();
  auto r = KafkaRelay::Start(log_, options_);
  if (!r.ok()) return r.status();
  relay_ = std::move(r).value();
  return Status::Ok();
}

void RelayConsumer::Stop() {
  std::unique_ptr<KafkaRelay> relay;
  {
    std::lock_guard lock(mu_);
    relay = std::move(relay_);
  }
  if (relay) relay->Stop();
}

ConsumerProgress RelayConsumer::Progress() const {
  std::lock_guard lock(mu_);
  ConsumerProgress p;
  p.essential = false;
  if (!relay_) {
    p.health = Status::Unavailable("the Kafka relay is not running");
    return p;
  }
  const RelayLag lag = relay_->Lag();
  p.position = lag.confirmed;
  p.lag = lag.positions;
  p.lag_seconds = lag.seconds;
  if (!lag.last_error.empty()) p.health = Status::Unavailable(lag.last_error);
  p.counters = {{"delivered", static_cast<double>(lag.delivered)},
                {"restarts", static_cast<double>(lag.restarts)}};
  return p;
}

Status CommandsConsumer::Start() {
  std::lock_guard lock(mu_);
  if (consumer_) return Status::Ok();
  auto c = CommandConsumer::Start(handler_, keys_, options_);
  if (!c.ok()) return c.status();
  consumer_ = std::move(c).value();
  return Status::Ok();
}

void CommandsConsumer::Stop() {
  std::unique_ptr<CommandConsumer> consumer;
  {
    std::lock_guard lock(mu_);
    consumer = std::move(consumer_);
  }
  if (consumer) consumer->Stop();
}

ConsumerProgress CommandsConsumer::Progress() const {
  std::lock_guard lock(mu_);
  ConsumerProgress p;
  p.essential = false;
  if (!consumer_) {
    p.health = Status::Unavailable("the Kafka command consumer is not running");
    return p;
  }
  const CommandConsumerStats st = consumer_->Stats();
  p.position = st.accepted + st.deduplicated + st.refused + st.malformed + st.unauthenticated;
  p.lag = static_cast<uint64_t>(std::max<int64_t>(0, st.lag));
  if (!st.last_error.empty()) p.health = Status::Unavailable(st.last_error);
  auto n = [](uint64_t v) { return static_cast<double>(v); };
  p.counters = {{"received", n(st.received)},
                {"accepted", n(st.accepted)},
                {"deduplicated", n(st.deduplicated)},
                {"refused", n(st.refused)},
                {"malformed", n(st.malformed)},
                {"unauthenticated", n(st.unauthenticated)},
                {"results_delivered", n(st.results_delivered)},
                {"commits", n(st.commits)},
                {"restarts", n(st.restarts)}};
  return p;
}

}  // namespace procedo::kafka
