// Voice activity decision on 10 ms frames, for DTX and active-speaker
// detection: the statistical-model detector of J. Sohn, N. S. Kim and
// W. Sung, "A statistical model-based voice activity detection", IEEE Signal
// Processing Letters 6(1), 1999, over a noise spectrum tracked in pauses and
// kept from locking onto a risen background by minimum statistics (R. Martin,
// "Noise power spectral density estimation based on optimal smoothing and
// minimum statistics", IEEE Trans. Speech and Audio Processing 9(5), 2001).
// Two rules of our own keep a background that is itself speech-like from
// passing for the talker: a frame must stand above the levels the background
// reaches (babble), and in a background of short clicks (typing) an onset
// must last a second frame.

#ifndef CLOUDLINK_AUDIO_VOICE_ACTIVITY_DETECTOR_H_
#define CLOUDLINK_AUDIO_VOICE_ACTIVITY_DETECTOR_H_

#include <array>
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
  // louder background is taken as the new noise within about 1.5 s (a
  // babble once even its quietest 10 ms stand 6 dB over the old one). Where
  // keyboard clicks have been heard, speech is reported from the second
  // frame of each onset (10 ms later).
  bool ProcessInt16(const int16_t* frame);
  bool ProcessFloat(const float* frame);

  // The last decision, and the probability (0..1) that the last frame held
  // speech, before the hangover (0 when its level is within the
  // background's or its onset waits for a second frame).
  bool active() const { return active_; }
  double speech_probability() const { return speech_probability_; }

  int sample_rate_hz() const { return sample_rate_hz_; }
  int hangover_ms() const { return hangover_ms_; }

  // Forgets the learnt background and the hangover.
  void Reset();

 private:
  // Judges the frame now in the second half of analysis_.
  bool Process();
  // The power spectrum of the windowed analysis buffer into power_, its
  // level into level_db_, and the speech-band power of the new frame alone
  // into new_frame_power_.
  void ComputePowerSpectrum();
  // Sohn's mean log likelihood ratio of speech against noise over the bins.
  double MeanLogLikelihoodRatio();
  // Whether the frame's level stands above those the background reaches.
  bool AboveBackgroundLevel() const;
  // The decision for a frame that passed the other tests: false while an
  // onset waits for its second frame in a background of clicks. Counts the
  // clicks (blips) it sees.
  bool ConfirmOnset(bool candidate);
  void CountBlip();
  // Follows the background in pauses, and lifts it per band when the band's
  // minimum over the last 1.5 s says it has risen. Keeps the minimum level
  // over the same 1.5 s.
  void TrackNoise(bool speech);
  // Learns the background's level and spread (startup, pauses away from
  // loud speech) and relearns them when its minimum says it has risen.
  void TrackBackgroundLevel(bool speech);

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

  // Levels in dB of power in int16 units, over the speech band: this
  // frame's, the background's mean and mean shortfall below it (its spread),
  // and the lowest level of a new 10 ms per sub-window (the same 1.5 s as
  // the bands).
  double level_db_ = 0.0;
  double background_level_db_ = 0.0;
  double background_spread_db_ = 0.0;
  double level_subwindow_min_db_ = 0.0;
  std::vector<double> level_history_min_db_;
  // Levels of the frames learnt outright (startup or relearning), the frames
  // learnt into the level and into the spread (for their running means), the
  // frames still to take outright, and the frames since one 6 dB over the
  // background.
  std::vector<double> outright_levels_db_;
  int level_frames_learnt_ = 0;
  int spread_frames_learnt_ = 0;
  int relearn_frames_left_ = 0;
  int frames_since_loud_ = 0;

  // Clicks: the new frame's speech-band power, the onset waiting for its
  // second frame, the length of the current speech run, the frames since
  // the last two blips, and how long onsets still wait.
  double new_frame_power_ = 0.0;
  bool onset_waiting_ = false;
  double waiting_power_ = 0.0;
  int run_frames_ = 0;
  std::array<int, 2> frames_since_blip_ = {0, 0};
  int click_wait_frames_left_ = 0;
};

}  // namespace cloudlink::audio

#endif  // CLOUDLINK_AUDIO_VOICE_ACTIVITY_DETECTOR_H_
