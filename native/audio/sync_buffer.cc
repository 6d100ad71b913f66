#include "audio/sync_buffer.h"

#include <algorithm>

namespace cloudlink::audio {

void SyncBuffer::Append(const int16_t* pcm, int samples, const SampleInfo& info) {
  if (samples <= 0) return;
  pcm_.insert(pcm_.end(), pcm, pcm + static_cast<size_t>(samples) * channels_);
  info_.insert(info_.end(), static_cast<size_t>(samples), info);
}

void SyncBuffer::Take(int samples, int16_t* out, PlayoutTally* tally) {
  samples = std::min(samples, size());
  std::copy(pcm_.begin(), pcm_.begin() + static_cast<size_t>(samples) * channels_, out);
  for (int n = 0; n < samples; ++n) {
    const SampleInfo& info = info_[n];
    const bool concealed =
        info.origin == SampleOrigin::kConcealed || info.origin == SampleOrigin::kSilentConcealed;
    // W3C concealmentEvents: a concealed sample right after a played one.
    if (concealed && !last_was_concealed_) tally->concealment_started = true;
    last_was_concealed_ = concealed;
    if (info.timed) ++tally->timed;
    switch (info.origin) {
      case SampleOrigin::kRecovered:
        ++tally->recovered;
        [[fallthrough]];
      case SampleOrigin::kDecoded:
      case SampleOrigin::kInserted:
        ++tally->decoded;
        tally->arrival_sum_ms += info.arrival_ms;
        break;
      case SampleOrigin::kSilentConcealed:
        ++tally->silent_concealed;
        [[fallthrough]];
      case SampleOrigin::kConcealed:
        ++tally->concealed;
        break;
    }
  }
  pcm_.erase(pcm_.begin(), pcm_.begin() + static_cast<size_t>(samples) * channels_);
  info_.erase(info_.begin(), info_.begin() + samples);
}

void SyncBuffer::ReplaceFront(int old_samples, const int16_t* pcm, int new_samples) {
  old_samples = std::min(old_samples, size());
  if (old_samples <= 0) return;
  // Each new sample takes the info of the old one at the same relative
  // place, so that a stretch across two packets keeps both arrival times.
  std::vector<SampleInfo> info(static_cast<size_t>(std::max(0, new_samples)));
  for (size_t i = 0; i < info.size(); ++i)
    info[i] = info_[i * static_cast<size_t>(old_samples) / info.size()];
  pcm_.erase(pcm_.begin(), pcm_.begin() + static_cast<size_t>(old_samples) * channels_);
  pcm_.insert(pcm_.begin(), pcm, pcm + static_cast<size_t>(new_samples) * channels_);
  info_.erase(info_.begin(), info_.begin() + old_samples);
  info_.insert(info_.begin(), info.begin(), info.end());
}

bool SyncBuffer::IsDecodedFront(int samples) const {
  if (samples > size()) return false;
  return std::all_of(info_.begin(), info_.begin() + samples, [](const SampleInfo& i) {
    return i.timed && (i.origin == SampleOrigin::kDecoded || i.origin == SampleOrigin::kRecovered);
  });
}

int SyncBuffer::timed_samples() const {
  return static_cast<int>(
      std::count_if(info_.begin(), info_.end(), [](const SampleInfo& i) { return i.timed; }));
}

void SyncBuffer::Clear() {
  pcm_.clear();
  info_.clear();
}

}  // namespace cloudlink::audio
