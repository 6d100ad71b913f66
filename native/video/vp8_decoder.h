// VP8 decoder (RFC 6386) over the system libvpx that survives bad input: a
// malformed, truncated or corrupt frame is reported with a reason, and the
// decoder then refuses inter frames until the next keyframe, because their
// references may be broken (the caller asks the sender for a keyframe).

#ifndef CLOUDLINK_VIDEO_VP8_DECODER_H_
#define CLOUDLINK_VIDEO_VP8_DECODER_H_

#include <vpx/vpx_decoder.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace cloudlink::video {

enum class Vp8DecodeStatus {
  kOk,                // a picture came out
  kNoPicture,         // decoded, but the frame is not for display (show_frame 0)
  kMalformed,         // the frame header is not VP8 (nothing was decoded)
  kCorrupt,           // libvpx refused the frame or marked it corrupt
  kAwaitingKeyframe,  // an inter frame while no intact reference exists
};

class Vp8Decoder {
 public:
  // `threads` 1..16: libvpx decoder threads (token partitions in parallel).
  static std::string ValidateConfig(int threads);

  // The argument must have passed ValidateConfig; check ok() after.
  explicit Vp8Decoder(int threads);
  ~Vp8Decoder();
  Vp8Decoder(const Vp8Decoder&) = delete;
  Vp8Decoder& operator=(const Vp8Decoder&) = delete;

  // Decodes one whole frame. On kOk, `*picture` is the decoded I420 image,
  // valid until the next call; on any other status last_error() says why.
  Vp8DecodeStatus Decode(const uint8_t* data, size_t size, const vpx_image_t** picture);

  // Forgets the stream: the next frame must be a keyframe.
  void Reset();

  bool ok() const { return initialized_; }
  bool awaiting_keyframe() const { return awaiting_keyframe_; }
  const std::string& last_error() const { return last_error_; }
  int64_t frames_decoded() const { return frames_decoded_; }
  int64_t keyframes_decoded() const { return keyframes_decoded_; }
  int64_t frames_rejected() const { return frames_rejected_; }
  // Coded size of the last picture out, 0 before the first.
  int width_px() const { return width_px_; }
  int height_px() const { return height_px_; }

 private:
  bool Initialize();
  Vp8DecodeStatus Reject(Vp8DecodeStatus status, const std::string& reason);

  int threads_;
  vpx_codec_ctx_t codec_{};
  bool initialized_ = false;
  bool awaiting_keyframe_ = true;
  std::string last_error_;
  int64_t frames_decoded_ = 0;
  int64_t keyframes_decoded_ = 0;
  int64_t frames_rejected_ = 0;
  int width_px_ = 0;
  int height_px_ = 0;
};

}  // namespace cloudlink::video

#endif  // CLOUDLINK_VIDEO_VP8_DECODER_H_
