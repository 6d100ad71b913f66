// Concealment of audio that never arrived, and the merge back into decoded
// audio when it resumes. The first 40 ms of a gap are libopus's own
// packet-loss concealment unchanged (as good as libopus on single losses);
// past that it crossfades over 60 ms into comfort noise at the measured
// background level instead of repeating a stale pitch period, the approach
// of WebRTC NetEq's expand (ITU-T G.711 Appendix I fades likewise, to
// silence). When decoded audio resumes after a faded gap, it is crossfaded
// in from the noise over 10 ms.

#ifndef CLOUDLINK_AUDIO_CONCEALMENT_H_
#define CLOUDLINK_AUDIO_CONCEALMENT_H_

#include <cstdint>
#include <vector>

#include "audio/comfort_noise.h"
#include "audio/opus_decoder.h"

namespace cloudlink::audio {

class Concealment {
 public:
  // Neither pointer is owned; both must outlive this object.
  Concealment(OpusDecoder* decoder, ComfortNoise* noise);

  // Writes `samples` per channel (a multiple of 2.5 ms) of concealment to
  // `out`, continuing the current concealment event or opening one.
  void Conceal(int samples, std::vector<int16_t>* out);

  // Ends the event: fades the start of freshly decoded audio (interleaved,
  // `samples` per channel) in from the concealment.
  void Merge(int16_t* pcm, int samples);

  // Ends the event without a merge (the caller crossfaded already).
  void End();

  // True between the first Conceal of an event and the Merge that ends it.
  bool active() const { return active_; }
  // Samples per channel concealed in the current event.
  int64_t event_samples() const { return event_samples_; }

  void Reset();

 private:
  // Weight of libopus's concealment against comfort noise `samples_in`
  // into the event.
  double PlcWeight(int64_t samples_in) const;

  OpusDecoder* decoder_;
  ComfortNoise* noise_;
  bool active_ = false;
  int64_t event_samples_ = 0;
  double last_weight_ = 1.0;
  std::vector<int16_t> plc_;
  std::vector<int16_t> noise_buffer_;
};

}  // namespace cloudlink::audio

#endif  // CLOUDLINK_AUDIO_CONCEALMENT_H_
