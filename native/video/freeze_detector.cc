// Freeze detection of the W3C webrtc-stats (RTCInboundRtpStreamStats,
// freezeCount): the average is taken over the intervals before the current
// one, so the first interval of a stream is never a freeze.

#include "video/freeze_detector.h"

#include <algorithm>

namespace cloudlink::video {
namespace {

constexpr size_t kAverageFrames = 30;        // webrtc-stats: "last 30 rendered frames"
constexpr double kFreezeFactor = 3.0;        // webrtc-stats: 3 * avg_frame_duration_ms
constexpr double kFreezeMinExtraMs = 150.0;  // webrtc-stats: avg_frame_duration_ms + 150

}  // namespace

void FreezeDetector::Reset() {
  last_render_ms_.reset();
  recent_intervals_ms_.clear();
  recent_sum_ms_ = 0.0;
}

void FreezeDetector::OnFrameRendered(double now_ms) {
  ++frames_rendered_;
  if (!last_render_ms_) {
    last_render_ms_ = now_ms;
    return;
  }
  const double interval_ms = std::max(0.0, now_ms - *last_render_ms_);
  last_render_ms_ = std::max(*last_render_ms_, now_ms);

  // A freeze against the average of the intervals before this one.
  if (!recent_intervals_ms_.empty()) {
    const double average_ms = recent_sum_ms_ / static_cast<double>(recent_intervals_ms_.size());
    if (interval_ms >= std::max(kFreezeFactor * average_ms, average_ms + kFreezeMinExtraMs)) {
      ++freeze_count_;
      total_freezes_duration_ms_ += interval_ms;
    }
  }

  // Slide the window.
  recent_intervals_ms_.push_back(interval_ms);
  recent_sum_ms_ += interval_ms;
  if (recent_intervals_ms_.size() > kAverageFrames) {
    recent_sum_ms_ -= recent_intervals_ms_.front();
    recent_intervals_ms_.pop_front();
  }
}

}  // namespace cloudlink::video
