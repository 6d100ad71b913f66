#include "video/vp8_decoder.h"

#include <vpx/vp8dx.h>

#include "video/vp8_frame_header.h"

namespace cloudlink::video {

std::string Vp8Decoder::ValidateConfig(int threads) {
  if (threads < 1 || threads > 16)
    return "threads must be within 1..16, got " + std::to_string(threads);
  return "";
}

Vp8Decoder::Vp8Decoder(int threads) : threads_(threads) { Initialize(); }

Vp8Decoder::~Vp8Decoder() {
  if (initialized_) vpx_codec_destroy(&codec_);
}

bool Vp8Decoder::Initialize() {
  vpx_codec_dec_cfg_t cfg{};
  cfg.threads = static_cast<unsigned>(threads_);
  if (vpx_codec_dec_init(&codec_, vpx_codec_vp8_dx(), &cfg, 0) != VPX_CODEC_OK) {
    last_error_ = std::string("vpx_codec_dec_init failed: ") + vpx_codec_error(&codec_);
    return false;
  }
  initialized_ = true;
  awaiting_keyframe_ = true;
  return true;
}

void Vp8Decoder::Reset() {
  // libvpx has no reset for VP8: a fresh context is the reliable way.
  if (initialized_) vpx_codec_destroy(&codec_);
  initialized_ = false;
  Initialize();
}

Vp8DecodeStatus Vp8Decoder::Reject(Vp8DecodeStatus status, const std::string& reason) {
  last_error_ = reason;
  ++frames_rejected_;
  return status;
}

Vp8DecodeStatus Vp8Decoder::Decode(const uint8_t* data, size_t size, const vpx_image_t** picture) {
  *picture = nullptr;
  if (!initialized_) return Reject(Vp8DecodeStatus::kCorrupt, "decoder not initialized");

  // Check the uncompressed header first: libvpx need not see what is not
  // VP8, and an inter frame is useless until a keyframe has arrived.
  Vp8FrameHeader header;
  const Vp8HeaderError header_error = ParseVp8FrameHeader(data, size, &header);
  if (header_error != Vp8HeaderError::kOk)
    return Reject(Vp8DecodeStatus::kMalformed, Vp8HeaderErrorText(header_error));
  if (header.header_bytes() + header.first_partition_bytes > size)
    return Reject(Vp8DecodeStatus::kCorrupt, "vp8 frame truncated: first partition of " +
                                                 std::to_string(header.first_partition_bytes) +
                                                 " bytes, frame of " + std::to_string(size) +
                                                 " bytes");
  if (!header.keyframe && awaiting_keyframe_)
    return Reject(Vp8DecodeStatus::kAwaitingKeyframe,
                  "inter frame while awaiting a keyframe (the last reference was lost)");

  // Decode; any failure or a corruption mark breaks the reference chain.
  if (vpx_codec_decode(&codec_, data, static_cast<unsigned>(size), nullptr, 0) != VPX_CODEC_OK) {
    awaiting_keyframe_ = true;
    std::string reason = std::string("vpx_codec_decode failed: ") + vpx_codec_error(&codec_);
    const char* detail = vpx_codec_error_detail(&codec_);
    if (detail != nullptr) reason += std::string(" (") + detail + ")";
    return Reject(Vp8DecodeStatus::kCorrupt, reason);
  }
  int corrupted = 0;
  vpx_codec_control(&codec_, VP8D_GET_FRAME_CORRUPTED, &corrupted);
  vpx_codec_iter_t iter = nullptr;
  const vpx_image_t* image = vpx_codec_get_frame(&codec_, &iter);
  if (corrupted != 0) {
    awaiting_keyframe_ = true;
    return Reject(Vp8DecodeStatus::kCorrupt, "libvpx marked the decoded frame corrupt");
  }

  // An intact frame: the chain holds again after a keyframe.
  awaiting_keyframe_ = false;
  ++frames_decoded_;
  if (header.keyframe) ++keyframes_decoded_;
  if (image == nullptr) {
    last_error_ = "frame decoded but not for display";
    return Vp8DecodeStatus::kNoPicture;
  }
  width_px_ = static_cast<int>(image->d_w);
  height_px_ = static_cast<int>(image->d_h);
  *picture = image;
  return Vp8DecodeStatus::kOk;
}

}  // namespace cloudlink::video
