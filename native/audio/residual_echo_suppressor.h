// Residual echo suppression after the linear echo canceller: a spectral gain
// per bin from the residual echo, estimated as the linear echo estimate
// scaled by the residual-to-estimate ratio measured while the far end talks
// alone, subtracted in power from what the linear stage left (S. Boll,
// "Suppression of acoustic noise in speech using spectral subtraction",
// IEEE Trans. ASSP 27(2), 1979), with comfort noise at the level of the
// tracked noise floor (R. Martin, "Noise power spectral density estimation
// based on optimal smoothing and minimum statistics", IEEE Trans. SAP 9(5),
// 2001, in its simplest fast-down slow-up form) so the output does not pump.
// Analysis and synthesis use square-root trapezoid windows whose squares
// overlap-add to one; the overlap delays the output by 4 ms.

#ifndef CLOUDLINK_AUDIO_RESIDUAL_ECHO_SUPPRESSOR_H_
#define CLOUDLINK_AUDIO_RESIDUAL_ECHO_SUPPRESSOR_H_

#include <cstdint>
#include <vector>

#include "audio/real_fft.h"

namespace cloudlink::audio {

class ResidualEchoSuppressor {
 public:
  // frame_samples: 10 ms at sample_rate_hz. Bins above 8 kHz get no echo
  // estimate and follow the gain of the 4-8 kHz octave.
  ResidualEchoSuppressor(int sample_rate_hz, int frame_samples);

  // mic: the microphone frame; error: the same frame after the linear
  // canceller; far_active: the far end played something in this frame;
  // near_active: the linear stage saw more error than its residual echo
  // explains. Writes the output, delayed by delay_samples(), to `out`.
  void Process(const float* mic, const float* error, bool far_active, bool near_active, float* out);

  int delay_samples() const { return overlap_samples_; }
  // The near end talks while the far end's echo is present.
  bool double_talk() const { return double_talk_; }
  // Mean gain (0..1) applied in the last frame below 8 kHz.
  float mean_gain() const { return mean_gain_; }

  void Reset();

 private:
  // Fills gain_ from the spectra of this frame; sets double_talk_.
  void ComputeGains(bool far_active, bool near_active);
  float NextUniform();

  int frame_samples_;
  int overlap_samples_;
  int fft_size_;
  int bins_;
  int active_bins_;
  int high_octave_bin_;
  RealFft fft_;
  std::vector<float> window_;
  float window_energy_ = 0.0f;

  std::vector<float> mic_history_, error_history_;  // frame + overlap samples
  std::vector<float> block_, tail_;
  std::vector<float> d_re_, d_im_, e_re_, e_im_;

  std::vector<float> noise_;           // noise floor of the error, per bin
  std::vector<float> error_smooth_;    // lightly smoothed error power
  std::vector<float> echo_held_;       // echo-estimate power with reverberant decay
  std::vector<float> residual_ratio_;  // residual-to-echo power ratio per bin
  std::vector<float> gain_;
  bool double_talk_ = false;
  float mean_gain_ = 1.0f;
  int frames_ = 0;
  uint32_t random_state_ = 1;
};

}  // namespace cloudlink::audio

#endif  // CLOUDLINK_AUDIO_RESIDUAL_ECHO_SUPPRESSOR_H_
