// Decoded and synthesised audio waiting for the output clock, with where
// every sample came from so that the W3C webrtc-stats counters
// (concealedSamples, jitterBufferDelay, ...) are tallied when the sample is
// played out, as the statistics define them.

#ifndef CLOUDLINK_AUDIO_SYNC_BUFFER_H_
#define CLOUDLINK_AUDIO_SYNC_BUFFER_H_

#include <cstdint>
#include <vector>

namespace cloudlink::audio {

enum class SampleOrigin : uint8_t {
  kDecoded,          // decoded from its own packet
  kRecovered,        // decoded from in-band FEC or a RED copy
  kConcealed,        // synthesised for lost or late audio
  kSilentConcealed,  // synthesised while the sender was silent (DTX)
  kInserted,         // added to slow playout down
};

struct SampleInfo {
  SampleOrigin origin = SampleOrigin::kDecoded;
  // True when the sample stands for media time (advances the playout
  // timestamp); false for audio played while waiting for a late packet.
  bool timed = true;
  double arrival_ms = 0.0;  // arrival of the packet it was decoded from
};

// What a Take() played out, samples per channel.
struct PlayoutTally {
  int decoded = 0;  // decoded and recovered: "emitted" in W3C terms
  int recovered = 0;
  int concealed = 0;  // includes silent_concealed
  int silent_concealed = 0;
  int timed = 0;
  double arrival_sum_ms = 0.0;  // over decoded and recovered samples
  bool concealment_started = false;
};

class SyncBuffer {
 public:
  explicit SyncBuffer(int channels) : channels_(channels) {}

  void Append(const int16_t* pcm, int samples, const SampleInfo& info);

  // Moves the first `samples` per channel to `out` and tallies them.
  void Take(int samples, int16_t* out, PlayoutTally* tally);

  // Replaces the first `old_samples` per channel by `pcm` (time stretching,
  // crossfaded drops and repeats); each new sample carries the info of the
  // old sample at the same relative position.
  void ReplaceFront(int old_samples, const int16_t* pcm, int new_samples);

  int size() const { return static_cast<int>(info_.size()); }
  // True when the first `samples` per channel are all decoded (or
  // recovered) audio standing for media time: what may be time-stretched.
  bool IsDecodedFront(int samples) const;
  // Samples per channel that stand for media time.
  int timed_samples() const;
  const int16_t* data() const { return pcm_.data(); }
  void Clear();

 private:
  int channels_;
  std::vector<int16_t> pcm_;  // interleaved
  std::vector<SampleInfo> info_;
  bool last_was_concealed_ = false;
};

}  // namespace cloudlink::audio

#endif  // CLOUDLINK_AUDIO_SYNC_BUFFER_H_
