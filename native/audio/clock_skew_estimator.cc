#include "audio/clock_skew_estimator.h"

#include <algorithm>

namespace cloudlink::audio {

namespace {

// One minimum per second of arrivals; the fit spans the last 10 of them and
// needs 4 before it says anything.
constexpr double kBinMs = 1000.0;
constexpr size_t kMaxMinima = 10;
constexpr size_t kMinMinima = 4;
// Audio clocks are off by well under 1% (crystals: tens of ppm; sound
// cards that misreport their rate: up to a few tenths of a percent). A
// steeper fit is a network path change, not a clock.
constexpr double kMaxSkew = 0.02;

}  // namespace

void ClockSkewEstimator::Reset() {
  bin_start_ms_.reset();
  minima_.clear();
  skew_ = 0.0;
}

void ClockSkewEstimator::Update(double arrival_ms, double transit_ms) {
  // Step 1: a packet in the current bin only lowers its minimum.
  if (!bin_start_ms_) {
    bin_start_ms_ = arrival_ms;
    bin_min_transit_ms_ = transit_ms;
    return;
  }
  if (arrival_ms < *bin_start_ms_ + kBinMs) {
    bin_min_transit_ms_ = std::min(bin_min_transit_ms_, transit_ms);
    return;
  }

  // Step 2: a finished bin adds its minimum (at the bin's middle) to the fit.
  minima_.push_back({*bin_start_ms_ + kBinMs / 2, bin_min_transit_ms_});
  if (minima_.size() > kMaxMinima) minima_.pop_front();
  bin_start_ms_ = arrival_ms;
  bin_min_transit_ms_ = transit_ms;
  Fit();
}

void ClockSkewEstimator::Fit() {
  if (minima_.size() < kMinMinima) return;
  double mean_t = 0.0;
  double mean_y = 0.0;
  for (const Minimum& m : minima_) {
    mean_t += m.arrival_ms;
    mean_y += m.transit_ms;
  }
  mean_t /= static_cast<double>(minima_.size());
  mean_y /= static_cast<double>(minima_.size());
  double covariance = 0.0;
  double variance = 0.0;
  for (const Minimum& m : minima_) {
    covariance += (m.arrival_ms - mean_t) * (m.transit_ms - mean_y);
    variance += (m.arrival_ms - mean_t) * (m.arrival_ms - mean_t);
  }
  if (variance <= 0.0) return;
  skew_ = std::clamp(covariance / variance, -kMaxSkew, kMaxSkew);
}

}  // namespace cloudlink::audio
