// The weights of a partitioned-block frequency-domain adaptive filter
// (J.-S. Soo and K. K. Pang, "Multidelay block frequency domain adaptive
// filter", IEEE Trans. ASSP 38(2), 1990): a long FIR filter cut into
// partitions of partition_taps taps, each held as the spectrum of its taps
// zero-padded to the FFT size, so that filtering a block costs one complex
// multiply-add per bin and partition (overlap-save).

#ifndef CLOUDLINK_AUDIO_FREQUENCY_DOMAIN_ADAPTIVE_FILTER_H_
#define CLOUDLINK_AUDIO_FREQUENCY_DOMAIN_ADAPTIVE_FILTER_H_

#include <cstddef>
#include <vector>

#include "audio/real_fft.h"

namespace cloudlink::audio {

class FrequencyDomainAdaptiveFilter {
 public:
  // partitions of partition_taps taps each over spectra of `bins` bins
  // (fft_size / 2 + 1); only the first active_bins bins are filtered and
  // adapted, the others stay zero.
  FrequencyDomainAdaptiveFilter(int partitions, int partition_taps, int bins, int active_bins);

  int partitions() const { return partitions_; }

  // Y[k] = sum_p W_p[k] X_p[k], where x_re[p] / x_im[p] is the far spectrum
  // seen by partition p (delayed by p * partition_taps samples).
  void Filter(const float* const* x_re, const float* const* x_im, float* y_re, float* y_im) const;

  // W_p[k] += step[k] * E[k] * conj(X_p[k]) for every partition: the
  // unconstrained gradient step of the normalised block LMS.
  void Adapt(const float* const* x_re, const float* const* x_im, const float* e_re,
             const float* e_im, const float* step);

  // Zeroes the taps of partition p beyond partition_taps (the gradient
  // constraint that keeps the circular convolution linear).
  void Constrain(int partition, RealFft* fft);

  // Moves every tap `samples` later (positive) or earlier (negative) across
  // the partitions; taps pushed past either end are lost. Constrains all
  // partitions on the way.
  void ShiftTaps(int samples, RealFft* fft);

  // Index of the tap of largest magnitude, over the whole filter.
  int PeakTap(RealFft* fft) const;

  void CopyFrom(const FrequencyDomainAdaptiveFilter& other);
  void Reset();

 private:
  float* re(int p) { return &re_[static_cast<size_t>(p) * bins_]; }
  float* im(int p) { return &im_[static_cast<size_t>(p) * bins_]; }
  const float* re(int p) const { return &re_[static_cast<size_t>(p) * bins_]; }
  const float* im(int p) const { return &im_[static_cast<size_t>(p) * bins_]; }

  int partitions_;
  int partition_taps_;
  int bins_;
  int active_bins_;
  std::vector<float> re_;
  std::vector<float> im_;
  mutable std::vector<float> taps_;
};

}  // namespace cloudlink::audio

#endif  // CLOUDLINK_AUDIO_FREQUENCY_DOMAIN_ADAPTIVE_FILTER_H_
