// NACK scheduling for RFC 4585 generic NACK: gaps in the unwrapped sequence
// (RFC 3550 appendix A.1) become missing entries, requested once per
// round-trip time until they arrive, run out of retries or grow too old; the
// first request may be repeated sooner than a round trip (repeat_delay_ms).

#include "rtp/nack_tracker.h"

#include <algorithm>
#include <cmath>

namespace cloudlink::rtp {

namespace {

constexpr int kMaxRetries = 100;          // beyond this a stream is better repaired by a keyframe
constexpr int kMaxMissingPackets = 3000;  // a longer gap is a restart (kMaxDropout)
constexpr int64_t kMaxDropout = 3000;     // RFC 3550 appendix A.1 MAX_DROPOUT

}  // namespace

std::string NackTracker::ValidateConfig(const NackTrackerConfig& config) {
  if (config.max_retries < 1 || config.max_retries > kMaxRetries)
    return "max_retries must be within 1..100, got " + std::to_string(config.max_retries);
  if (!std::isfinite(config.max_age_ms) || config.max_age_ms <= 0)
    return "max_age_ms must be a positive number, got " + std::to_string(config.max_age_ms);
  if (!std::isfinite(config.reorder_delay_ms) || config.reorder_delay_ms < 0 ||
      config.reorder_delay_ms >= config.max_age_ms)
    return "reorder_delay_ms must be within 0..max_age_ms, got " +
           std::to_string(config.reorder_delay_ms);
  if (!std::isfinite(config.repeat_delay_ms) || config.repeat_delay_ms < 0 ||
      config.repeat_delay_ms >= config.max_age_ms)
    return "repeat_delay_ms must be within 0..max_age_ms, got " +
           std::to_string(config.repeat_delay_ms);
  if (config.max_missing_packets < 1 || config.max_missing_packets > kMaxMissingPackets)
    return "max_missing_packets must be within 1..3000, got " +
           std::to_string(config.max_missing_packets);
  return "";
}

NackTracker::NackTracker(const NackTrackerConfig& config)
    : config_(config), unwrapper_(SequenceUnwrapper::kSequenceBits) {}

void NackTracker::Reset() {
  unwrapper_.Reset();
  highest_.reset();
  missing_.clear();
}

void NackTracker::DropOldestBeyondLimit() {
  while (missing_.size() > static_cast<size_t>(config_.max_missing_packets)) {
    missing_.erase(missing_.begin());
    ++packets_abandoned_;
  }
}

bool NackTracker::OnPacket(uint16_t sequence_number, double now_ms) {
  const int64_t sequence = unwrapper_.Unwrap(sequence_number);
  if (!highest_) {
    highest_ = sequence;
    return false;
  }

  // Step 1: a late packet fills its gap, if it is still tracked.
  if (sequence <= *highest_) {
    auto it = missing_.find(sequence);
    if (it == missing_.end()) return false;
    missing_.erase(it);
    ++packets_recovered_;
    return true;
  }

  // Step 2: a jump too far ahead is a restart of the sender (RFC 3550 A.1):
  // what was missing is given up, and the stream goes on from here.
  const int64_t gap = sequence - *highest_ - 1;
  if (gap >= kMaxDropout) {
    packets_abandoned_ += static_cast<int64_t>(missing_.size());
    missing_.clear();
    highest_ = sequence;
    return false;
  }

  // Step 3: a packet ahead opens a gap; only the newest max_missing_packets
  // of a long gap are tracked, the rest are given up at once.
  const int64_t tracked = std::min<int64_t>(gap, config_.max_missing_packets);
  packets_abandoned_ += gap - tracked;
  for (int64_t s = sequence - tracked; s < sequence; ++s)
    missing_[s] = MissingPacket{now_ms, 0.0, 0};
  highest_ = sequence;
  DropOldestBeyondLimit();
  return false;
}

double NackTracker::RetryDelayMs(const MissingPacket& entry, double rtt_ms) const {
  // The repeat of a first request, when set, comes before the round trip.
  if (entry.requests == 1 && config_.repeat_delay_ms > 0)
    return std::min(config_.repeat_delay_ms, rtt_ms);
  return rtt_ms;
}

std::vector<uint16_t> NackTracker::NackList(double now_ms, double rtt_ms) {
  std::vector<uint16_t> list;
  for (auto it = missing_.begin(); it != missing_.end();) {
    MissingPacket& entry = it->second;
    // Step 1: too old to be of use, or asked for often enough: give up.
    const bool due = entry.requests == 0
                         ? now_ms - entry.detected_ms >= config_.reorder_delay_ms
                         : now_ms - entry.last_request_ms >= RetryDelayMs(entry, rtt_ms);
    if (now_ms - entry.detected_ms > config_.max_age_ms ||
        (due && entry.requests >= config_.max_retries)) {
      it = missing_.erase(it);
      ++packets_abandoned_;
      continue;
    }

    // Step 2: request it when due.
    if (due) {
      list.push_back(static_cast<uint16_t>(it->first & 0xffff));
      entry.last_request_ms = now_ms;
      ++entry.requests;
      ++requests_sent_;
    }
    ++it;
  }
  return list;
}

std::vector<uint16_t> NackTracker::Missing() const {
  std::vector<uint16_t> list;
  list.reserve(missing_.size());
  for (const auto& [sequence, entry] : missing_) list.push_back(sequence & 0xffff);
  return list;
}

}  // namespace cloudlink::rtp
