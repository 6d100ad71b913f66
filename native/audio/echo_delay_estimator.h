// Coarse estimate of the echo delay: how many 10 ms frames after the far end
// is played its echo reaches the microphone. It correlates the band-energy
// envelopes of the two signals over every candidate lag (echo handled in a
// spectral envelope space, as in C. Faller and J. Chen, "Suppressing
// acoustic echo in a spectral envelope space", IEEE Trans. Speech Audio
// Process. 13(5), 2005), so the adaptive filter only has to span the echo
// tail, not the pure delay.

#ifndef CLOUDLINK_AUDIO_ECHO_DELAY_ESTIMATOR_H_
#define CLOUDLINK_AUDIO_ECHO_DELAY_ESTIMATOR_H_

#include <cstddef>
#include <optional>
#include <vector>

#include "audio/real_fft.h"

namespace cloudlink::audio {

class EchoDelayEstimator {
 public:
  // frame_samples: one 10 ms frame at sample_rate_hz; max_delay_frames: the
  // longest lag searched.
  EchoDelayEstimator(int sample_rate_hz, int frame_samples, int max_delay_frames);

  // Feeds one far-end frame and the microphone frame captured at the same
  // time (frame_samples each, full scale 1.0).
  void Update(const float* far, const float* mic);

  // The delay in frames once one lag has stood out long enough.
  std::optional<int> delay_frames() const { return delay_frames_; }
  // Normalised correlation of the envelopes at the chosen lag (0..1).
  float confidence() const { return confidence_; }

  void Reset();

 private:
  // Log band energies of `frame` minus their running means, into `features`.
  void Features(const float* frame, std::vector<float>* means, float* features, float* energy);

  int frame_samples_;
  int max_delay_frames_;
  int bands_;
  std::vector<int> band_edges_;  // bands_ + 1 bin indices
  RealFft fft_;
  std::vector<float> block_;
  std::vector<float> re_;
  std::vector<float> im_;

  std::vector<float> far_means_;
  std::vector<float> mic_means_;
  // Far features of the last max_delay_frames + 1 frames, ring indexed by
  // frame count.
  std::vector<float> far_history_;
  std::vector<char> far_active_history_;
  int newest_ = 0;
  std::vector<float> mic_features_;

  // Smoothed cross products and energies per lag.
  std::vector<float> cross_;
  std::vector<float> far_power_;
  std::vector<float> mic_power_lag_;

  std::optional<int> delay_frames_;
  int candidate_ = -1;
  int candidate_frames_ = 0;
  float confidence_ = 0.0f;
  int frames_ = 0;
};

}  // namespace cloudlink::audio

#endif  // CLOUDLINK_AUDIO_ECHO_DELAY_ESTIMATOR_H_
