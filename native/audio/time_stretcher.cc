// Time stretching by whole pitch periods, in the WSOLA family (W. Verhelst
// and M. Roelands, "An overlap-add technique based on waveform similarity
// (WSOLA) for high quality time-scale modification of speech", ICASSP 1993):
// the pitch period is the lag of highest normalized cross-correlation, found
// on a decimated copy and refined at the full rate; a block is shortened by
// cross-fading one period into the next, or lengthened by cross-fading a copy
// of the period before, so the waveform stays continuous at both seams.

#include "audio/time_stretcher.h"

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace cloudlink::audio {
namespace {

// Pitch range searched: 2.5 ms (400 Hz, a high child's voice) to 15 ms
// (67 Hz, a low adult male voice), the range named for the jitter buffer.
constexpr double kMinPitchMs = 2.5;
constexpr double kMaxPitchMs = 15.0;

// A call needs two of the longest periods: the one spliced out (or copied)
// and the one it is compared with.
constexpr int kMinInputMs = 30;

// The coarse search runs at about 4 kHz: every pitch fundamental above stays
// below its 2 kHz Nyquist, and the search costs 1/144 of a 48 kHz one.
constexpr int kDecimatedRateHz = 4000;

// Shortest correlation window: 5 ms holds at least one period of 200 Hz and
// more, so short lags are judged on more than a fragment of a period.
constexpr double kMinWindowMs = 5.0;

// Normalized correlation a loud block needs. At 0.9 the energy of the
// difference of the two (normalized) periods is 2 * (1 - 0.9) = 0.2 of one
// period's, 7 dB down, which the cross-fade hides. Expanding repeats a period
// the listener hears twice, so it asks for a little more.
constexpr double kAccelerateCorrelation = 0.9;
constexpr double kExpandCorrelation = 0.92;

// A block quieter than -45 dBov RMS (full scale 32768) may be stretched at any
// lag: a seam there is at most a soft click well below any speech around it.
// A caller that knows the room's background (the jitter buffer does) may
// raise the level to just above it (SetQuietRms), so that the pauses of a
// noisy room count as quiet too.
constexpr double kQuietRms = 32768.0 * 0.0056;  // 10^(-45 / 20) = 0.0056

// A shorter lag is preferred over the best one when its correlation is
// within this margin: it is the fundamental, the best one a multiple of it.
constexpr double kFundamentalMargin = 0.03;

int MsToSamples(double ms, int rate_hz) {
  return static_cast<int>(std::lround(ms * rate_hz / 1000.0));
}

// Normalized cross-correlation of signal[0, window) and signal[lag, lag + window).
double NormalizedCorrelation(const float* signal, int lag, int window) {
  double cross = 0.0, energy_a = 0.0, energy_b = 0.0;
  for (int i = 0; i < window; ++i) {
    const double a = signal[i], b = signal[i + lag];
    cross += a * b;
    energy_a += a * a;
    energy_b += b * b;
  }
  const double denominator = std::sqrt(energy_a * energy_b);
  return denominator > 0.0 ? cross / denominator : 0.0;
}

// Raised-cosine fade-in weight of sample i of n: 0 at the start, 1 at the
// end, and the two weights of a cross-fade always sum to one.
float FadeIn(int i, int n) {
  constexpr double kPi = 3.14159265358979323846;
  return static_cast<float>(0.5 - 0.5 * std::cos(kPi * (i + 0.5) / n));
}

int16_t Mix(int16_t from, int16_t to, float to_weight) {
  const float value = from + to_weight * (to - from);
  return static_cast<int16_t>(std::clamp(std::lround(value), -32768L, 32767L));
}

}  // namespace

TimeStretcher::TimeStretcher(int sample_rate_hz, int channels)
    : sample_rate_hz_(sample_rate_hz), channels_(std::max(1, channels)) {
  decimation_ = std::max(1, sample_rate_hz_ / kDecimatedRateHz);
  min_lag_samples_ = std::max(2, MsToSamples(kMinPitchMs, sample_rate_hz_));
  max_lag_samples_ = std::max(min_lag_samples_, MsToSamples(kMaxPitchMs, sample_rate_hz_));
  min_window_samples_ = MsToSamples(kMinWindowMs, sample_rate_hz_);
  quiet_rms_ = kQuietRms;
}

int TimeStretcher::min_input_samples() const { return sample_rate_hz_ * kMinInputMs / 1000; }

void TimeStretcher::SetQuietRms(double rms) {
  quiet_rms_ = std::isfinite(rms) ? std::clamp(rms, kQuietRms, 32768.0) : kQuietRms;
}

double TimeStretcher::BestLag(const float* signal, int signal_samples, int first_lag, int last_lag,
                              int min_window_samples, int* best_lag) const {
  double best = -1.0;
  *best_lag = 0;
  for (int lag = first_lag; lag <= last_lag; ++lag) {
    const int window = std::max(lag, min_window_samples);
    if (lag + window > signal_samples) break;
    const double correlation = NormalizedCorrelation(signal, lag, window);
    if (correlation > best) {
      best = correlation;
      *best_lag = lag;
    }
  }
  return best;
}

double TimeStretcher::MixDown(const int16_t* input, int input_samples) {
  mono_.resize(static_cast<size_t>(input_samples));
  double energy = 0.0;
  for (int i = 0; i < input_samples; ++i) {
    int sum = 0;
    for (int c = 0; c < channels_; ++c) sum += input[static_cast<size_t>(i) * channels_ + c];
    mono_[i] = static_cast<float>(sum) / channels_;
    energy += static_cast<double>(mono_[i]) * mono_[i];
  }
  return std::sqrt(energy / input_samples);
}

void TimeStretcher::Decimate(int input_samples) {
  // A moving average over two decimation steps: its first null sits at the
  // decimated rate's Nyquist frequency.
  const int step = decimation_;
  const int average_span = step > 1 ? 2 * step : 1;
  const int decimated_samples = std::max(0, (input_samples - average_span) / step + 1);
  decimated_.resize(static_cast<size_t>(decimated_samples));
  double sum = 0.0;  // running sum of mono_[j * step, j * step + average_span)
  for (int k = 0; k < std::min(average_span, input_samples); ++k) sum += mono_[k];
  for (int j = 0; j < decimated_samples; ++j) {
    decimated_[j] = static_cast<float>(sum / average_span);
    const size_t start = static_cast<size_t>(j) * step;
    for (int k = 0; k < step && start + average_span + k < mono_.size(); ++k)
      sum += mono_[start + average_span + k] - mono_[start + k];
  }
}

int TimeStretcher::CoarseCandidates(int* candidates) {
  // Normalized correlation at every decimated lag in the pitch range.
  const int step = decimation_;
  const int decimated_samples = static_cast<int>(decimated_.size());
  const int first = std::max(1, min_lag_samples_ / step);
  const int last = (max_lag_samples_ + step - 1) / step;
  const int min_window = std::max(1, min_window_samples_ / step);
  std::vector<double>& coarse = coarse_correlation_;
  coarse.assign(static_cast<size_t>(last + 2), -1.0);
  for (int lag = first; lag <= last; ++lag) {
    const int window = std::max(lag, min_window);
    if (lag + window > decimated_samples) break;
    coarse[lag] = NormalizedCorrelation(decimated_.data(), lag, window);
  }

  // Keep the strongest positive local maxima, best first (insertion sort).
  double values[kCoarseCandidates] = {};
  int found = 0;
  for (int lag = first; lag <= last; ++lag) {
    const double value = coarse[lag];
    if (value <= 0.0 || value < coarse[lag - 1] || value < coarse[lag + 1]) continue;
    int slot = kCoarseCandidates - 1;
    if (found < kCoarseCandidates)
      slot = found++;
    else if (value <= values[slot])
      continue;
    for (; slot > 0 && values[slot - 1] < value; --slot) {
      candidates[slot] = candidates[slot - 1];
      values[slot] = values[slot - 1];
    }
    candidates[slot] = lag;
    values[slot] = value;
  }
  return found;
}

int TimeStretcher::RefineToFundamental(const int* candidates, int found, int input_samples,
                                       double* correlation) const {
  // Refine each candidate at the full rate: a decimated lag stands for the
  // full-rate lags within half a decimation step of it.
  const int step = decimation_;
  const int reach = step / 2 + 1;
  int lags[kCoarseCandidates] = {};
  double values[kCoarseCandidates] = {};
  double best_value = -1.0;
  for (int c = 0; c < found; ++c) {
    const int first = std::max(min_lag_samples_, candidates[c] * step - reach);
    const int last = std::min(max_lag_samples_, candidates[c] * step + reach);
    values[c] = BestLag(mono_.data(), input_samples, first, last, min_window_samples_, &lags[c]);
    best_value = std::max(best_value, values[c]);
  }

  // Prefer the shortest lag that is nearly as good as the best: the
  // fundamental period rather than a multiple of it.
  int lag = 0;
  *correlation = -1.0;
  for (int c = 0; c < found; ++c) {
    if (lags[c] == 0 || values[c] < best_value - kFundamentalMargin) continue;
    if (lag == 0 || lags[c] < lag) {
      lag = lags[c];
      *correlation = values[c];
    }
  }
  return lag;
}

int TimeStretcher::ChooseLag(const int16_t* input, int input_samples, double correlation_threshold,
                             bool allow_two_periods, int max_lag_samples) {
  // Both channels are spliced at the lag found on their mix.
  const bool quiet = MixDown(input, input_samples) < quiet_rms_;

  // Coarse search at about 4 kHz, refined at the full rate.
  Decimate(input_samples);
  int candidates[kCoarseCandidates] = {};
  const int found = CoarseCandidates(candidates);
  double correlation = -1.0;
  int lag = RefineToFundamental(candidates, found, input_samples, &correlation);

  // No periodicity at all (a constant block): a quiet block still stretches
  // by the shortest lag. A quiet period longer than the caller allows is
  // cut to the limit (a quiet block may go at any lag). Otherwise a loud
  // block must be periodic enough, and its period within the limit.
  if (max_lag_samples < min_lag_samples_) return 0;
  if (quiet && lag == 0) return min_lag_samples_;
  if (quiet && lag > max_lag_samples) return max_lag_samples;
  if (lag == 0 || lag > max_lag_samples) return 0;
  if (!quiet && correlation < correlation_threshold) return 0;

  // Two periods at once when they fit and still match as well.
  if (allow_two_periods && 2 * lag <= std::min(max_lag_samples_, max_lag_samples) &&
      4 * lag <= input_samples) {
    const int step = decimation_;
    const int last =
        std::min({2 * lag + step, max_lag_samples_, max_lag_samples, input_samples / 2});
    int double_lag = 0;
    const double double_correlation = BestLag(mono_.data(), input_samples, 2 * lag - step, last,
                                              min_window_samples_, &double_lag);
    if (double_lag > 0 && (quiet || double_correlation >= correlation_threshold)) lag = double_lag;
  }
  return lag;
}

int TimeStretcher::Accelerate(const int16_t* input, int input_samples, std::vector<int16_t>* output,
                              int max_removed_samples) {
  const size_t total = static_cast<size_t>(std::max(0, input_samples)) * channels_;
  if (input_samples < min_input_samples()) {
    output->assign(input, input + total);
    return 0;
  }
  const int lag =
      ChooseLag(input, input_samples, kAccelerateCorrelation, true, max_removed_samples);
  if (lag == 0) {
    output->assign(input, input + total);
    return 0;
  }

  // Cross-fade period [0, lag) into period [lag, 2 lag), then continue from
  // 2 lag: the first seam starts on input[0], the second ends on input[2 lag].
  output->resize(static_cast<size_t>(input_samples - lag) * channels_);
  int16_t* out = output->data();
  for (int i = 0; i < lag; ++i) {
    const float weight = FadeIn(i, lag);
    for (int c = 0; c < channels_; ++c) {
      const size_t at = static_cast<size_t>(i) * channels_ + c;
      out[at] = Mix(input[at], input[at + static_cast<size_t>(lag) * channels_], weight);
    }
  }
  std::copy(input + static_cast<size_t>(2 * lag) * channels_, input + total,
            out + static_cast<size_t>(lag) * channels_);
  return lag;
}

int TimeStretcher::PreemptiveExpand(const int16_t* input, int input_samples,
                                    std::vector<int16_t>* output) {
  const size_t total = static_cast<size_t>(std::max(0, input_samples)) * channels_;
  if (input_samples < min_input_samples()) {
    output->assign(input, input + total);
    return 0;
  }
  const int lag = ChooseLag(input, input_samples, kExpandCorrelation, false, max_lag_samples_);
  if (lag == 0) {
    output->assign(input, input + total);
    return 0;
  }

  // Keep period [0, lag), then cross-fade period [lag, 2 lag) into a second
  // copy of period [0, lag), then continue from lag: the inserted period
  // starts on input[lag] and ends where input[lag] follows naturally.
  const size_t lag_values = static_cast<size_t>(lag) * channels_;
  output->resize(total + lag_values);
  int16_t* out = output->data();
  std::copy(input, input + lag_values, out);
  for (int i = 0; i < lag; ++i) {
    const float weight = FadeIn(i, lag);
    for (int c = 0; c < channels_; ++c) {
      const size_t at = static_cast<size_t>(i) * channels_ + c;
      out[lag_values + at] = Mix(input[lag_values + at], input[at], weight);
    }
  }
  std::copy(input + lag_values, input + total, out + 2 * lag_values);
  return lag;
}

}  // namespace cloudlink::audio
