// Time stretching for the jitter buffer: shortens or lengthens a block of
// speech by whole pitch periods so that the playout delay can move toward
// its target without an audible glitch (WSOLA family: W. Verhelst and
// M. Roelands, "An overlap-add technique based on waveform similarity
// (WSOLA) for high quality time-scale modification of speech", ICASSP 1993).

#ifndef CLOUDLINK_AUDIO_TIME_STRETCHER_H_
#define CLOUDLINK_AUDIO_TIME_STRETCHER_H_

#include <cstddef>
#include <cstdint>
#include <limits>
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
  // input). Two periods go at once when both fit in 15 ms and match; stereo
  // is judged on the mix of its channels and both are cut alike.
  // At most max_removed_samples go: a loud block whose period is longer
  // is left as it was; a quiet one is cut by exactly that many.
  int Accelerate(const int16_t* input, int input_samples, std::vector<int16_t>* output,
                 int max_removed_samples = std::numeric_limits<int>::max());

  // Lengthens `input` the same way; returns the samples per channel added.
  int PreemptiveExpand(const int16_t* input, int input_samples, std::vector<int16_t>* output);

  // Blocks below this RMS (int16 scale) are quiet: stretched at any lag,
  // periodic or not. Never below the default, -45 dBov.
  void SetQuietRms(double rms);
  double quiet_rms() const { return quiet_rms_; }

  int sample_rate_hz() const { return sample_rate_hz_; }
  int channels() const { return channels_; }

 private:
  // Coarse candidates refined at the full rate: the best few local maxima of
  // the decimated correlation, so that a decimation error on the best one
  // does not lose the true period.
  static constexpr int kCoarseCandidates = 3;

  // The splice length in samples per channel (a pitch period, or two when
  // allow_two_periods) at which `input` may be stretched, or 0 when the block
  // is neither periodic enough nor quiet enough to stretch without a glitch.
  // `correlation_threshold` is the normalized cross-correlation a loud block
  // needs.
  int ChooseLag(const int16_t* input, int input_samples, double correlation_threshold,
                bool allow_two_periods, int max_lag_samples);

  // Mixes `input` down into mono_ and returns its RMS (int16 scale).
  double MixDown(const int16_t* input, int input_samples);

  // Low-passes and decimates the first input_samples of mono_ into decimated_.
  void Decimate(int input_samples);

  // Writes the lags (decimated) of the strongest correlation peaks of
  // decimated_ to `candidates`, best first; returns how many.
  int CoarseCandidates(int* candidates);

  // Refines the candidates on mono_ and returns the fundamental period (0
  // when none), with its normalized correlation in *correlation.
  int RefineToFundamental(const int* candidates, int found, int input_samples,
                          double* correlation) const;

  // The lag in [first_lag, last_lag] of `signal` with the highest normalized
  // cross-correlation, written to *best_lag and returned as its correlation.
  double BestLag(const float* signal, int signal_samples, int first_lag, int last_lag,
                 int min_window_samples, int* best_lag) const;

  int sample_rate_hz_;
  int channels_;
  int decimation_;                          // full-rate samples per decimated sample
  int min_lag_samples_;                     // shortest pitch period searched, full rate
  int max_lag_samples_;                     // longest pitch period searched, full rate
  int min_window_samples_;                  // shortest correlation window, full rate
  double quiet_rms_;                        // below it a block is quiet (int16 scale)
  std::vector<float> mono_;                 // the input mixed down to one channel
  std::vector<float> decimated_;            // mono_ low-passed and decimated
  std::vector<double> coarse_correlation_;  // by decimated lag
};

}  // namespace cloudlink::audio

#endif  // CLOUDLINK_AUDIO_TIME_STRETCHER_H_
