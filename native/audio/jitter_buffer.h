// Receive-side audio jitter buffer for one Opus stream, in the manner of
// WebRTC NetEq: RTP payloads come in any order and are played out on a
// steady clock, exactly one 10 ms frame per pull. Lost packets are
// recovered from the next packet's in-band FEC (RFC 6716 section 2.1.7) or
// from RED redundancy (RFC 2198) and otherwise concealed (Concealment); the
// playout delay follows a target set from measured jitter and loss
// (DelayManager) by time stretching (TimeStretcher), or by dropping and
// repeating quiet frames where the stretcher finds no place. RTP
// timestamps run at 48 kHz (RFC 7587).
//
// Playout model: media time T (RTP timestamp) plays at wall time
// T / 48 + offset. The current delay is that offset minus the smallest
// recent transit time. What decides whether a packet is in time is its
// protection: how long after its earliest possible arrival (media time
// plus that smallest transit) the pull that first needs its audio comes.
// Pulls come every 10 ms, so the protection of the next packet moves in
// 10 ms steps as audio is removed or added; the delay control keeps it at
// the DelayManager's target and trims the delay within a step.
//
// When nothing is buffered at all the buffer conceals without advancing
// media time (it waits). If the awaited packet then comes late, the wait
// stays as added delay only when the protection was below its target (as
// in NetEq); otherwise the concealment stands in for the late packet's
// head, which is cut, so that the playout timeline does not move. A hole
// with later audio already buffered is declared lost and repaired or
// concealed at once. A sequence number that stays continuous across a
// timestamp hole marks DTX: the hole is comfort noise, counted as silent
// concealment and not as loss.

#ifndef CLOUDLINK_AUDIO_JITTER_BUFFER_H_
#define CLOUDLINK_AUDIO_JITTER_BUFFER_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "audio/comfort_noise.h"
#include "audio/concealment.h"
#include "audio/delay_manager.h"
#include "audio/opus_decoder.h"
#include "audio/packet_buffer.h"
#include "audio/rtp_unwrapper.h"
#include "audio/sync_buffer.h"
#include "audio/time_stretcher.h"

namespace cloudlink::audio {

struct JitterBufferConfig {
  int sample_rate_hz = 48000;
  int channels = 1;
  int payload_type = 111;
  int red_payload_type = -1;  // -1: the sender does not use RED
  double min_delay_ms = 0.0;
  double max_delay_ms = 2000.0;
};

// Returns an empty string when valid, else a message naming the bad value.
std::string ValidateJitterBufferConfig(const JitterBufferConfig& config);

// Counters with the meanings of W3C webrtc-stats RTCInboundRtpStreamStats.
// Sample counts are per channel.
struct JitterBufferStats {
  int64_t packets_received = 0;
  int64_t packets_lost = 0;
  int64_t packets_discarded = 0;
  int64_t packets_duplicated = 0;
  int64_t fec_packets_received = 0;
  int64_t fec_packets_recovered = 0;
  double jitter_buffer_delay_s = 0.0;
  double jitter_buffer_target_delay_s = 0.0;
  double jitter_buffer_minimum_delay_s = 0.0;
  int64_t jitter_buffer_emitted_count = 0;
  int64_t total_samples_received = 0;
  int64_t concealed_samples = 0;
  int64_t silent_concealed_samples = 0;
  int64_t concealment_events = 0;
  // Not W3C: the concealed samples of the frames emitted since the last one
  // that held decoded audio. While no packet has ended the run it may be a
  // hole or the end of the stream (the sender stopped, or paused without
  // DTX); like packetsLost, which only a later packet shows, it is judged
  // as loss only once decoded audio follows it, and then it is reset.
  int64_t trailing_concealed_samples = 0;
  int64_t inserted_samples_for_deceleration = 0;
  int64_t removed_samples_for_acceleration = 0;
};

class JitterBuffer {
 public:
  static constexpr int kRtpClockHz = 48000;  // Opus RTP clock (RFC 7587)
  static constexpr int kFrameMs = 10;

  // The config must have passed ValidateJitterBufferConfig.
  explicit JitterBuffer(const JitterBufferConfig& config);
  JitterBuffer(const JitterBuffer&) = delete;
  JitterBuffer& operator=(const JitterBuffer&) = delete;

  // Takes one RTP payload. Returns false when it was dropped (and counted):
  // malformed, unknown payload type, duplicate, or too late to play.
  bool Insert(const uint8_t* payload, size_t payload_bytes, uint16_t sequence_number,
              uint32_t timestamp, double arrival_ms, int payload_type);

  // Writes exactly one 10 ms frame (frame_samples() per channel,
  // interleaved) for wall time now_ms.
  void Pull(double now_ms, int16_t* out);

