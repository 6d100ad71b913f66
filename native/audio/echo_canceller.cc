#include "audio/echo_canceller.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace cloudlink::audio {
namespace {

// 10 ms frames.
constexpr int kFramesPerSecond = 100;
// Longest echo delay searched: 500 ms covers the output and input buffering
// of common audio devices.
constexpr int kMaxDelayMs = 500;
// The far end is delayed by the estimate less two frames, so an estimate
// one frame late still leaves the echo's onset inside the filter.
constexpr int kDelayMarginFrames = 2;
// The coarse estimate wanders by a frame on a fixed path: moves of one frame
// are ignored, and only jumps of more than two frames mean a new echo path.
constexpr int kDelayHysteresisFrames = 1;
constexpr int kDelayJitterFrames = 2;
// Render frames held at most (200 ms of capture running late).
constexpr int kMaxQueuedFrames = 20;
// Echo is adapted up to 8 kHz, the band that carries speech.
constexpr float kEchoBandHz = 8000.0f;
// The filter peak is looked up every 10 frames (100 ms); it is trusted as
// the delay once the filter reaches this ERLE.
constexpr int kPeakIntervalFrames = 10;
constexpr float kPeakTrustErleDb = 10.0f;
// Smoothing of the ERLE statistic (about 1 s of far-end single talk).
constexpr float kErleSmoothing = 0.99f;

int FftSizeFor(int frame_samples) {
  int size = 1;
  while (size < 3 * frame_samples) size *= 2;
  return size;
}

int PartitionsFor(const EchoCancellerConfig& config) {
  // Partitions of 20 ms spanning the tail plus the delay margin.
  const int partition_ms = 2 * 1000 / kFramesPerSecond;
  const int span_ms = config.tail_ms + kDelayMarginFrames * 1000 / kFramesPerSecond;
  return (span_ms + partition_ms - 1) / partition_ms;
}

int ActiveBinsFor(int sample_rate_hz, int fft_size) {
  const float bin_hz = static_cast<float>(sample_rate_hz) / fft_size;
  return std::min(fft_size / 2 + 1, static_cast<int>(kEchoBandHz / bin_hz) + 1);
}

}  // namespace

std::string ValidateEchoCancellerConfig(const EchoCancellerConfig& config) {
  if (config.sample_rate_hz != 16000 && config.sample_rate_hz != 32000 &&
      config.sample_rate_hz != 48000)
    return "sample_rate_hz must be 16000, 32000 or 48000, got " +
           std::to_string(config.sample_rate_hz);
  if (config.tail_ms < 20 || config.tail_ms > 1000)
    return "tail_ms must be within 20..1000, got " + std::to_string(config.tail_ms);
  return "";
}

EchoCanceller::EchoCanceller(const EchoCancellerConfig& config)
    : config_(config),
      frame_samples_(config.sample_rate_hz / kFramesPerSecond),
      fft_size_(FftSizeFor(config.sample_rate_hz / kFramesPerSecond)),
      max_delay_frames_(kMaxDelayMs * kFramesPerSecond / 1000),
      delay_estimator_(config.sample_rate_hz, config.sample_rate_hz / kFramesPerSecond,
                       kMaxDelayMs * kFramesPerSecond / 1000),
      linear_(config.sample_rate_hz / kFramesPerSecond,
              FftSizeFor(config.sample_rate_hz / kFramesPerSecond), PartitionsFor(config),
              ActiveBinsFor(config.sample_rate_hz,
                            FftSizeFor(config.sample_rate_hz / kFramesPerSecond))),
      suppressor_(config.sample_rate_hz, config.sample_rate_hz / kFramesPerSecond) {
  render_queue_.resize(static_cast<size_t>(kMaxQueuedFrames) * frame_samples_);
  // History: the largest delay, the filter's span of far blocks and one FFT
  // block.
  const int history_frames = max_delay_frames_ + 2 * PartitionsFor(config) + 1;
  far_capacity_ = history_frames * frame_samples_ + fft_size_;
  far_ring_.resize(static_cast<size_t>(2 * far_capacity_));
  far_frame_.resize(frame_samples_);
  mic_copy_.resize(frame_samples_);
  error_.resize(frame_samples_);
  Reset();
}

void EchoCanceller::Reset() {
  queue_head_ = 0;
  queued_ = 0;
  std::fill(far_ring_.begin(), far_ring_.end(), 0.0f);
  far_write_ = 0;
  delay_estimator_.Reset();
  linear_.Reset();
  suppressor_.Reset();
  applied_delay_frames_ = 0;
  mic_energy_smooth_ = 0.0f;
  out_energy_smooth_ = 0.0f;
  frames_ = 0;
  stats_ = EchoCancellerStats();
}

