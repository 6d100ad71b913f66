// The video jitter buffer: builds VP8 frames from RTP payloads that arrive
// in any order (RFC 7741: one frame is the payloads of one RTP timestamp,
// from the S=1 PID=0 payload to the marker bit), asks for lost packets by
// generic NACK (RFC 4585 section 6.2.1, through rtp::NackTracker), gives up
// a frame that cannot be repaired in time and asks for a keyframe by PLI
// (RFC 4585 section 6.3.1), and releases frames in decode order only when
// their references are intact. With temporal layers (RFC 7741 TID, Y,
// TL0PICIDX) a non-sync frame of layer t needs layers 0..t intact, a layer
// sync frame the base layer only, so losing an upper-layer frame leaves
// every lower layer decodable.

#ifndef CLOUDLINK_VIDEO_FRAME_ASSEMBLER_H_
#define CLOUDLINK_VIDEO_FRAME_ASSEMBLER_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "rtp/nack_tracker.h"
#include "rtp/sequence_unwrapper.h"
#include "video/freeze_detector.h"
#include "video/vp8_depacketizer.h"

namespace cloudlink::video {

struct FrameAssemblerConfig {
  double rtt_ms = 100.0;              // round-trip time: the NACK retry interval
  int max_nack_retries = 10;          // requests per lost packet (1..100)
  double nack_repeat_delay_ms = 0.0;  // a first NACK again this soon, not a round trip (0: never)
  double pli_interval_ms = 300.0;     // at most one PLI per max(this, rtt_ms)
  double max_frame_age_ms = 1000.0;   // an incomplete frame is given up this long after it began
  int max_buffered_frames = 300;      // the oldest beyond this is given up (10 s at 30 fps)
};

// One frame released in decode order.
struct AssembledFrame {
  std::vector<uint8_t> data;  // the VP8 frame (RFC 6386)
  uint32_t timestamp = 0;     // RTP, 90 kHz
  bool keyframe = false;
  int temporal_layer_id = -1;  // -1: no temporal layers
  bool layer_sync = false;
  int picture_id = -1;  // -1: absent
  uint16_t first_sequence_number = 0;
  uint16_t last_sequence_number = 0;
  double first_arrival_ms = 0.0;  // the frame's first packet
  double complete_ms = 0.0;       // its last missing packet
};

struct FrameAssemblerStats {
  int64_t packets_received = 0;  // accepted payloads, duplicates excluded
  int64_t packets_duplicated = 0;
  int64_t packets_malformed = 0;  // rejected by the VP8 payload parser
  int64_t packets_padding = 0;    // empty payloads (RFC 3550 padding only)
  int64_t packets_discarded = 0;  // late (frame already out) or beyond kMaxPacketsPerFrame
  int64_t frames_received = 0;    // complete frames (W3C framesReceived)
  int64_t frames_released = 0;
  int64_t keyframes_released = 0;
  int64_t frames_dropped = 0;  // given up or undecodable (W3C framesDropped)
  int64_t frames_reported_decoded = 0;
  int64_t keyframes_reported_decoded = 0;
  bool decode_reported = false;  // the caller reports decodes itself
  int64_t nack_count = 0;        // NACK lists handed out (W3C nackCount)
  int64_t pli_count = 0;         // keyframe requests handed out (W3C pliCount)
};

class FrameAssembler {
 public:
  // Returns an empty string when `config` can be used, else the reason.
  static std::string ValidateConfig(const FrameAssemblerConfig& config);

  // The config must have passed ValidateConfig.
  explicit FrameAssembler(const FrameAssemblerConfig& config);

  // Takes one VP8 RTP payload. Returns "" when it was stored, else why not
  // (malformed, duplicate, late); every case is counted, none is an error.
  // An empty payload is a padding-only packet (a browser probing the path's
  // bandwidth): its sequence number is no gap, and it belongs to no frame.
  std::string Insert(const uint8_t* payload, size_t size, uint16_t sequence_number,
                     uint32_t timestamp, bool marker, double arrival_time_ms);

  // Frames ready at now_ms, in decode order. Frames that can no longer be
  // completed or decoded are dropped on the way and counted.
  std::vector<AssembledFrame> PopFrames(double now_ms);

