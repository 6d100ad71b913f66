// Background noise model for concealment and DTX gaps: tracks the level of
// the background (a minimum-statistics tracker, after R. Martin, "Noise
// power spectral density estimation based on optimal smoothing and minimum
// statistics", IEEE Trans. Speech Audio Proc. 2001, reduced to one band)
// and its spectral envelope (order-8 LPC by the Levinson-Durbin recursion,
// as RFC 3389 comfort noise describes it), and synthesises noise that
// matches both.

#ifndef CLOUDLINK_AUDIO_COMFORT_NOISE_H_
#define CLOUDLINK_AUDIO_COMFORT_NOISE_H_

#include <array>
#include <cstdint>
#include <vector>

namespace cloudlink::audio {

class ComfortNoise {
 public:
  // Prediction order of the noise envelope (RFC 3389 allows up to 10; NetEq
  // models its background noise with 8).
  static constexpr int kLpcOrder = 8;

  ComfortNoise(int sample_rate_hz, int channels);

  // Learns from decoded audio (interleaved, `samples` per channel). Each
  // channel has its own level and envelope.
  void Analyze(const int16_t* pcm, int samples);

  // Writes `samples` per channel of noise at the background level.
  void Generate(int samples, int16_t* out);

  // Mean power per sample of the background over the channels, in int16
  // units squared.
  double background_power() const;
  // True once a second of audio has been analysed: enough, in speech, to
  // have met a pause, so that the minimum is the background and not a
  // quiet stretch of the first words.
  bool background_known() const { return analyzed_samples_ >= sample_rate_hz_; }

  // True when the block's power is within a few dB of the background or
  // below -50 dBov: a place where dropping or repeating audio is inaudible.
  bool IsQuiet(const int16_t* pcm, int samples) const;

  void Reset();

 private:
  // One channel's background: level, envelope and synthesis state.
  struct Channel {
    double power = 0.0;
    std::array<double, kLpcOrder + 1> autocorrelation{};
    std::array<double, kLpcOrder + 1> lpc{};  // lpc[0] == 1
    double residual_ratio = 1.0;              // prediction error power / signal power
    std::array<double, kLpcOrder> history{};  // synthesis filter state
  };

  void AnalyzeChannel(const int16_t* pcm, int samples, double rise, Channel* channel) const;
  static void UpdateFilter(Channel* channel);

  int sample_rate_hz_;
  int channels_;
  bool has_level_ = false;
  int64_t analyzed_samples_ = 0;  // per channel
  std::vector<Channel> state_;
  uint32_t random_state_ = 0x12345678u;
};

}  // namespace cloudlink::audio

#endif  // CLOUDLINK_AUDIO_COMFORT_NOISE_H_
