// Acoustic echo canceller for one mono microphone and the far end this
// client plays, in 10 ms frames at 16, 32 or 48 kHz. Render frames queue up
// until the capture frame of the same moment arrives; each capture frame
// then goes through
//   1. EchoDelayEstimator: the coarse echo delay, which the far end is
//      delayed by (less a safety margin) before the adaptive filter;
//   2. LinearEchoCanceller: a two-path multidelay frequency-domain adaptive
//      filter with Valin's double-talk-robust learning rate, spanning the
//      echo tail;
//   3. ResidualEchoSuppressor: spectral gains against what echo remains,
//      with comfort noise.
// The output is the near end, 4 ms late (the suppressor's window overlap).

#ifndef CLOUDLINK_AUDIO_ECHO_CANCELLER_H_
#define CLOUDLINK_AUDIO_ECHO_CANCELLER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "audio/echo_delay_estimator.h"
#include "audio/linear_echo_canceller.h"
#include "audio/residual_echo_suppressor.h"

namespace cloudlink::audio {

struct EchoCancellerConfig {
  int sample_rate_hz = 16000;  // 16000, 32000 or 48000
  int tail_ms = 250;           // echo tail the filter spans, 20 .. 1000
};

// Checks every field; returns an empty string when valid, else a message that
// names the bad value.
std::string ValidateEchoCancellerConfig(const EchoCancellerConfig& config);

struct EchoCancellerStats {
  float erle_db = 0.0f;         // microphone over output power, far-end single talk
  float linear_erle_db = 0.0f;  // the same for the adaptive filter alone
  std::optional<float> delay_ms;
  bool double_talk = false;
  float coarse_delay_ms = -1.0f;  // -1 until the delay estimator has decided
  float leakage = 0.0f;           // residual-to-estimated echo power of the filter
  int64_t render_frames_dropped = 0;
  int64_t render_underruns = 0;  // capture frames that found no render frame
};

class EchoCanceller {
 public:
  // The config must have passed ValidateEchoCancellerConfig.
  explicit EchoCanceller(const EchoCancellerConfig& config);

  int frame_samples() const { return frame_samples_; }
  const EchoCancellerConfig& config() const { return config_; }

  // Queues one frame of what is played (frame_samples values, full scale
  // 1.0). The oldest queued frame is dropped when the queue is full.
  void ProcessRender(const float* far);
  // Cancels the echo in one microphone frame; `out` may alias `mic`.
  void ProcessCapture(const float* mic, float* out);

  const EchoCancellerStats& stats() const { return stats_; }
  void Reset();

 private:
  // Pointer to the far samples that end `frames_back` frames before the
  // newest, delayed by the applied delay: fft_size_ contiguous samples.
  const float* FarBlock(int frames_back) const;
  void UpdateDelay();
  void UpdateStats(const float* mic, const float* out);

  EchoCancellerConfig config_;
  int frame_samples_;
  int fft_size_;
  int max_delay_frames_;

  // Render frames waiting for their capture frame.
  std::vector<float> render_queue_;
  int queue_head_ = 0;
  int queued_ = 0;

  // Far-end history, written twice (at i and i + capacity) so that any
  // window of up to capacity samples is contiguous.
  std::vector<float> far_ring_;
  int far_capacity_ = 0;
  int far_write_ = 0;

  EchoDelayEstimator delay_estimator_;
  LinearEchoCanceller linear_;
  ResidualEchoSuppressor suppressor_;
  int applied_delay_frames_ = 0;

  std::vector<float> far_frame_, mic_copy_, error_;
  float mic_energy_smooth_ = 0.0f;
  float out_energy_smooth_ = 0.0f;
  int64_t frames_ = 0;
  EchoCancellerStats stats_;
};

}  // namespace cloudlink::audio

#endif  // CLOUDLINK_AUDIO_ECHO_CANCELLER_H_