  const JitterBufferStats& stats() const { return stats_; }
  double target_delay_ms() const { return delay_manager_.target_delay_ms(); }
  double current_delay_ms() const { return current_delay_ms_; }
  // RTP timestamp of the first sample of the last frame played out. A
  // stretch counts from the start of the frame it happens in: that frame's
  // timestamp moves by the samples removed (or back by those inserted), and
  // from the end of the rewritten audio on, sample n of a frame is again
  // media time timestamp + n.
  std::optional<uint32_t> playout_timestamp() const;
  int frame_samples() const { return config_.sample_rate_hz * kFrameMs / 1000; }
  const JitterBufferConfig& config() const { return config_; }

  // Forgets everything, statistics included, as if newly made.
  void Reset();

 private:
  struct HeldPacket {
    std::vector<uint8_t> payload;
    uint16_t sequence_number;
    uint32_t timestamp;
    double arrival_ms;
    int payload_type;
  };

  bool Discard();
  bool IsPlausible(uint16_t sequence_number, uint32_t timestamp) const;
  bool HandleImplausible(const uint8_t* payload, size_t payload_bytes, uint16_t sequence_number,
                         uint32_t timestamp, double arrival_ms, int payload_type);
  void StartNewStream();
  // Updates the loss estimate once an interval of sequence numbers is over.
  void UpdateLossEstimate(bool repairable, double packet_ms);
  int PacketDuration(const uint8_t* payload, size_t payload_bytes) const;
  int64_t MediaToSamples(int64_t media) const { return media / media_per_sample_; }

  // How long after its earliest possible arrival the audio not yet decoded
  // is needed, at wall time now_ms.
  double ProtectionMs(double now_ms) const;
  // Buffered audio beyond whole frames, in ms.
  double SlackMs() const;
  bool TryStartPlayout(double now_ms);
  double CurrentDelayMs(double now_ms) const;
  void FillTo(int samples);
  void FillStep();
  // Returns how many samples at the head of audio starting at media time
  // `start_media` were already played out, and readies the crossfade.
  int PrepareHeadCut(int64_t start_media);
  // Appends decoded audio, its first `cut` samples left out.
  void AppendDecoded(int16_t* pcm, int samples, int cut, const SampleInfo& info);
  void DecodeFirst();
  void RecoverWithFec();
  void ConcealWhileWaiting();
  void AdjustDelay(double now_ms);
  void DecodeAhead(int samples);
  // True when the stretcher's output in scratch_ holds `samples` per channel.
  bool StretchedTo(int samples) const;
  void DropFrame();
  void RepeatFrame();
  void Emit(double now_ms, int16_t* out);

  JitterBufferConfig config_;
  int media_per_sample_;  // RTP units per output sample
  int step_samples_;      // 2.5 ms, the granularity of Opus frames
  OpusDecoder decoder_;
  ComfortNoise comfort_noise_;
  Concealment concealment_;
  TimeStretcher stretcher_;
  DelayManager delay_manager_;
  PacketBuffer packets_;
  SyncBuffer sync_;
  RtpUnwrapper sequence_unwrapper_{16};
  RtpUnwrapper timestamp_unwrapper_{32};
  JitterBufferStats stats_;

  // Stream bookkeeping (one sender epoch).
  std::optional<int64_t> first_sequence_;
  int64_t highest_sequence_ = 0;
  int64_t highest_timestamp_ = 0;
  int64_t unique_received_ = 0;
  int64_t expected_before_ = 0;  // packets expected in earlier epochs
  std::set<int64_t> recent_sequences_;
  std::optional<HeldPacket> restart_candidate_;
  // Loss and repair rates over intervals of sequence numbers.
  int64_t interval_start_sequence_ = 0;
  int64_t interval_start_received_ = 0;
  int64_t interval_repairable_ = 0;
  double loss_fraction_ = 0.0;
  bool has_loss_estimate_ = false;

  // Playout state.
  bool ever_played_ = false;
  bool prefetching_ = true;
  bool decoder_reset_pending_ = false;
  int64_t next_media_ = 0;    // media time of the next sample to decode
  double play_media_ = 0.0;   // media time of the next sample to play out
  int64_t waited_media_ = 0;  // media time concealed while waiting
  std::optional<int64_t> last_decoded_sequence_;
  std::optional<int64_t> last_played_media_;
  double current_delay_ms_ = 0.0;
  bool wants_delay_ = false;       // protection below target at this pull
  bool wait_keeps_delay_ = false;  // the current wait adds delay

  std::vector<int16_t> decoded_;
  std::vector<int16_t> scratch_;
  std::vector<int16_t> tail_;  // concealment continuation for a head cut
};

}  // namespace cloudlink::audio

#endif  // CLOUDLINK_AUDIO_JITTER_BUFFER_H_
