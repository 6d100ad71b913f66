// Polyphase windowed-sinc resampling (Crochiere and Rabiner 1981), Kaiser
// window design formulas from Kaiser 1974 as given in A. V. Oppenheim and
// R. W. Schafer, "Discrete-Time Signal Processing", 3rd ed., section 7.6.

#include "audio/resampler.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

namespace cloudlink::audio {
namespace {

constexpr int kSupportedRatesHz[] = {8000, 16000, 24000, 32000, 44100, 48000};

// The pass band ends at 0.9 and the stop band starts at 1.0 of the lower of
// the two Nyquist frequencies: flat to 90% of the band, no aliasing at all.
constexpr double kPassbandEdge = 0.9;
constexpr double kStopbandEdge = 1.0;
// Design attenuation in the stop band; the same ripple (1e-4) in the pass
// band keeps it flat to about 0.001 dB.
constexpr double kStopbandAttenuationDb = 80.0;

constexpr double kPi = 3.14159265358979323846;

bool IsSupportedRate(int rate_hz) {
  return std::find(std::begin(kSupportedRatesHz), std::end(kSupportedRatesHz), rate_hz) !=
         std::end(kSupportedRatesHz);
}

// Zeroth-order modified Bessel function of the first kind, by its power
// series sum_k ((x/2)^k / k!)^2, which converges fast for the x <= 20 a
// Kaiser window needs.
double BesselI0(double x) {
  double sum = 1.0;
  double term = 1.0;
  for (int k = 1; k < 100 && term > 1e-12 * sum; ++k) {
    const double factor = x / (2.0 * k);
    term *= factor * factor;
    sum += term;
  }
  return sum;
}

// Dot product with four independent sums, so the compiler may keep them in
// vector registers without reassociating one float sum.
float DotProduct(const float* a, const float* b, int length) {
  float sums[4] = {0.0f, 0.0f, 0.0f, 0.0f};
  int i = 0;
  for (; i + 4 <= length; i += 4) {
    for (int lane = 0; lane < 4; ++lane) sums[lane] += a[i + lane] * b[i + lane];
  }
  for (; i < length; ++i) sums[0] += a[i] * b[i];
  return (sums[0] + sums[1]) + (sums[2] + sums[3]);
}

float ToFloat(int16_t sample) { return static_cast<float>(sample); }
float ToFloat(float sample) { return sample; }

template <typename Sample>
Sample FromFloat(float value);

template <>
int16_t FromFloat<int16_t>(float value) {
  const float rounded = std::nearbyint(value);
  return static_cast<int16_t>(std::min(32767.0f, std::max(-32768.0f, rounded)));
}

template <>
float FromFloat<float>(float value) {
  return value;
}

}  // namespace

std::string Resampler::ValidateConfig(int input_rate_hz, int output_rate_hz, int channels) {
  const std::string rates = "8000, 16000, 24000, 32000, 44100 or 48000";
  if (!IsSupportedRate(input_rate_hz))
    return "input_rate_hz must be " + rates + ", got " + std::to_string(input_rate_hz);
  if (!IsSupportedRate(output_rate_hz))
    return "output_rate_hz must be " + rates + ", got " + std::to_string(output_rate_hz);
  if (channels != 1 && channels != 2)
    return "channels must be 1 or 2, got " + std::to_string(channels);
  return "";
}

Resampler::Resampler(int input_rate_hz, int output_rate_hz, int channels)
    : input_rate_hz_(input_rate_hz), output_rate_hz_(output_rate_hz), channels_(channels) {
  const int divisor = std::gcd(input_rate_hz, output_rate_hz);
  up_factor_ = output_rate_hz / divisor;
  down_factor_ = input_rate_hz / divisor;
  DesignFilter();
  Reset();
}

void Resampler::DesignFilter() {
  // Equal rates: one branch with one tap of 1, a plain copy without delay.
  if (up_factor_ == 1 && down_factor_ == 1) {
    taps_per_phase_ = 1;
    phases_.assign(1, 1.0f);
    delay_samples_ = 0;
    return;
  }

  // The prototype low-pass runs at input rate x up_factor_ (= output rate x
  // down_factor_). Kaiser's formulas give its beta and its half length.
  const double prototype_rate_hz = static_cast<double>(input_rate_hz_) * up_factor_;
  const double nyquist_hz = std::min(input_rate_hz_, output_rate_hz_) / 2.0;
  const double cutoff_hz = nyquist_hz * (kPassbandEdge + kStopbandEdge) / 2.0;
  const double transition_rad =
      2.0 * kPi * nyquist_hz * (kStopbandEdge - kPassbandEdge) / prototype_rate_hz;
  // Kaiser's empirical fits (Oppenheim and Schafer eq. 7.75 and 7.76): beta
  // for an attenuation above 50 dB, and the order for a transition width.
  const double beta = 0.1102 * (kStopbandAttenuationDb - 8.7);
  const double half_length = (kStopbandAttenuationDb - 8.0) / (2.285 * transition_rad) / 2.0;

  // Centre the filter on a whole output sample, so the delay is an integer
  // number of output samples; then cut the prototype into branches.
  delay_samples_ = static_cast<int>(std::ceil(half_length / down_factor_));
  const double centre = static_cast<double>(delay_samples_) * down_factor_;
  const int length = static_cast<int>(centre + std::floor(half_length)) + 1;
  taps_per_phase_ = (length + up_factor_ - 1) / up_factor_;

  // Windowed sinc, with each branch scaled to unit gain at DC so that no
  // branch is louder than another (which would add a tone at the branch
  // rate).
  const double i0_beta = BesselI0(beta);
  phases_.assign(static_cast<size_t>(taps_per_phase_) * up_factor_, 0.0f);
  for (int phase = 0; phase < up_factor_; ++phase) {
    std::vector<double> taps(taps_per_phase_, 0.0);
    double sum = 0.0;
    for (int k = 0; k < taps_per_phase_; ++k) {
      const double offset = phase + static_cast<double>(k) * up_factor_ - centre;
      if (std::abs(offset) > half_length) continue;
      const double ratio = offset / half_length;
      const double window = BesselI0(beta * std::sqrt(1.0 - ratio * ratio)) / i0_beta;
      const double arg = 2.0 * cutoff_hz * offset / prototype_rate_hz;
      const double sinc = arg == 0.0 ? 1.0 : std::sin(kPi * arg) / (kPi * arg);
      taps[k] = sinc * window;
      sum += taps[k];
    }
    float* branch = &phases_[static_cast<size_t>(phase) * taps_per_phase_];
    for (int k = 0; k < taps_per_phase_; ++k)
      branch[taps_per_phase_ - 1 - k] = static_cast<float>(taps[k] / sum);
  }
}

void Resampler::Reset() {
  history_.assign(channels_, std::vector<float>(taps_per_phase_ - 1, 0.0f));
  input_consumed_ = 0;
  output_made_ = 0;
}

size_t Resampler::OutputSamplesFor(size_t input_samples) const {
  // Output n exists once input floor(n * M / L) has arrived, so after T
  // inputs there are ceil(T * L / M) outputs.
  const uint64_t total_input = input_consumed_ + input_samples;
  const uint64_t total_output = (total_input * up_factor_ + down_factor_ - 1) / down_factor_;
  return static_cast<size_t>(total_output - output_made_);
}

template <typename Sample>
void Resampler::Run(const Sample* input, size_t input_samples, Sample* output,
                    size_t output_samples) {
  // Append the block to each channel's history, as floats.
  const size_t kept = static_cast<size_t>(taps_per_phase_) - 1;
  for (int c = 0; c < channels_; ++c) {
    std::vector<float>& history = history_[c];
    history.resize(kept + input_samples);
    for (size_t i = 0; i < input_samples; ++i)
      history[kept + i] = ToFloat(input[i * channels_ + c]);
  }

  // Output n reads branch (n * M) mod L against the inputs that end at
  // floor(n * M / L); both are tracked relative to this block.
  const uint64_t first_position = output_made_ * down_factor_;
  size_t newest_input = static_cast<size_t>(first_position / up_factor_ - input_consumed_);
  int phase = static_cast<int>(first_position % up_factor_);
  for (size_t n = 0; n < output_samples; ++n) {
    const float* branch = &phases_[static_cast<size_t>(phase) * taps_per_phase_];
    for (int c = 0; c < channels_; ++c) {
      const float value = DotProduct(branch, &history_[c][newest_input], taps_per_phase_);
      output[n * channels_ + c] = FromFloat<Sample>(value);
    }
    phase += down_factor_;
    newest_input += static_cast<size_t>(phase / up_factor_);
    phase %= up_factor_;
  }

  // Keep the newest taps_per_phase_ - 1 inputs for the next block.
  for (int c = 0; c < channels_; ++c) {
    std::vector<float>& history = history_[c];
    std::memmove(history.data(), history.data() + input_samples, kept * sizeof(float));
    history.resize(kept);
  }
  input_consumed_ += input_samples;
  output_made_ += output_samples;
}

void Resampler::Process(const int16_t* input, size_t input_samples, int16_t* output) {
  Run(input, input_samples, output, OutputSamplesFor(input_samples));
}

void Resampler::Process(const float* input, size_t input_samples, float* output) {
  Run(input, input_samples, output, OutputSamplesFor(input_samples));
}

template <typename Sample>
void Resampler::FlushTo(Sample* output) {
  // Enough silence to bring out delay_samples_ more outputs: Z inputs make
  // more than Z * L / M - 1 outputs.
  const size_t wanted = flush_samples();
  const size_t zeros =
      (static_cast<size_t>(delay_samples_ + 1) * down_factor_ + up_factor_ - 1) / up_factor_;
  std::vector<Sample> silence(zeros * channels_, Sample{0});
  std::vector<Sample> tail(OutputSamplesFor(zeros) * channels_);
  Run(silence.data(), zeros, tail.data(), tail.size() / channels_);
  std::copy(tail.begin(), tail.begin() + wanted * channels_, output);
  Reset();
}

void Resampler::Flush(int16_t* output) { FlushTo(output); }
void Resampler::Flush(float* output) { FlushTo(output); }

}  // namespace cloudlink::audio
