#include "audio/frequency_domain_adaptive_filter.h"

#include <algorithm>
#include <cmath>

namespace cloudlink::audio {

FrequencyDomainAdaptiveFilter::FrequencyDomainAdaptiveFilter(int partitions, int partition_taps,
                                                             int bins, int active_bins)
    : partitions_(partitions),
      partition_taps_(partition_taps),
      bins_(bins),
      active_bins_(active_bins),
      re_(static_cast<size_t>(partitions) * bins, 0.0f),
      im_(static_cast<size_t>(partitions) * bins, 0.0f),
      taps_(static_cast<size_t>(2 * (bins - 1)), 0.0f) {}

void FrequencyDomainAdaptiveFilter::Reset() {
  std::fill(re_.begin(), re_.end(), 0.0f);
  std::fill(im_.begin(), im_.end(), 0.0f);
}

void FrequencyDomainAdaptiveFilter::CopyFrom(const FrequencyDomainAdaptiveFilter& other) {
  re_ = other.re_;
  im_ = other.im_;
}

void FrequencyDomainAdaptiveFilter::Filter(const float* const* x_re, const float* const* x_im,
                                           float* y_re, float* y_im) const {
  std::fill(y_re, y_re + bins_, 0.0f);
  std::fill(y_im, y_im + bins_, 0.0f);
  for (int p = 0; p < partitions_; ++p) {
    const float* w_re = re(p);
    const float* w_im = im(p);
    const float* a_re = x_re[p];
    const float* a_im = x_im[p];
    for (int k = 0; k < active_bins_; ++k) {
      y_re[k] += w_re[k] * a_re[k] - w_im[k] * a_im[k];
      y_im[k] += w_re[k] * a_im[k] + w_im[k] * a_re[k];
    }
  }
}

void FrequencyDomainAdaptiveFilter::Adapt(const float* const* x_re, const float* const* x_im,
                                          const float* e_re, const float* e_im, const float* step) {
  for (int p = 0; p < partitions_; ++p) {
    float* w_re = re(p);
    float* w_im = im(p);
    const float* a_re = x_re[p];
    const float* a_im = x_im[p];
    for (int k = 0; k < active_bins_; ++k) {
      // E * conj(X), scaled by the per-bin step.
      const float g_re = e_re[k] * a_re[k] + e_im[k] * a_im[k];
      const float g_im = e_im[k] * a_re[k] - e_re[k] * a_im[k];
      w_re[k] += step[k] * g_re;
      w_im[k] += step[k] * g_im;
    }
  }
}

void FrequencyDomainAdaptiveFilter::Constrain(int partition, RealFft* fft) {
  // Back to taps, cut, and forward again; bins above active_bins_ that the
  // cut spread energy into are cleared.
  float* w_re = re(partition);
  float* w_im = im(partition);
  fft->Inverse(w_re, w_im, taps_.data());
  std::fill(taps_.begin() + partition_taps_, taps_.end(), 0.0f);
  fft->Forward(taps_.data(), w_re, w_im);
  std::fill(w_re + active_bins_, w_re + bins_, 0.0f);
  std::fill(w_im + active_bins_, w_im + bins_, 0.0f);
}

void FrequencyDomainAdaptiveFilter::ShiftTaps(int samples, RealFft* fft) {
  // The whole impulse response as one array of taps.
  const int total = partitions_ * partition_taps_;
  std::vector<float> response(static_cast<size_t>(total), 0.0f);
  for (int p = 0; p < partitions_; ++p) {
    fft->Inverse(re(p), im(p), taps_.data());
    std::copy(taps_.begin(), taps_.begin() + partition_taps_,
              response.begin() + static_cast<size_t>(p) * partition_taps_);
  }

  // Shifted copy, then back into partition spectra.
  std::vector<float> shifted(static_cast<size_t>(total), 0.0f);
  for (int n = 0; n < total; ++n) {
    const int from = n - samples;
    if (from >= 0 && from < total) shifted[n] = response[from];
  }
  for (int p = 0; p < partitions_; ++p) {
    std::fill(taps_.begin(), taps_.end(), 0.0f);
    std::copy(shifted.begin() + static_cast<size_t>(p) * partition_taps_,
              shifted.begin() + static_cast<size_t>(p + 1) * partition_taps_, taps_.begin());
    fft->Forward(taps_.data(), re(p), im(p));
    std::fill(re(p) + active_bins_, re(p) + bins_, 0.0f);
    std::fill(im(p) + active_bins_, im(p) + bins_, 0.0f);
  }
}

int FrequencyDomainAdaptiveFilter::PeakTap(RealFft* fft) const {
  // The partition of most energy (Parseval), then its largest tap.
  int best_partition = 0;
  float best_energy = -1.0f;
  for (int p = 0; p < partitions_; ++p) {
    float energy = 0.0f;
    for (int k = 0; k < active_bins_; ++k) energy += re(p)[k] * re(p)[k] + im(p)[k] * im(p)[k];
    if (energy > best_energy) {
      best_energy = energy;
      best_partition = p;
    }
  }
  fft->Inverse(re(best_partition), im(best_partition), taps_.data());
  int best_tap = 0;
  for (int n = 1; n < partition_taps_; ++n) {
    if (std::fabs(taps_[n]) > std::fabs(taps_[best_tap])) best_tap = n;
  }
  return best_partition * partition_taps_ + best_tap;
}

}  // namespace cloudlink::audio
