// Opus decoder over the system libopus (RFC 6716): plain decode, decode of
// the in-band FEC (LBRR) copy carried by the next packet, and libopus's own
// packet-loss concealment.

#ifndef CLOUDLINK_AUDIO_OPUS_DECODER_H_
#define CLOUDLINK_AUDIO_OPUS_DECODER_H_

#include <cstddef>
#include <cstdint>
#include <string>

struct OpusDecoder;

namespace cloudlink::audio {

// Longest Opus packet duration: 120 ms (RFC 6716 section 3.2.5).
constexpr int kMaxOpusPacketMs = 120;

class OpusDecoder {
 public:
  // Returns an empty string when valid, else a message naming the bad value.
  static std::string ValidateConfig(int sample_rate_hz, int channels);

  // The arguments must have passed ValidateConfig.
  OpusDecoder(int sample_rate_hz, int channels);
  ~OpusDecoder();
  OpusDecoder(const OpusDecoder&) = delete;
  OpusDecoder& operator=(const OpusDecoder&) = delete;

  // Samples per channel the packet decodes to at this decoder's rate, or a
  // negative libopus error for a packet whose framing is malformed.
  int PacketSamples(const uint8_t* packet, size_t packet_bytes) const;

  // Decodes `packet` into `pcm` (room for max_samples per channel,
  // interleaved). Returns samples per channel written, or a negative libopus
  // error; a malformed packet leaves the decoder usable.
  int DecodeInt16(const uint8_t* packet, size_t packet_bytes, int16_t* pcm, int max_samples);
  int DecodeFloat(const uint8_t* packet, size_t packet_bytes, float* pcm, int max_samples);

  // Recovers the frame before `next_packet` from its FEC copy; `samples` is
  // the lost frame's duration per channel. When the next packet carries no
  // FEC, libopus conceals instead. Returns samples written or an error.
  int DecodeFecInt16(const uint8_t* next_packet, size_t packet_bytes, int16_t* pcm, int samples);
  int DecodeFecFloat(const uint8_t* next_packet, size_t packet_bytes, float* pcm, int samples);

  // libopus concealment of `samples` per channel (a multiple of 2.5 ms).
  int ConcealInt16(int16_t* pcm, int samples);
  int ConcealFloat(float* pcm, int samples);

  // Forgets all history, as after a sender restart.
  void Reset();

  // False only when libopus could not allocate the decoder.
  bool ok() const { return decoder_ != nullptr; }
  int sample_rate_hz() const { return sample_rate_hz_; }
  int channels() const { return channels_; }
  // Duration of the last decoded or concealed frame, samples per channel.
  int last_frame_samples() const;

 private:
  int sample_rate_hz_;
  int channels_;
  ::OpusDecoder* decoder_ = nullptr;
};

}  // namespace cloudlink::audio

#endif  // CLOUDLINK_AUDIO_OPUS_DECODER_H_
