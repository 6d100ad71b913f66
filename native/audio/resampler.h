// Streaming sample-rate converter for the rates a call meets (8, 16, 24, 32,
// 44.1 and 48 kHz): a polyphase windowed-sinc filter for the rational ratio
// L/M between them (R. E. Crochiere and L. R. Rabiner, "Interpolation and
// decimation of digital signals: a tutorial review", Proc. IEEE 69(3), 1981),
// the prototype low-pass designed with a Kaiser window (J. F. Kaiser,
// "Nonrecursive digital filter design using the I0-sinh window function",
// ISCAS 1974).

#ifndef CLOUDLINK_AUDIO_RESAMPLER_H_
#define CLOUDLINK_AUDIO_RESAMPLER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace cloudlink::audio {

class Resampler {
 public:
  // Returns an empty string when the rates and channel count are supported,
  // else a message that names the bad value.
  static std::string ValidateConfig(int input_rate_hz, int output_rate_hz, int channels);

  // The arguments must have passed ValidateConfig.
  Resampler(int input_rate_hz, int output_rate_hz, int channels);

  // Output samples per channel that the next Process() call makes from
  // `input_samples` more samples per channel. Depends only on how much input
  // came before, so any split of a stream into blocks gives the same total.
  size_t OutputSamplesFor(size_t input_samples) const;

  // Converts `input_samples` per channel (interleaved) and writes exactly
  // OutputSamplesFor(input_samples) per channel to `output`. int16 results
  // are rounded and saturated.
  void Process(const int16_t* input, size_t input_samples, int16_t* output);
  void Process(const float* input, size_t input_samples, float* output);

  // Output samples per channel that Flush() writes: delay_samples().
  size_t flush_samples() const { return static_cast<size_t>(delay_samples_); }

  // Pushes silence through the filter to bring out the last delay_samples()
  // samples per channel of the stream, then starts over as if new.
  void Flush(int16_t* output);
  void Flush(float* output);

  // Forgets the stream: history, position and phase.
  void Reset();

  // Group delay of the filter in whole output samples: output sample n
  // carries the input at time n - delay_samples().
  int delay_samples() const { return delay_samples_; }
  int input_rate_hz() const { return input_rate_hz_; }
  int output_rate_hz() const { return output_rate_hz_; }
  int channels() const { return channels_; }

 private:
  template <typename Sample>
  void Run(const Sample* input, size_t input_samples, Sample* output, size_t output_samples);
  template <typename Sample>
  void FlushTo(Sample* output);
  void DesignFilter();

  int input_rate_hz_;
  int output_rate_hz_;
  int channels_;
  // Output rate / input rate = up_factor_ / down_factor_, in lowest terms.
  int up_factor_ = 1;
  int down_factor_ = 1;
  // Taps per polyphase branch, and the branches one after another, each
  // reversed so that a branch is a plain dot product with the history.
  int taps_per_phase_ = 1;
  std::vector<float> phases_;
  int delay_samples_ = 0;

  // Per channel: the last taps_per_phase_ - 1 input samples, then the block
  // being converted, as floats.
  std::vector<std::vector<float>> history_;
  // Stream position: input samples consumed and output samples made, per
  // channel, since the start (or the last Reset).
  uint64_t input_consumed_ = 0;
  uint64_t output_made_ = 0;
};

}  // namespace cloudlink::audio

#endif  // CLOUDLINK_AUDIO_RESAMPLER_H_
