// Estimates how fast the sender's media clock runs against ours, from the
// drift of the smallest transit time (arrival minus media time): the
// minimum of each second of arrivals sheds the queueing jitter, and a
// least-squares line through the last few minima gives the skew (the
// approach of the minimum-filter skew estimators, e.g. S. B. Moon, P.
// Skelly, D. Towsley, "Estimation and removal of clock skew from network
// delay measurements", IEEE INFOCOM 1999, with a sliding fit instead of
// their linear program).

#ifndef CLOUDLINK_AUDIO_CLOCK_SKEW_ESTIMATOR_H_
#define CLOUDLINK_AUDIO_CLOCK_SKEW_ESTIMATOR_H_

#include <deque>
#include <optional>

namespace cloudlink::audio {

class ClockSkewEstimator {
 public:
  // Records one packet's arrival time and transit time, both in ms.
  void Update(double arrival_ms, double transit_ms);

  // Transit drift in ms per ms of arrival time: positive when the sender's
  // clock is slow (its packets come later and later). 0 until measured.
  double skew() const { return skew_; }

  void Reset();

 private:
  struct Minimum {
    double arrival_ms;
    double transit_ms;
  };

  void Fit();

  std::optional<double> bin_start_ms_;
  double bin_min_transit_ms_ = 0.0;
  std::deque<Minimum> minima_;
  double skew_ = 0.0;
};

}  // namespace cloudlink::audio

#endif  // CLOUDLINK_AUDIO_CLOCK_SKEW_ESTIMATOR_H_
