// Target playout delay from measured network jitter, after WebRTC NetEq's
// delay manager: each packet's relative arrival delay (its transit time
// minus the smallest transit over the last 2 s) feeds a histogram that
// forgets exponentially (over about 200 packets); the target is a high
// quantile of it (the 98th percentile) plus half the 10 ms output frame a
// pull must find whole, raised at once when it rises and lowered slowly.
//
// When packets are lost and the stream carries repair data (Opus in-band
// FEC or RED, both in the packet after the lost one), the target also
// covers that next packet: a lost packet is repaired only if its successor
// arrives by the lost one's playout time. The quantile of that second
// horizon is chosen so that lost-and-unrepaired packets stay within a
// residual-loss budget: it follows the loss rate.
//
// Transit times are corrected for clock skew (ClockSkewEstimator) before
// the window minimum is taken, so that a sender clock running slow or fast
// does not bias the relative delays by the skew times the window length.

#ifndef CLOUDLINK_AUDIO_DELAY_MANAGER_H_
#define CLOUDLINK_AUDIO_DELAY_MANAGER_H_

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "audio/clock_skew_estimator.h"

namespace cloudlink::audio {

class DelayManager {
 public:
  // Delay NetEq starts from before it has measured anything.
  static constexpr double kStartDelayMs = 80.0;

  DelayManager(double min_delay_ms, double max_delay_ms);

  // Records one packet: when it arrived and its media time (RTP timestamp in
  // ms, unwrapped). Packets may come in any order.
  void Update(double arrival_ms, double media_time_ms);

  // The smallest transit time (arrival minus media time) expected of a
  // packet arriving at now_ms: the recent window's minimum, carried forward
  // by the clock skew. nullopt before the first packet.
  std::optional<double> min_transit_ms(double now_ms) const;

  // Tells how often packets are lost (0..1) and how far ahead the repair
  // data travels (the packet duration, in ms); 0 turns repair off.
  void SetRepairNeed(double loss_fraction, double repair_lookahead_ms);

  // The delay to play out at, within [min_delay_ms, max_delay_ms].
  double target_delay_ms() const;
  // The same estimate without the caller's minimum (W3C
  // jitterBufferMinimumDelay).
  double minimum_delay_ms() const;

  // Forgets the transit history (a new sender clock) but keeps what was
  // learnt about the network.
  void ResetStream();
  // Back to the state before the first packet.
  void Reset();

 private:
  struct Transit {
    double arrival_ms;
    double transit_ms;
  };

  // Quantile q of relative delay.
  double QuantileMs(double q) const;
  // Transit with the clock skew taken out (relative to the first arrival).
  double Detrended(double arrival_ms, double transit_ms) const;
  // The smallest detrended transit of the window.
  double WindowMinimum() const;
  // The quantile target, the repair horizon included.
  double RawTargetMs() const;

  double min_delay_ms_;
  double max_delay_ms_;
  std::deque<Transit> window_;  // the last 2 s of arrivals, oldest first
  ClockSkewEstimator skew_;
  std::vector<double> histogram_;
  int64_t packets_ = 0;
  double smoothed_ms_ = kStartDelayMs;
  std::optional<double> first_arrival_ms_;
  std::optional<double> last_arrival_ms_;
  double loss_fraction_ = 0.0;
  double repair_lookahead_ms_ = 0.0;
};

}  // namespace cloudlink::audio

#endif  // CLOUDLINK_AUDIO_DELAY_MANAGER_H_
