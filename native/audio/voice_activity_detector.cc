// Statistical-model voice activity detection (Sohn, Kim and Sung, IEEE SPL
// 1999): per frequency bin, speech and noise are taken as complex Gaussians;
// the mean over the speech band of the bins' log likelihood ratios, with the
// a priori SNR estimated "decision-directed" (Y. Ephraim and D. Malah, IEEE
// Trans. ASSP 32(6), 1984), is the frame's evidence for speech. The noise
// spectrum follows the background in pauses; per band, the minimum of the
// smoothed power over 1.5 s (Martin 2001) lifts it when the background grows
// louder than a pause-only tracker could learn.

#include "audio/voice_activity_detector.h"

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace cloudlink::audio {
namespace {

constexpr double kPi = 3.14159265358979323846;

// Sample rates accepted: 8 kHz (narrowband) to 48 kHz (fullband), whole
// samples per 10 ms frame.
constexpr int kMinRateHz = 8000;
constexpr int kMaxRateHz = 48000;
constexpr int kFramesPerSecond = 100;  // 10 ms frames
constexpr int kMaxHangoverMs = 10000;

// The speech band analysed: 100 Hz (below it: hum and handling noise) to
// 8 kHz (above it: little speech energy, much hiss).
constexpr double kLowestHz = 100.0;
constexpr double kHighestHz = 8000.0;

// Bands in which minimum statistics may lift the noise: octaves, so a
// coloured background rises band by band.
constexpr double kBandEdgesHz[] = {250.0, 500.0, 1000.0, 2000.0, 4000.0};

// Decision-directed a priori SNR: Ephraim and Malah's smoothing 0.98, and a
// floor of -25 dB so a bin never rules speech out completely.
constexpr double kAprioriSmoothing = 0.98;
constexpr double kMinAprioriSnr = 0.00316;  // 10^(-25 / 10)

// Mean log likelihood ratio at which a frame is speech, with hysteresis:
// speech starts above 0.08 and goes on while above 0.03; the logistic of
// width 0.01 around the threshold in force gives the probability. Tuned on
// the committed espeak speech in white noise at -50 and -30 dBFS, where
// frames of noise alone stay under 0.03 in 99% of cases and reach 0.08 about
// once a minute at 8 kHz (never in 2 minutes at 16 or 48 kHz), and speech
// within 5 dB of the noise or louder clears them on about 90% of its frames.
// TODO(#2): tuned on synthetic speech in white noise only; babble and office
// noise may need other thresholds, and the margins measured may be optimistic.
constexpr double kLlrOnThreshold = 0.08;
constexpr double kLlrOffThreshold = 0.03;
constexpr double kLlrSlope = 0.01;

// A frame quieter than -60 dBov is never speech worth sending.
constexpr double kMinSpeechMeanSquare = 1e-6;  // 10^(-60 / 10) of full scale

// Power floor per bin (about -150 dBov), so that digital silence divides by
// nothing smaller.
constexpr float kPowerFloor = 1e-15f * 32768.0f * 32768.0f;

// Noise learning: the first 100 ms are taken as background outright (and
// judged silent, for lack of a reference); after that, each pause frame
// moves the estimate 5% of the way (a time constant of about 200 ms, which
// averages enough frames to keep single noise frames from looking like
// speech).
constexpr int kStartupFrames = 10;
constexpr double kNoiseSmoothing = 0.05;

// Minimum statistics: band power smoothed over frames (0.3 new), its minimum
// kept per 250 ms sub-window over the last 6 (1.5 s, Martin's window); the
// minimum of noisy power lies under the mean, so only a minimum 3 dB above
// the estimate lifts it.
constexpr double kBandSmoothing = 0.3;
constexpr int kSubwindowFrames = 25;
constexpr int kSubwindows = 6;
constexpr double kNoiseRiseRatio = 2.0;

constexpr double kInt16FullScale = 32768.0;

// In-place radix-2 complex FFT of re/im (power-of-two length) with
// precomputed tables: cos/sin of 2 pi k / n for k < n / 2, and the
// bit-reversed index of every position.
void Fft(std::vector<float>& re, std::vector<float>& im, const std::vector<float>& cos_table,
         const std::vector<float>& sin_table, const std::vector<int>& bit_reverse) {
  const int n = static_cast<int>(re.size());
  for (int i = 0; i < n; ++i) {
    const int j = bit_reverse[i];
    if (i < j) {
      std::swap(re[i], re[j]);
      std::swap(im[i], im[j]);
    }
  }
  for (int length = 2; length <= n; length <<= 1) {
    const int half = length / 2;
    const int stride = n / length;
    for (int start = 0; start < n; start += length) {
      for (int k = 0; k < half; ++k) {
        const float wr = cos_table[k * stride], wi = -sin_table[k * stride];
        const int a = start + k, b = a + half;
        const float tr = re[b] * wr - im[b] * wi;
        const float ti = re[b] * wi + im[b] * wr;
        re[b] = re[a] - tr;
        im[b] = im[a] - ti;
        re[a] += tr;
        im[a] += ti;
      }
    }
  }
}

}  // namespace

std::string VoiceActivityDetector::ValidateConfig(int sample_rate_hz, int hangover_ms) {
  if (sample_rate_hz < kMinRateHz || sample_rate_hz > kMaxRateHz ||
      sample_rate_hz % kFramesPerSecond != 0)
    return "sample_rate_hz must be a multiple of 100 in 8000..48000, got " +
           std::to_string(sample_rate_hz);
  if (hangover_ms < 0 || hangover_ms > kMaxHangoverMs)
    return "hangover_ms must be 0..10000, got " + std::to_string(hangover_ms);
  return "";
}

VoiceActivityDetector::VoiceActivityDetector(int sample_rate_hz, int hangover_ms)
    : sample_rate_hz_(sample_rate_hz), hangover_ms_(hangover_ms) {
  // Frame, hangover and transform sizes: two frames, Hann-windowed, padded
  // to a power of two.
  frame_samples_ = sample_rate_hz_ / kFramesPerSecond;
  hangover_frames_ = (hangover_ms_ * kFramesPerSecond + 999) / 1000;
  fft_size_ = 1;
  while (fft_size_ < 2 * frame_samples_) fft_size_ <<= 1;
  const double bin_hz = static_cast<double>(sample_rate_hz_) / fft_size_;
  first_bin_ = static_cast<int>(std::ceil(kLowestHz / bin_hz));
  last_bin_ = std::min(fft_size_ / 2, static_cast<int>(kHighestHz / bin_hz) + 1);
  band_first_bin_.push_back(0);
  for (double edge_hz : kBandEdgesHz) {
    const int bin = static_cast<int>(std::lround(edge_hz / bin_hz)) - first_bin_;
    if (bin > band_first_bin_.back() && bin < last_bin_ - first_bin_)
      band_first_bin_.push_back(bin);
  }

  // Tables: the window, the FFT's twiddles and bit reversal.
  const int analysis_samples = 2 * frame_samples_;
  window_.resize(analysis_samples);
  for (int i = 0; i < analysis_samples; ++i) {
    const double s = std::sin(kPi * (i + 0.5) / analysis_samples);
    window_[i] = static_cast<float>(s * s);
    window_energy_ += static_cast<double>(window_[i]) * window_[i];
  }
  cos_table_.resize(fft_size_ / 2);
  sin_table_.resize(fft_size_ / 2);
  for (int k = 0; k < fft_size_ / 2; ++k) {
    cos_table_[k] = static_cast<float>(std::cos(2.0 * kPi * k / fft_size_));
    sin_table_[k] = static_cast<float>(std::sin(2.0 * kPi * k / fft_size_));
  }
  bit_reverse_.resize(fft_size_);
  int bits = 0;
  while ((1 << bits) < fft_size_) ++bits;
  for (int i = 0; i < fft_size_; ++i) {
    int reversed = 0;
    for (int b = 0; b < bits; ++b) reversed |= ((i >> b) & 1) << (bits - 1 - b);
    bit_reverse_[i] = reversed;
  }

  fft_re_.resize(fft_size_);
  fft_im_.resize(fft_size_);
  Reset();
}

void VoiceActivityDetector::Reset() {
  const size_t bins = static_cast<size_t>(last_bin_ - first_bin_);
  const size_t bands = band_first_bin_.size();
  analysis_.assign(2 * static_cast<size_t>(frame_samples_), 0.0f);
  power_.assign(bins, kPowerFloor);
  noise_.assign(bins, kPowerFloor);
  clean_.assign(bins, 0.0f);
  band_smoothed_.assign(bands, 0.0);
  band_subwindow_min_.assign(bands, 0.0);
  band_history_min_.assign(kSubwindows, std::vector<double>(bands, 0.0));
  frames_seen_ = 0;
  subwindow_frames_ = 0;
  subwindows_done_ = 0;
  hangover_left_ = 0;
  speech_ = false;
  active_ = false;
  speech_probability_ = 0.0;
}

bool VoiceActivityDetector::ProcessInt16(const int16_t* frame) {
  std::copy(analysis_.begin() + frame_samples_, analysis_.end(), analysis_.begin());
  for (int i = 0; i < frame_samples_; ++i) analysis_[frame_samples_ + i] = frame[i];
  return Process();
}

bool VoiceActivityDetector::ProcessFloat(const float* frame) {
  std::copy(analysis_.begin() + frame_samples_, analysis_.end(), analysis_.begin());
  for (int i = 0; i < frame_samples_; ++i) {
    const float value = std::isnan(frame[i]) ? 0.0f : std::clamp(frame[i], -1.0f, 1.0f);
    analysis_[frame_samples_ + i] = static_cast<float>(value * kInt16FullScale);
  }
  return Process();
}

void VoiceActivityDetector::ComputePowerSpectrum() {
  // Window two frames, zero-pad and transform.
  const int analysis_samples = 2 * frame_samples_;
  for (int i = 0; i < fft_size_; ++i) {
    fft_re_[i] = i < analysis_samples ? analysis_[i] * window_[i] : 0.0f;
    fft_im_[i] = 0.0f;
  }
  Fft(fft_re_, fft_im_, cos_table_, sin_table_, bit_reverse_);

  // Power per bin, scaled by the window's energy so that it reads as a
  // mean square whatever the frame size.
  const float scale = static_cast<float>(1.0 / window_energy_);
  for (int k = first_bin_; k < last_bin_; ++k) {
    const float re = fft_re_[k], im = fft_im_[k];
    power_[k - first_bin_] = std::max(kPowerFloor, (re * re + im * im) * scale);
  }
}

double VoiceActivityDetector::MeanLogLikelihoodRatio() {
  // Per bin: a posteriori SNR gamma, decision-directed a priori SNR xi, and
  // log Lambda = gamma xi / (1 + xi) - ln(1 + xi) (Sohn et al., eq. 3).
  double sum = 0.0;
  const size_t bins = power_.size();
  for (size_t k = 0; k < bins; ++k) {
    const double gamma = static_cast<double>(power_[k]) / noise_[k];
    double xi = kAprioriSmoothing * clean_[k] / noise_[k] +
                (1.0 - kAprioriSmoothing) * std::max(gamma - 1.0, 0.0);
    xi = std::max(xi, kMinAprioriSnr);
    sum += gamma * xi / (1.0 + xi) - std::log1p(xi);

    // The Wiener estimate of this frame's speech power feeds the next
    // frame's a priori SNR.
    const double gain = xi / (1.0 + xi);
    clean_[k] = static_cast<float>(gain * gain * power_[k]);
  }
  return bins > 0 ? sum / static_cast<double>(bins) : 0.0;
}

void VoiceActivityDetector::TrackNoise(bool speech) {
  // Learn the background: outright at the start, then in pauses only.
  ++frames_seen_;
  const size_t bins = power_.size();
  if (frames_seen_ <= kStartupFrames) {
    const float weight = 1.0f / static_cast<float>(frames_seen_);
    for (size_t k = 0; k < bins; ++k) noise_[k] += weight * (power_[k] - noise_[k]);
  } else if (!speech) {
    for (size_t k = 0; k < bins; ++k)
      noise_[k] += static_cast<float>(kNoiseSmoothing) * (power_[k] - noise_[k]);
  }

  // Smoothed band power and its minimum in the current sub-window.
  const size_t bands = band_first_bin_.size();
  for (size_t b = 0; b < bands; ++b) {
    const size_t end = b + 1 < bands ? band_first_bin_[b + 1] : bins;
    double band_power = 0.0;
    for (size_t k = band_first_bin_[b]; k < end; ++k) band_power += power_[k];
    band_smoothed_[b] = frames_seen_ == 1
                            ? band_power
                            : band_smoothed_[b] + kBandSmoothing * (band_power - band_smoothed_[b]);
    band_subwindow_min_[b] = subwindow_frames_ == 0
                                 ? band_smoothed_[b]
                                 : std::min(band_subwindow_min_[b], band_smoothed_[b]);
  }
  if (++subwindow_frames_ == kSubwindowFrames) {
    band_history_min_[subwindows_done_ % kSubwindows] = band_subwindow_min_;
    ++subwindows_done_;
    subwindow_frames_ = 0;
  }

  // Once two sub-windows are complete, a band whose minimum over the window
  // stands well above the noise estimate has a louder background: lift it.
  if (subwindows_done_ < 2) return;
  const int kept = std::min(subwindows_done_, kSubwindows);
  for (size_t b = 0; b < bands; ++b) {
    double minimum = subwindow_frames_ > 0 ? band_subwindow_min_[b] : band_smoothed_[b];
    for (int w = 0; w < kept; ++w) minimum = std::min(minimum, band_history_min_[w][b]);
    const size_t end = b + 1 < bands ? band_first_bin_[b + 1] : bins;
    double band_noise = 0.0;
    for (size_t k = band_first_bin_[b]; k < end; ++k) band_noise += noise_[k];
    if (minimum <= kNoiseRiseRatio * band_noise) continue;
    const float lift = static_cast<float>(minimum / band_noise);
    for (size_t k = band_first_bin_[b]; k < end; ++k) noise_[k] *= lift;
  }
}

bool VoiceActivityDetector::Process() {
  // Level of the new frame, for the absolute floor on speech.
  double sum = 0.0;
  for (int i = frame_samples_; i < 2 * frame_samples_; ++i)
    sum += static_cast<double>(analysis_[i]) * analysis_[i];
  frame_mean_square_ = sum / frame_samples_ / (kInt16FullScale * kInt16FullScale);

  // The evidence for speech, as a probability; the very first frame only
  // seeds the noise estimate, and no frame of the first 100 ms is speech.
  ComputePowerSpectrum();
  if (frames_seen_ == 0) noise_ = power_;
  const double llr = MeanLogLikelihoodRatio();
  const double threshold = speech_ ? kLlrOffThreshold : kLlrOnThreshold;
  speech_probability_ = 1.0 / (1.0 + std::exp(-(llr - threshold) / kLlrSlope));
  if (frame_mean_square_ < kMinSpeechMeanSquare || frames_seen_ < kStartupFrames)
    speech_probability_ = 0.0;
  const bool speech = speech_probability_ > 0.5;
  speech_ = speech;

  // Learn the background, then hold the decision through the hangover.
  TrackNoise(speech);
  active_ = speech || hangover_left_ > 0;
  if (speech)
    hangover_left_ = hangover_frames_;
  else if (hangover_left_ > 0)
    --hangover_left_;
  return active_;
}

}  // namespace cloudlink::audio