  // Sequence numbers to request now (one RTCP NACK), oldest first.
  std::vector<uint16_t> NackList(double now_ms);

  // True when a keyframe is needed and a PLI is due at now_ms; counts it.
  bool KeyframeRequest(double now_ms);

  // The caller's decoder took a released frame (ok) or refused it (!ok:
  // the references are broken until the next keyframe).
  void FrameDecoded(bool keyframe, bool ok);
  // A decoded frame reached the screen at now_ms (freeze statistics).
  void FrameRendered(double now_ms) { freezes_.OnFrameRendered(now_ms); }

  // Returns "" or why rtt_ms is not usable.
  std::string SetRttMs(double rtt_ms);

  // Forgets the stream; the counters stay.
  void Reset();

  const FrameAssemblerConfig& config() const { return config_; }
  const FrameAssemblerStats& stats() const { return stats_; }
  const FreezeDetector& freezes() const { return freezes_; }
  const rtp::NackTracker& nack_tracker() const { return nack_; }
  bool keyframe_needed() const { return keyframe_needed_; }
  size_t buffered_frames() const { return frames_.size(); }

 private:
  static constexpr int kLayers = 4;  // TID is 2 bits (RFC 7741 section 4.2)

  // One stored payload; `parsed` points into `bytes`, whose heap buffer a
  // move keeps in place, so packets are moved, never copied.
  struct Packet {
    Packet() = default;
    Packet(Packet&&) = default;
    Packet& operator=(Packet&&) = default;
    Packet(const Packet&) = delete;
    Packet& operator=(const Packet&) = delete;

    std::vector<uint8_t> bytes;
    Vp8Payload parsed;
    bool marker = false;
  };

  struct PendingFrame {
    uint32_t timestamp = 0;
    std::map<int64_t, Packet> packets;  // by unwrapped sequence number
    double first_arrival_ms = 0.0;
    double complete_ms = 0.0;
    bool counted_complete = false;
    bool has_start = false;
    std::optional<int64_t> marker_sequence;
    Vp8PayloadDescriptor descriptor;  // from any packet (all carry the same)
    bool keyframe = false;            // from the start packet's header

    bool Complete() const;
  };

  enum class Decision { kWait, kReady, kReadyAfterLoss, kGiveUp };

  Decision Decide(const PendingFrame& frame, int64_t end_bound, double now_ms,
                  const std::unordered_set<uint16_t>& tracked);
  bool Decodable(const PendingFrame& frame) const;
  void MarkGapLoss(const PendingFrame& next);
  void MarkLayerBroken(int layer);
  void Drop(std::map<int64_t, PendingFrame>::iterator it, int64_t end_bound);
  bool Release(std::map<int64_t, PendingFrame>::iterator it, AssembledFrame* out);
  int64_t EndBound(std::map<int64_t, PendingFrame>::const_iterator it) const;
  void UpdateKeyframeNeeded();
  void ForgetPaddingThrough(int64_t sequence);
  // Drops every frame before the first complete keyframe after the head;
  // false when there is none.
  bool SkipToKeyframe();

  FrameAssemblerConfig config_;
  rtp::NackTracker nack_;
  rtp::SequenceUnwrapper sequence_unwrapper_;
  rtp::SequenceUnwrapper timestamp_unwrapper_;
  std::map<int64_t, PendingFrame> frames_;  // by unwrapped timestamp: decode order
  std::optional<int64_t> highest_sequence_;
  std::optional<int64_t> first_sequence_;  // the first the NACK tracker saw
  // The last frame released or given up: its timestamp and last sequence number.
  std::optional<int64_t> last_timestamp_;
  std::optional<int64_t> last_end_sequence_;
  // Padding-only sequence numbers after the last frame out (bounded).
  std::set<int64_t> padding_;
  int last_base_tl0_pic_idx_ = -1;
  // Per temporal layer: can its next frame be decoded? False until a keyframe.
  std::array<bool, kLayers> layer_intact_{};
  int highest_layer_seen_ = 0;
  bool keyframe_needed_ = false;
  std::optional<double> last_pli_ms_;
  FreezeDetector freezes_;
  FrameAssemblerStats stats_;
};

}  // namespace cloudlink::video

#endif  // CLOUDLINK_VIDEO_FRAME_ASSEMBLER_H_
