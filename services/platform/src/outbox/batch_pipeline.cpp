#include "outbox/batch_pipeline.hpp"

#include <algorithm>
#include <stdexcept>

namespace platform {

id_range batch_pipeline::in_flight_ids() const {
  if (batches_.empty())
    return {};
  id_range span{batches_.front().events.front().id, batches_.front().events.back().id};
  for (auto& b : batches_) {
    span.first = std::min(span.first, b.events.front().id);
    span.last = std::max(span.last, b.events.back().id);
  }
  return span;
}

void batch_pipeline::sent(std::vector<outbox_event> events, std::uint64_t first_sequence) {
  if (events.empty())
    return;
  auto n = events.size();
  batches_.push_back({first_sequence, std::move(events), std::vector<std::optional<
                        shared::amqp::confirm_status>>(n), n});
}

std::uint64_t batch_pipeline::oldest_last_sequence() const {
  auto& b = batches_.front();
  return b.first_sequence + b.events.size() - 1;
}

void batch_pipeline::settle(const std::map<std::uint64_t, shared::amqp::confirm_status>& settled) {
  for (auto& b : batches_) {
    auto from = settled.lower_bound(b.first_sequence);
    auto to = settled.upper_bound(b.first_sequence + b.events.size() - 1);
    for (auto i = from; i != to; ++i) {
      auto& status = b.status[i->first - b.first_sequence];
      if (!status) {
        status = i->second;
        --b.unsettled;
      }
    }
  }
}

std::size_t batch_pipeline::oldest_unsettled() const {
  return batches_.empty() ? 0 : batches_.front().unsettled;
}

std::vector<outbox_event> batch_pipeline::unsettled() const {
  std::vector<outbox_event> out;
  for (auto& b : batches_)
    for (std::size_t i = 0; i < b.events.size(); ++i)
      if (!b.status[i])
        out.push_back(b.events[i]);
  return out;
}

batch_outcome batch_pipeline::take_oldest() {
  if (batches_.empty() || batches_.front().unsettled > 0)
    throw std::logic_error("batch_pipeline: the oldest batch is not settled");
  auto b = std::move(batches_.front());
  batches_.pop_front();
  batch_outcome out;
  for (std::size_t i = 0; i < b.events.size(); ++i) {
    switch (*b.status[i]) {
      case shared::amqp::confirm_status::returned:
        out.returned.push_back(b.events[i]);
        [[fallthrough]];
      case shared::amqp::confirm_status::acked:
        out.confirmed.push_back(b.events[i].id);
        break;
      case shared::amqp::confirm_status::nacked:
        out.nacked.push_back(b.events[i]);
        break;
    }
  }
  return out;
}

} // namespace platform
