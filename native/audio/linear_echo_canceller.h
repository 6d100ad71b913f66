// The linear stage of the echo canceller: a multidelay block frequency-domain
// adaptive filter (J.-S. Soo and K. K. Pang, IEEE Trans. ASSP 38(2), 1990)
// whose per-bin learning rate follows J.-M. Valin, "On adjusting the
// learning rate in frequency domain echo cancellation with double-talk",
// IEEE Trans. ASLP 15(3), 2007: the optimal step is the ratio of residual
// echo to error power. Valin estimates the residual echo by regressing error
// power on echo-estimate power; here the leakage (residual over estimated
// echo power) is instead learned in blocks whose error it explains, and
// creeps up while the background filter beats the foreground, which is how
// a changed echo path shows. A background filter adapts all the time; the
// foreground filter, whose output is used, takes its weights when it does
// better and gives them back when it diverges (the two-path scheme of
// K. Ochiai, T. Araseki and T. Ogihara, "Echo canceler with two echo path
// models", IEEE Trans. Commun. 25(6), 1977), so double talk cannot corrupt
// the output and a changed echo path is learned again.

#ifndef CLOUDLINK_AUDIO_LINEAR_ECHO_CANCELLER_H_
#define CLOUDLINK_AUDIO_LINEAR_ECHO_CANCELLER_H_

#include <vector>

#include "audio/frequency_domain_adaptive_filter.h"
#include "audio/real_fft.h"

namespace cloudlink::audio {

class LinearEchoCanceller {
 public:
  // block_samples: samples per call (10 ms); fft_size: a power of two of at
  // least 3 * block_samples; partitions of 2 * block_samples taps each;
  // active_bins: bins filtered (those below 8 kHz).
  LinearEchoCanceller(int block_samples, int fft_size, int partitions, int active_bins);

  // far_block: the last fft_size far-end samples, aligned to the echo delay
  // applied upstream, ending with this block; mic: block_samples samples.
  // Writes the microphone minus the foreground echo estimate to `error`.
  void Process(const float* far_block, const float* mic, float* error);

  // After the upstream delay moves by `blocks` blocks (positive: later), the
  // weights follow and the far spectra are recomputed: block_at(j) must give
  // the aligned far block j blocks back (j = 0 is the newest).
  template <typename BlockAt>
  void Realign(int blocks, BlockAt block_at) {
    foreground_.ShiftTaps(-blocks * block_samples_, &fft_);
    background_.ShiftTaps(-blocks * block_samples_, &fft_);
    for (int j = 0; j < history_blocks_; ++j) SetFarBlock(j, block_at(j));
  }

  // Samples from the aligned far end to the strongest echo tap.
  int PeakTapSamples() { return foreground_.PeakTap(&fft_); }

  // Smoothed ERLE of the foreground filter alone, in dB.
  float erle_db() const { return erle_db_; }
  // True once the filter has converged far enough to be trusted.
  bool adapted() const { return adapted_; }
  // Current leakage (residual-to-estimated echo power ratio).
  float leakage() const { return leakage_; }
  bool far_active() const { return far_active_; }
  // This block's error exceeds what the learned leakage explains: near
  // speech (or a changed echo path).
  bool near_suspected() const { return near_suspected_; }

  // The echo path is known to have changed: learn at full speed again.
  void Relearn();
  void Reset();

 private:
  // FFT of a far block into history slot j blocks back.
  void SetFarBlock(int blocks_back, const float* block);
  int Slot(int blocks_back) const;
  // Per-bin step of the background filter from the leakage.
  void ComputeStep();
  // Foreground/background comparison: copy or restore weights.
  void CompareFilters(float mic_energy, float fg_energy, float fg_echo_energy, float bg_energy);

  int block_samples_;
  int fft_size_;
  int bins_;
  int active_bins_;
  int partitions_;
  int blocks_per_partition_;
  int history_blocks_;
  RealFft fft_;
  FrequencyDomainAdaptiveFilter foreground_;
  FrequencyDomainAdaptiveFilter background_;

  // Far spectra ring, history_blocks_ x bins_.
  std::vector<float> far_re_;
  std::vector<float> far_im_;
  int newest_ = 0;
  std::vector<const float*> part_re_;
  std::vector<const float*> part_im_;
  std::vector<float> far_power_;  // sum over partitions of |X_p|^2 per bin

  // Scratch.
  std::vector<float> y_re_, y_im_, e_re_, e_im_, time_, step_;

  // Step control.
  std::vector<float> error_power_, echo_power_;
  float echo_held_ = 0.0f;
  bool near_suspected_ = false;
  float leakage_ = 0.0f;

  // Two-path comparison state.
  float fg_short_ = 0.0f, bg_short_ = 0.0f, fg_long_ = 0.0f, bg_long_ = 0.0f;
  float mic_smooth_ = 0.0f, fg_smooth_ = 0.0f, bg_smooth_ = 0.0f;
  float erle_db_ = 0.0f;
  bool adapted_ = false;
  bool far_active_ = false;
  int constrain_next_ = 0;
};

}  // namespace cloudlink::audio

#endif  // CLOUDLINK_AUDIO_LINEAR_ECHO_CANCELLER_H_
