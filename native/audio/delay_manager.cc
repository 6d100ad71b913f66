#include "audio/delay_manager.h"

#include <algorithm>
#include <cmath>

namespace cloudlink::audio {

namespace {

// Histogram resolution.
constexpr double kBucketMs = 5.0;
// Transit history the relative delay is measured against (NetEq: 2 s).
constexpr double kTransitWindowMs = 2000.0;
// Per-packet forgetting of the histogram: a memory of about 200 packets (4 s
// at 20 ms). NetEq's 0.983 (60 packets) estimates a high quantile from too
// few samples: the estimate jumps, the target rises at once with it and the
// stretching that follows costs speech quality (bench/bench_loss_jitter.py,
// mean PESQ-WB over its 19 conditions, FEC 2.51 -> 2.53, RED 2.90 -> 2.95,
// for 1-4 ms less delay at 50 ms jitter).
constexpr double kForgetFactor = 0.995;
// The quantile of relative delay the target covers. NetEq uses 95%; with
// the 4 s memory above, 98% (99% before) meets issue #2's delay target at
// 50 ms jitter (mean delay within 1.3x the jitter p95) for no loss of
// PESQ-WB beyond the bench's noise (bench/bench_loss_jitter.py, with the
// two changes below: 12 of 38 rows over 1.3x instead of 26; mean PESQ-WB
// FEC 2.53 -> 2.51, RED 2.95 -> 2.86, both above the 0.983 memory's
// 2.51 / 2.90; the same quantiles with that memory lose 0.03 / 0.09).
constexpr double kQuantile = 0.98;
// A 10 ms pull needs the packet that holds its last sample: once stretching
// has moved the play position off the packet grid, the next packet's first
// sample lies 0-10 ms into a pull, so the packet is due that much earlier
// than its own delay says. The target adds half a frame, the mean of that
// lead; a whole frame (as before) keeps 5 ms more delay everywhere, none
// conceals 1-2% of the audio at 20 ms jitter.
constexpr double kPullFrameMs = 5.0;
// TODO(#2): at 20 ms jitter the delay is 1.9-2.5x the jitter p95, not 1.3x (q95 with no
// FEC horizon nor pull frame: 1.4-1.55x, and a FEC PESQ-WB gap of 0.85, not 0.40).
// Time constant of the fall toward a lower quantile: slow, so that one quiet
// second does not undo what a burst of jitter taught.
constexpr double kFallTimeConstantMs = 2000.0;
// Right after the start the 80 ms guess gives way faster to measurements.
constexpr double kSettleMs = 2000.0;
constexpr double kSettleFallTimeConstantMs = 400.0;
// Lost packets that the repair horizon may leave unrepaired, as a share
// of all packets: 0.5% (below what listeners notice with Opus concealment,
// ITU-T G.113 Appendix I gives Ie near 0 for Opus-like codecs at 0.5%).
constexpr double kResidualLossBudget = 0.005;
// The repair horizon covers at most this quantile, so that above 17% loss
// the budget gives way (20% loss: 0.6% unrepaired) rather than the delay
// (20% loss and 50 ms jitter: 1.3x the jitter p95 instead of 1.4x).
constexpr double kMaxRepairQuantile = 0.97;
// Lowest target: one 10 ms output frame, so that a frame never waits on a
// packet that arrives in the same pull period.
constexpr double kFloorMs = 10.0;

}  // namespace

DelayManager::DelayManager(double min_delay_ms, double max_delay_ms)
    : min_delay_ms_(min_delay_ms),
      max_delay_ms_(max_delay_ms),
      histogram_(static_cast<size_t>(max_delay_ms / kBucketMs) + 2, 0.0) {}

void DelayManager::Update(double arrival_ms, double media_time_ms) {
  // Step 1: slide the transit window (at least the newest packet stays).
  const double transit_ms = arrival_ms - media_time_ms;
  if (!first_arrival_ms_) first_arrival_ms_ = arrival_ms;
  skew_.Update(arrival_ms, transit_ms);
  window_.push_back({arrival_ms, transit_ms});
  while (window_.size() > 1 && window_.front().arrival_ms < arrival_ms - kTransitWindowMs)
    window_.pop_front();

  // Step 2: the histogram forgets a little and takes this packet's relative
  // delay; the first packets weigh more so that it fills quickly.
  const double relative_ms = Detrended(arrival_ms, transit_ms) - WindowMinimum();
  const double weight = std::max(1.0 - kForgetFactor, 1.0 / static_cast<double>(packets_ + 1));
  for (double& mass : histogram_) mass *= 1.0 - weight;
  // (clamped as a double first: an absurd arrival time must not overflow)
  const double last_bucket = static_cast<double>(histogram_.size() - 1);
  const auto bucket = static_cast<size_t>(std::clamp(relative_ms / kBucketMs, 0.0, last_bucket));
  histogram_[bucket] += weight;
  ++packets_;

  // Step 3: rise at once, fall with a time constant.
  const double quantile_ms = RawTargetMs();
  if (quantile_ms >= smoothed_ms_) {
    smoothed_ms_ = quantile_ms;
  } else {
    const double elapsed_ms =
        last_arrival_ms_ ? std::clamp(arrival_ms - *last_arrival_ms_, 0.0, 1000.0) : 0.0;
    const bool settling = arrival_ms - *first_arrival_ms_ < kSettleMs;
    const double tau_ms = settling ? kSettleFallTimeConstantMs : kFallTimeConstantMs;
    smoothed_ms_ -= (smoothed_ms_ - quantile_ms) * (1.0 - std::exp(-elapsed_ms / tau_ms));
  }
  if (!last_arrival_ms_ || arrival_ms > *last_arrival_ms_) last_arrival_ms_ = arrival_ms;
}

double DelayManager::QuantileMs(double q) const {
  // Linear within the bucket where the cumulative mass crosses q.
  double mass = 0.0;
  for (size_t i = 0; i < histogram_.size(); ++i) {
    if (mass + histogram_[i] >= q && histogram_[i] > 0.0)
      return (static_cast<double>(i) + (q - mass) / histogram_[i]) * kBucketMs;
    mass += histogram_[i];
  }
  return static_cast<double>(histogram_.size()) * kBucketMs;
}

// TODO(#2): the repair horizon is one packet; RED with two or more copies
// could repair bursts with a longer one when losses come in bursts.
double DelayManager::RawTargetMs() const {
  // A lost packet goes unrepaired when its successor is later than the
  // horizon: with loss rate p and horizon quantile q that happens to a share
  // p * (1 - q) of packets, held to the budget.
  const double jitter_ms = QuantileMs(kQuantile) + kPullFrameMs;
  if (repair_lookahead_ms_ <= 0.0 || loss_fraction_ <= kResidualLossBudget) return jitter_ms;
  const double repair_q = std::min(kMaxRepairQuantile, 1.0 - kResidualLossBudget / loss_fraction_);
  return std::max(jitter_ms, QuantileMs(repair_q) + kPullFrameMs + repair_lookahead_ms_);
}

void DelayManager::SetRepairNeed(double loss_fraction, double repair_lookahead_ms) {
  loss_fraction_ = std::clamp(loss_fraction, 0.0, 1.0);
  repair_lookahead_ms_ = std::max(0.0, repair_lookahead_ms);
}

double DelayManager::Detrended(double arrival_ms, double transit_ms) const {
  return transit_ms - skew_.skew() * (arrival_ms - first_arrival_ms_.value_or(arrival_ms));
}

double DelayManager::WindowMinimum() const {
  double minimum = Detrended(window_.front().arrival_ms, window_.front().transit_ms);
  for (const Transit& t : window_)
    minimum = std::min(minimum, Detrended(t.arrival_ms, t.transit_ms));
  return minimum;
}

std::optional<double> DelayManager::min_transit_ms(double now_ms) const {
  if (window_.empty()) return std::nullopt;
  return WindowMinimum() + skew_.skew() * (now_ms - first_arrival_ms_.value_or(now_ms));
}

double DelayManager::minimum_delay_ms() const {
  return std::clamp(smoothed_ms_, kFloorMs, max_delay_ms_);
}

double DelayManager::target_delay_ms() const {
  return std::clamp(std::max(smoothed_ms_, min_delay_ms_), kFloorMs, max_delay_ms_);
}

void DelayManager::ResetStream() {
  window_.clear();
  skew_.Reset();
  first_arrival_ms_.reset();
  last_arrival_ms_.reset();
}

void DelayManager::Reset() {
  ResetStream();
  loss_fraction_ = 0.0;
  repair_lookahead_ms_ = 0.0;
  std::fill(histogram_.begin(), histogram_.end(), 0.0);
  packets_ = 0;
  smoothed_ms_ = kStartDelayMs;
}

}  // namespace cloudlink::audio