void EchoCanceller::ProcessRender(const float* far) {
  // Drop the oldest frame when capture has fallen too far behind.
  if (queued_ == kMaxQueuedFrames) {
    queue_head_ = (queue_head_ + 1) % kMaxQueuedFrames;
    --queued_;
    ++stats_.render_frames_dropped;
  }
  const int slot = (queue_head_ + queued_) % kMaxQueuedFrames;
  std::copy(far, far + frame_samples_, &render_queue_[static_cast<size_t>(slot) * frame_samples_]);
  ++queued_;
}

const float* EchoCanceller::FarBlock(int frames_back) const {
  const int end = far_write_ - (applied_delay_frames_ + frames_back) * frame_samples_;
  const int start = ((end - fft_size_) % far_capacity_ + far_capacity_) % far_capacity_;
  return &far_ring_[start];
}

// TODO(#2): render and capture clocks are assumed equal; drift is followed
// only in 10 ms steps of the delay estimate, and a jump of more than two
// frames makes the filter relearn.
void EchoCanceller::UpdateDelay() {
  // Follow the coarse estimate, less the margin.
  const std::optional<int> estimate = delay_estimator_.delay_frames();
  if (!estimate) return;
  stats_.coarse_delay_ms = static_cast<float>(*estimate * 1000 / kFramesPerSecond);
  const int target = std::max(0, *estimate - kDelayMarginFrames);
  // A one-frame move stays within the margin: the filter keeps the echo,
  // and realigning would only disturb it.
  if (std::abs(target - applied_delay_frames_) <= kDelayHysteresisFrames) return;
  const int change = target - applied_delay_frames_;
  applied_delay_frames_ = target;
  // A jump of more than the estimate's jitter means the echo path changed.
  if (std::abs(change) > kDelayJitterFrames) linear_.Relearn();
  // The current frame's block is added by Process, so history starts one
  // frame back.
  linear_.Realign(change, [this](int blocks_back) { return FarBlock(blocks_back + 1); });
}

void EchoCanceller::ProcessCapture(const float* mic, float* out) {
  // The render frame of this moment (silence when none arrived) joins the
  // far history.
  if (queued_ > 0) {
    const float* frame = &render_queue_[static_cast<size_t>(queue_head_) * frame_samples_];
    std::copy(frame, frame + frame_samples_, far_frame_.begin());
    queue_head_ = (queue_head_ + 1) % kMaxQueuedFrames;
    --queued_;
  } else {
    std::fill(far_frame_.begin(), far_frame_.end(), 0.0f);
    ++stats_.render_underruns;
  }
  for (int n = 0; n < frame_samples_; ++n) {
    far_ring_[far_write_] = far_frame_[n];
    far_ring_[far_write_ + far_capacity_] = far_frame_[n];
    far_write_ = (far_write_ + 1) % far_capacity_;
  }
  std::copy(mic, mic + frame_samples_, mic_copy_.begin());

  // Delay, linear filter, suppressor.
  delay_estimator_.Update(far_frame_.data(), mic_copy_.data());
  UpdateDelay();
  linear_.Process(FarBlock(0), mic_copy_.data(), error_.data());
  suppressor_.Process(mic_copy_.data(), error_.data(), linear_.far_active(),
                      linear_.near_suspected(), out);
  UpdateStats(mic_copy_.data(), out);
}

void EchoCanceller::UpdateStats(const float* mic, const float* out) {
  ++frames_;
  stats_.double_talk = suppressor_.double_talk();
  stats_.linear_erle_db = linear_.erle_db();
  stats_.leakage = linear_.leakage();

  // ERLE of the whole canceller over far-end single talk.
  if (linear_.far_active() && !stats_.double_talk) {
    float mic_energy = 0.0f;
    float out_energy = 0.0f;
    for (int n = 0; n < frame_samples_; ++n) {
      mic_energy += mic[n] * mic[n];
      out_energy += out[n] * out[n];
    }
    mic_energy_smooth_ = kErleSmoothing * mic_energy_smooth_ + (1 - kErleSmoothing) * mic_energy;
    out_energy_smooth_ = kErleSmoothing * out_energy_smooth_ + (1 - kErleSmoothing) * out_energy;
    stats_.erle_db =
        10.0f * std::log10((mic_energy_smooth_ + 1e-12f) / (out_energy_smooth_ + 1e-12f));
  }

  // Delay: the filter's peak once it has converged, else the coarse estimate.
  if (frames_ % kPeakIntervalFrames == 0) {
    if (linear_.adapted() && linear_.erle_db() > kPeakTrustErleDb) {
      const int samples = applied_delay_frames_ * frame_samples_ + linear_.PeakTapSamples();
      stats_.delay_ms = 1000.0f * samples / config_.sample_rate_hz;
    } else if (stats_.coarse_delay_ms >= 0.0f) {
      stats_.delay_ms = stats_.coarse_delay_ms;
    }
  }
}

}  // namespace cloudlink::audio
