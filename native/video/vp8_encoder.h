// VP8 encoder (RFC 6386) over the system libvpx, set up for real-time
// conferencing: realtime deadline, CBR, no lag, error resilience, optional
// temporal scalability (2 or 3 layers) with the per-frame reference pattern
// chosen here, keyframes only on the first frame, on request or on a fixed
// interval.

#ifndef CLOUDLINK_VIDEO_VP8_ENCODER_H_
#define CLOUDLINK_VIDEO_VP8_ENCODER_H_

#include <vpx/vpx_encoder.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace cloudlink::video {

// RTP clock of video (RFC 7741 section 4.1): timestamps count 90 kHz ticks.
constexpr int kVideoClockHz = 90000;

struct Vp8EncoderConfig {
  int width_px = 640;  // even, 2..16382
  int height_px = 480;
  double frame_rate_fps = 30.0;  // 1..120
  int bitrate_bps = 1000000;     // CBR target, 10 kbit/s .. 100 Mbit/s
  int temporal_layers = 1;       // 1, 2 (pattern 0-1) or 3 (pattern 0-2-1-2)
  // libvpx speed: -16..16, higher is faster; negative selects the adaptive
  // speed of realtime mode. -6 is aiortc's choice (see ANCHORS.md Video).
  int cpu_used = -6;
  int threads = 1;  // 1..16: two collapse on a busy 2-core machine (ANCHORS.md)
  bool error_resilient = true;
  // Forced keyframe every this many frames; 0 = only first and on request.
  int keyframe_interval_frames = 0;
  // libvpx's temporal denoiser, 0 (off) .. 6: worth its CPU on noisy camera
  // pictures (aiortc runs 4), a loss on clean synthetic or screen content.
  int noise_sensitivity = 0;
  int min_quantizer = 2;  // 0..63, aiortc's bounds
  int max_quantizer = 56;
};

// Checks every field; returns an empty string when valid, else a message that
// names the bad value.
std::string ValidateVp8EncoderConfig(const Vp8EncoderConfig& config);

// One encoded frame. `data` is empty when rate control dropped the frame.
struct Vp8EncodedFrame {
  std::vector<uint8_t> data;
  bool keyframe = false;
  int temporal_layer_id = 0;
  // True when the frame references only base-layer (TL0) frames, so a
  // receiver may switch up to its layer here (RFC 7741 "Y" bit).
  bool layer_sync = false;
  // Presentation time in kVideoClockHz ticks from the first frame.
  int64_t timestamp_ticks = 0;
};

enum class Vp8EncodeStatus { kOk, kEncoderError };

// One I420 picture in caller memory: planes and their strides in bytes.
struct I420View {
  const uint8_t* y = nullptr;
  const uint8_t* u = nullptr;
  const uint8_t* v = nullptr;
  int y_stride_bytes = 0;
  int uv_stride_bytes = 0;
};

class Vp8Encoder {
 public:
  // The config must have passed ValidateVp8EncoderConfig; check ok() after.
  explicit Vp8Encoder(const Vp8EncoderConfig& config);
  ~Vp8Encoder();
  Vp8Encoder(const Vp8Encoder&) = delete;
  Vp8Encoder& operator=(const Vp8Encoder&) = delete;

  // Encodes one picture of the configured size into `frame`; a keyframe when
  // `force_keyframe`. On kEncoderError, last_error() says why.
  Vp8EncodeStatus Encode(const I420View& picture, bool force_keyframe, Vp8EncodedFrame* frame);

  // Run-time changes. Bitrate and frame rate go to the running encoder
  // (no keyframe); a new size rebuilds it, so the next frame is a keyframe.
  // Each validates like the constructor and returns "" or the message.
  std::string SetBitrate(int bitrate_bps);
  std::string SetFrameRate(double frame_rate_fps);
  std::string SetResolution(int width_px, int height_px);

  bool ok() const { return initialized_; }
  const Vp8EncoderConfig& config() const { return config_; }
  const std::string& last_error() const { return last_error_; }
  // Frames encoded since the last (re)initialization.
  int64_t frame_count() const { return frame_count_; }

 private:
  bool Initialize();
  void Destroy();
  void FillRateConfig();
  // libvpx flags and layer of the next frame in the temporal pattern.
  int PatternFlags(int position, bool* layer_sync);
  void SetError(const char* call);

  Vp8EncoderConfig config_;
  vpx_codec_ctx_t codec_{};
  vpx_codec_enc_cfg_t cfg_{};
  vpx_image_t image_{};
  bool initialized_ = false;
  std::string last_error_;
  int64_t frame_count_ = 0;
  int64_t timestamp_ticks_ = 0;
  int64_t frames_since_keyframe_ = 0;
  int pattern_position_ = 0;
  // After a keyframe, the first frame of each upper layer is a sync frame.
  bool needs_sync_[3] = {false, false, false};
};

}  // namespace cloudlink::video

#endif  // CLOUDLINK_VIDEO_VP8_ENCODER_H_
