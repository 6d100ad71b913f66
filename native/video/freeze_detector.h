// Video freezes on the render timeline, as the W3C webrtc-stats define them
// for RTCInboundRtpStreamStats.freezeCount and totalFreezesDuration: the
// interval between two consecutively rendered frames is a freeze when it is
// at least max(3 * avg, avg + 150 ms), avg being the mean interval over the
// last 30 rendered frames.

#ifndef CLOUDLINK_VIDEO_FREEZE_DETECTOR_H_
#define CLOUDLINK_VIDEO_FREEZE_DETECTOR_H_

#include <cstdint>
#include <deque>
#include <optional>

namespace cloudlink::video {

class FreezeDetector {
 public:
  // Records a frame shown at now_ms. Times that run backwards count as a
  // 0 ms interval.
  void OnFrameRendered(double now_ms);

  // Forgets the timeline; the counters stay.
  void Reset();

  int64_t frames_rendered() const { return frames_rendered_; }
  int64_t freeze_count() const { return freeze_count_; }
  double total_freezes_duration_ms() const { return total_freezes_duration_ms_; }

 private:
  std::optional<double> last_render_ms_;
  std::deque<double> recent_intervals_ms_;  // the last kAverageFrames intervals
  double recent_sum_ms_ = 0.0;
  int64_t frames_rendered_ = 0;
  int64_t freeze_count_ = 0;
  double total_freezes_duration_ms_ = 0.0;
};

}  // namespace cloudlink::video

#endif  // CLOUDLINK_VIDEO_FREEZE_DETECTOR_H_
