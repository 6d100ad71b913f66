// Target playout delay from measured network jitter and loss, after WebRTC
// NetEq's delay manager: each packet's relative arrival delay (its transit
// time minus the smallest transit over the last 2 s) feeds a histogram that
// forgets exponentially (over about 200 packets).
//
// The target is a protection: how long after its earliest possible arrival
// (the smallest transit) the first sample of a packet may be needed. Where
// NetEq takes a fixed quantile of the relative delay, the target here is
// the least protection at which the audio concealed because packets come
// late stays within a budget. A packet's 10 ms frames are needed one after
// the other, so only its first frame asks for the whole protection; and
// when the stream carries repair data (Opus in-band FEC or RED, both in
// the packet after a lost one), a lost packet is repaired only if its
// successor, sent one packet duration later, arrives by the lost one's
// frames. Both enter the concealed share, weighted by the loss rate. The
// target rises at once when that least protection rises and falls slowly.
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
  // Packet duration assumed until the stream tells its own (WebRTC's Opus).
  static constexpr double kDefaultPacketMs = 20.0;

  DelayManager(double min_delay_ms, double max_delay_ms);

  // Records one packet: when it arrived and its media time (RTP timestamp in
  // ms, unwrapped). Packets may come in any order.
  void Update(double arrival_ms, double media_time_ms);

  // The smallest transit time (arrival minus media time) expected of a
  // packet arriving at now_ms: the recent window's minimum, carried forward
  // by the clock skew. nullopt before the first packet.
  std::optional<double> min_transit_ms(double now_ms) const;

  // Tells the stream's packet duration (ms), how often packets are lost
  // (0..1) and whether a lost packet's successor carries repair data.
  void SetStreamShape(double packet_ms, double loss_fraction, bool repairable);

  // The protection to play out at, within [min_delay_ms, max_delay_ms].
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

  // Share of packets whose relative delay exceeds delay_ms.
  double LateShare(double delay_ms) const;
  // Share of the audio concealed because packets (or, for lost packets,
  // their repair) come later than the protection.
  double ConcealedShare(double protection_ms) const;
  // The least protection whose concealed share is within the budget.
  double NeededProtectionMs() const;
  // Transit with the clock skew taken out (relative to the first arrival).
  double Detrended(double arrival_ms, double transit_ms) const;
  // The smallest detrended transit of the window.
  double WindowMinimum() const;

  double min_delay_ms_;
  double max_delay_ms_;
  std::deque<Transit> window_;  // the last 2 s of arrivals, oldest first
  ClockSkewEstimator skew_;
  std::vector<double> histogram_;
  std::vector<double> mass_above_;  // histogram mass from each bucket up
  int64_t packets_ = 0;
  double smoothed_ms_ = kStartDelayMs;
  std::optional<double> first_arrival_ms_;
  std::optional<double> last_arrival_ms_;
  double packet_ms_ = kDefaultPacketMs;
  double loss_fraction_ = 0.0;
  bool repairable_ = false;
};

}  // namespace cloudlink::audio

#endif  // CLOUDLINK_AUDIO_DELAY_MANAGER_H_
