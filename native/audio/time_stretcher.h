// Time stretching for the jitter buffer: shortens or lengthens a block of
// speech by whole pitch periods so that the playout delay can move toward
// its target without an audible glitch (WSOLA family: W. Verhelst and
// M. Roelands, "An overlap-add technique based on waveform similarity
// (WSOLA) for high quality time-scale modification of speech", ICASSP 1993).

#ifndef CLOUDLINK_AUDIO_TIME_STRETCHER_H_
#define CLOUDLINK_AUDIO_TIME_STRETCHER_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace cloudlink::audio {

class TimeStretcher {
 public:
  // sample_rate_hz: 8000..48000; channels: 1 or 2.
  TimeStretcher(int sample_rate_hz, int channels);

  // Least input a call needs, in samples per channel (30 ms).
  int min_input_samples() const;

  // Shortens `input` (interleaved, input_samples per channel, at least
  // min_input_samples) by about one pitch period where the signal allows it
  // without a glitch, and writes the result to `output`. Returns the samples
  // per channel removed; 0 means the block was left as it was (output equals
  // input).
  int Accelerate(const int16_t* input, int input_samples, std::vector<int16_t>* output);

  // Lengthens `input` the same way; returns the samples per channel added.
  int PreemptiveExpand(const int16_t* input, int input_samples, std::vector<int16_t>* output);

  int sample_rate_hz() const { return sample_rate_hz_; }
  int channels() const { return channels_; }

 private:
  int sample_rate_hz_;
  int channels_;
};

}  // namespace cloudlink::audio

#endif  // CLOUDLINK_AUDIO_TIME_STRETCHER_H_
