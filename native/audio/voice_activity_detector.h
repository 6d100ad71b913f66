// Voice activity decision on 10 ms frames, for DTX and active-speaker
// detection: the statistical-model detector of J. Sohn, N. S. Kim and
// W. Sung, "A statistical model-based voice activity detection", IEEE Signal
// Processing Letters 6(1), 1999, over a noise spectrum tracked in pauses and
// kept from locking onto a risen background by minimum statistics (R. Martin,
// "Noise power spectral density estimation based on optimal smoothing and
// minimum statistics", IEEE Trans. Speech and Audio Processing 9(5), 2001).

#ifndef CLOUDLINK_AUDIO_VOICE_ACTIVITY_DETECTOR_H_
#define CLOUDLINK_AUDIO_VOICE_ACTIVITY_DETECTOR_H_

#include <cstdint>
#include <string>
#include <vector>

namespace cloudlink::audio {

class VoiceActivityDetector {
 public:
  // Returns an empty string when valid, else a message naming the bad value.
  static std::string ValidateConfig(int sample_rate_hz, int hangover_ms);

  // The arguments must have passed ValidateConfig. hangover_ms keeps the
  // decision on after the last speech frame, so word endings and short
  // pauses are not cut (100-300 ms suits DTX and speaker switching).
  VoiceActivityDetector(int sample_rate_hz, int hangover_ms);

  // Samples in one 10 ms mono frame.
  int frame_samples() const { return frame_samples_; }

  // Judges one frame of frame_samples mono samples (int16 full scale 32768,
  // float full scale 1.0, NaN read as silence). Returns true while speech is
  // present, including the hangover after it. The background is learnt from
  // the first 100 ms (always judged silent) and from every pause after; a
  // louder background is taken as the new noise within about 1.5 s.
  bool ProcessInt16(const int16_t* frame);
  bool ProcessFloat(const float* frame);

  // The last decision, and the probability (0..1) that the last frame held
  // speech, before the hangover.
  bool active() const { return active_; }
  double speech_probability() const { return speech_probability_; }

  int sample_rate_hz() const { return sample_rate_hz_; }
  int hangover_ms() const { return hangover_ms_; }

  // Forgets the learnt background and the hangover.
  void Reset();

 private:
  // Judges the frame now in the second half of analysis_.
  bool Process();
  // The power spectrum of the windowed analysis buffer into power_.
  void ComputePowerSpectrum();
  // Sohn's mean log likelihood ratio of speech against noise over the bins.
  double MeanLogLikelihoodRatio();
  // Follows the background in pauses, and lifts it per band when the band's
  // minimum over the last 1.5 s says it has risen.
  void TrackNoise(bool speech);

  int sample_rate_hz_;
  int hangover_ms_;
  int frame_samples_;
  int hangover_frames_;
  int fft_size_;
  int first_bin_;                    // 100 Hz: below it lies hum, not speech
  int last_bin_;                     // exclusive; 8 kHz or Nyquist
  std::vector<int> band_first_bin_;  // the noise-rescue bands, as bins - first_bin_

  std::vector<float> window_;    // Hann over two frames
  std::vector<float> analysis_;  // the previous frame and the current one
  std::vector<float> fft_re_, fft_im_, cos_table_, sin_table_;
  std::vector<int> bit_reverse_;
  std::vector<float> power_;  // this frame's power per bin
  std::vector<float> noise_;  // background power per bin
  std::vector<float> clean_;  // last frame's speech power estimate per bin
  std::vector<double> band_smoothed_, band_window_min_, band_subwindow_min_;
  std::vector<std::vector<double>> band_history_min_;  // per completed sub-window

  double window_energy_ = 0.0;
  double frame_mean_square_ = 0.0;
  int frames_seen_ = 0;
  int subwindow_frames_ = 0;
  int subwindows_done_ = 0;
  int hangover_left_ = 0;
  bool speech_ = false;  // the last frame's decision before the hangover
  bool active_ = false;
  double speech_probability_ = 0.0;
};

}  // namespace cloudlink::audio

#endif  // CLOUDLINK_AUDIO_VOICE_ACTIVITY_DETECTOR_H_
