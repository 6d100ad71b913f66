// Frame assembly for VP8 over RTP (RFC 7741 sections 4.4 and 4.5), loss
// repair by generic NACK and PLI (RFC 4585 sections 6.2.1 and 6.3.1), and
// the temporal-layer dependency rules of RFC 7741 section 4.2 (TID, Y,
// TL0PICIDX). Frames leave strictly in RTP timestamp order, which is VP8's
// decode order (it has no frame reordering); a frame waits at the head
// until it is complete and every sequence number before it is accounted
// for, or until it is given up.

#include "video/frame_assembler.h"

#include <algorithm>
#include <cmath>
#include <iterator>

namespace cloudlink::video {
namespace {

constexpr double kMaxRttMs = 10000.0;          // beyond any usable round trip
constexpr double kMaxPliIntervalMs = 60000.0;  // a minute between keyframe requests at most
constexpr double kMaxFrameAgeMs = 10000.0;     // a frame waiting longer is of no use to a call
constexpr int kMaxBufferedFrames = 10000;
constexpr int kMaxNackRetries = 100;  // rtp::NackTracker's own limit
// A sequence jump this large is a restart of the sender (RFC 3550 appendix
// A.1 MAX_DROPOUT): what lay before it is not waited for.
constexpr int64_t kMaxDropout = 3000;
constexpr int kTl0PicIdxModulus = 256;  // 8-bit TL0PICIDX
// Payloads per frame at most: 2.4 MB at 1200 bytes each, several times a
// 4K keyframe at conferencing rates; bounds what one timestamp can hold.
constexpr size_t kMaxPacketsPerFrame = 2000;
// Padding numbers kept while no frame goes out: a probe burst is a few
// dozen packets; as many as kMaxDropout covers any gap still waited for.
constexpr size_t kMaxPadding = static_cast<size_t>(kMaxDropout);

bool InRange(double value, double low, double high) {
  return std::isfinite(value) && value >= low && value <= high;
}

int LayerOf(const Vp8PayloadDescriptor& descriptor) {
  return std::max(descriptor.temporal_layer_id, 0);
}

}  // namespace

std::string FrameAssembler::ValidateConfig(const FrameAssemblerConfig& config) {
  if (!InRange(config.rtt_ms, 0.0, kMaxRttMs))
    return "rtt_ms must be within 0..10000, got " + std::to_string(config.rtt_ms);
  if (config.max_nack_retries < 1 || config.max_nack_retries > kMaxNackRetries)
    return "max_nack_retries must be within 1..100, got " + std::to_string(config.max_nack_retries);
  if (!InRange(config.nack_repeat_delay_ms, 0.0, kMaxRttMs) ||
      config.nack_repeat_delay_ms >= config.max_frame_age_ms)
    return "nack_repeat_delay_ms must be within 0..max_frame_age_ms, got " +
           std::to_string(config.nack_repeat_delay_ms);
  if (!InRange(config.pli_interval_ms, 0.0, kMaxPliIntervalMs))
    return "pli_interval_ms must be within 0..60000, got " + std::to_string(config.pli_interval_ms);
  if (!InRange(config.max_frame_age_ms, 1.0, kMaxFrameAgeMs))
    return "max_frame_age_ms must be within 1..10000, got " +
           std::to_string(config.max_frame_age_ms);
  if (config.max_buffered_frames < 1 || config.max_buffered_frames > kMaxBufferedFrames)
    return "max_buffered_frames must be within 1..10000, got " +
           std::to_string(config.max_buffered_frames);
  return "";
}

FrameAssembler::FrameAssembler(const FrameAssemblerConfig& config)
    : config_(config),
      nack_(rtp::NackTrackerConfig{config.max_nack_retries, config.max_frame_age_ms,
                                   rtp::NackTrackerConfig().max_missing_packets, 0.0,
                                   config.nack_repeat_delay_ms}),
      sequence_unwrapper_(rtp::SequenceUnwrapper::kSequenceBits),
      timestamp_unwrapper_(rtp::SequenceUnwrapper::kTimestampBits) {}

bool FrameAssembler::PendingFrame::Complete() const {
  // The start payload first, the marker last, nothing missing between.
  if (!has_start || !marker_sequence || packets.empty()) return false;
  if (!packets.begin()->second.parsed.frame_start) return false;
  const int64_t first = packets.begin()->first;
  return packets.rbegin()->first == *marker_sequence &&
         static_cast<int64_t>(packets.size()) == *marker_sequence - first + 1;
}

std::string FrameAssembler::SetRttMs(double rtt_ms) {
  if (!InRange(rtt_ms, 0.0, kMaxRttMs))
    return "rtt_ms must be within 0..10000, got " + std::to_string(rtt_ms);
  config_.rtt_ms = rtt_ms;
  return "";
}

void FrameAssembler::Reset() {
  nack_.Reset();
  sequence_unwrapper_.Reset();
  timestamp_unwrapper_.Reset();
  frames_.clear();
  highest_sequence_.reset();
  first_sequence_.reset();
  last_timestamp_.reset();
  last_end_sequence_.reset();
  padding_.clear();
  last_base_tl0_pic_idx_ = -1;
  layer_intact_.fill(false);
  highest_layer_seen_ = 0;
  keyframe_needed_ = false;
  last_pli_ms_.reset();
  freezes_.Reset();
}

std::string FrameAssembler::Insert(const uint8_t* payload, size_t size, uint16_t sequence_number,
                                   uint32_t timestamp, bool marker, double arrival_time_ms) {
  // A padding-only packet fills its place in the sequence, nothing more.
  if (size == 0) {
    const int64_t sequence = sequence_unwrapper_.Unwrap(sequence_number);
    nack_.OnPacket(sequence_number, arrival_time_ms);
    highest_sequence_ = std::max(highest_sequence_.value_or(sequence), sequence);
    if (!first_sequence_) first_sequence_ = sequence;
    if (!last_end_sequence_ || sequence > *last_end_sequence_) padding_.insert(sequence);
    if (padding_.size() > kMaxPadding) padding_.erase(padding_.begin());
    ++stats_.packets_padding;
    return "";
  }

  // Parse a copy that the stored packet will own.
  Packet packet;
  packet.bytes.assign(payload, payload + size);
  packet.marker = marker;
  const std::string error = ParseVp8Payload(packet.bytes.data(), size, &packet.parsed);
  if (!error.empty()) {
    ++stats_.packets_malformed;
    return error;
  }

  // Every well-formed arrival closes its NACK gap, even a late one.
  const int64_t sequence = sequence_unwrapper_.Unwrap(sequence_number);
  const int64_t unwrapped_timestamp = timestamp_unwrapper_.Unwrap(timestamp);
  nack_.OnPacket(sequence_number, arrival_time_ms);
  highest_sequence_ = std::max(highest_sequence_.value_or(sequence), sequence);
  if (!first_sequence_) first_sequence_ = sequence;
  // TODO(#3): a sender that restarts with earlier timestamps (same SSRC)
  // is refused as late until reset(); the caller must reset on a restart.
  if ((last_timestamp_ && unwrapped_timestamp <= *last_timestamp_) ||
      (last_end_sequence_ && sequence <= *last_end_sequence_)) {
    // A straggler of a frame given up before its end: its number is
    // accounted for, not a gap before the next frame.
    if (last_timestamp_ && unwrapped_timestamp == *last_timestamp_ && last_end_sequence_)
      last_end_sequence_ = std::max(*last_end_sequence_, sequence);
    ++stats_.packets_discarded;
    return "payload for a frame already released or given up";
  }

  // File it under its frame.
  PendingFrame& frame = frames_[unwrapped_timestamp];
  if (frame.packets.empty()) {
    frame.timestamp = timestamp;
    frame.first_arrival_ms = arrival_time_ms;
    frame.descriptor = packet.parsed.descriptor;
  }
  if (frame.packets.count(sequence) != 0) {
    ++stats_.packets_duplicated;
    return "duplicate payload";
  }
  if (frame.packets.size() >= kMaxPacketsPerFrame) {
    ++stats_.packets_discarded;
    return "frame beyond " + std::to_string(kMaxPacketsPerFrame) + " payloads";
  }
  frame.first_arrival_ms = std::min(frame.first_arrival_ms, arrival_time_ms);
  if (packet.parsed.frame_start) {
    frame.has_start = true;
    frame.keyframe = packet.parsed.header.keyframe;
  }
  if (marker) frame.marker_sequence = sequence;
  highest_layer_seen_ = std::max(highest_layer_seen_, LayerOf(packet.parsed.descriptor));
  frame.packets.emplace(sequence, std::move(packet));
  ++stats_.packets_received;

  // W3C framesReceived counts a frame once, when its last packet arrives.
  if (!frame.counted_complete && frame.Complete()) {
    frame.counted_complete = true;
    frame.complete_ms = arrival_time_ms;
    ++stats_.frames_received;
  }
  return "";
}

void FrameAssembler::ForgetPaddingThrough(int64_t sequence) {
  padding_.erase(padding_.begin(), padding_.upper_bound(sequence));
}

int64_t FrameAssembler::EndBound(std::map<int64_t, PendingFrame>::const_iterator it) const {
  // One past the frame's last sequence number: after its marker, else up to
  // the next frame's first packet, else up to the newest packet seen.
  const PendingFrame& frame = it->second;
  if (frame.marker_sequence) return *frame.marker_sequence + 1;
  const auto next = std::next(it);
  if (next != frames_.end()) return next->second.packets.begin()->first;
  return *highest_sequence_ + 1;
}

FrameAssembler::Decision FrameAssembler::Decide(const PendingFrame& frame, int64_t end_bound,
                                                double now_ms,
                                                const std::unordered_set<uint16_t>& tracked) {
  // Step 1: the sequence numbers from the last frame out to this frame's
  // end that never arrived, and whether the NACK tracker still chases them.
  const int64_t first = frame.packets.begin()->first;
  int64_t low = last_end_sequence_.value_or(first - 1);
  bool restart = false;
  if (first - low > kMaxDropout) {
    low = first - 1;
    restart = true;
  }
  bool missing = false;
  bool abandoned = false;      // anywhere from the last frame out to this one's end
  bool own_abandoned = false;  // surely this frame's (from its first packet on)
  end_bound = std::min(end_bound, first + kMaxDropout);
  for (int64_t s = low + 1; s < end_bound; ++s) {
    if (s >= first && frame.packets.count(s) != 0) continue;
    if (padding_.count(s) != 0) continue;
    missing = true;
    // Numbers before the stream's first packet were never gaps to chase;
    // they may still come, reordered.
    // TODO(#3): a lost first packet of the stream is never NACKed, so a
    // keyframe that loses it costs a PLI and a round trip.
    if (s > *first_sequence_ && tracked.count(static_cast<uint16_t>(s & 0xffff)) == 0) {
      abandoned = true;
      own_abandoned = own_abandoned || s >= first;
    }
  }
  const bool too_old = now_ms - frame.first_arrival_ms > config_.max_frame_age_ms;

  // Step 2: a complete frame goes once the gap before it is settled: whole
  // frames were lost there when its packets are given up.
  if (frame.Complete()) {
    if (!missing && !restart) return Decision::kReady;
    if (!missing) return Decision::kReadyAfterLoss;
    if (!abandoned && !too_old) return Decision::kWait;
    return Decision::kReadyAfterLoss;
  }

  // Step 3: an incomplete frame waits for its packets while they are chased.
  // Without its start packet, the gap before it may hold that start.
  if (!frame.has_start) own_abandoned = abandoned;
  return own_abandoned || too_old ? Decision::kGiveUp : Decision::kWait;
}

bool FrameAssembler::Decodable(const PendingFrame& frame) const {
  // A keyframe references nothing; a layer sync frame the base layer only;
  // any other frame of layer t the newest frames of layers 0..t.
  if (frame.keyframe) return true;
  const int layer = LayerOf(frame.descriptor);
  if (frame.descriptor.layer_sync && layer > 0) return layer_intact_[0];
  for (int l = 0; l <= layer; ++l)
    if (!layer_intact_[l]) return false;
  return true;
}

void FrameAssembler::MarkLayerBroken(int layer) {
  layer_intact_[layer] = false;
  keyframe_needed_ = true;
}

void FrameAssembler::MarkGapLoss(const PendingFrame& next) {
  // Whole frames vanished before `next`. TL0PICIDX tells whether a base frame
  // was among them; if not, only upper layers suffer, even before any
  // upper-layer frame has arrived (they may all have been lost). Which upper
  // layer is unknown, so the lowest is taken: exact with two layers, with
  // three it may stop layer 1 when only layer 2 lost a frame (WebRTC's VP8
  // reference finder waits in the same case).
  const Vp8PayloadDescriptor& d = next.descriptor;
  if (d.temporal_layer_id >= 0 && d.tl0_pic_idx >= 0 && last_base_tl0_pic_idx_ >= 0) {
    const int expected_tl0 = d.temporal_layer_id == 0
                                 ? (last_base_tl0_pic_idx_ + 1) % kTl0PicIdxModulus
                                 : last_base_tl0_pic_idx_;
    // TODO(#3): a wholly lost layer-2 frame of three layers stops layer 1 as
    // well until the next keyframe (a third of the frames); the Y bit of a
    // later layer-1 frame would be needed to tell.
    if (d.tl0_pic_idx == expected_tl0) {
      highest_layer_seen_ = std::max(highest_layer_seen_, 1);
      MarkLayerBroken(1);
      return;
    }
  }
  MarkLayerBroken(0);
}

void FrameAssembler::UpdateKeyframeNeeded() {
  bool all_intact = true;
  for (int l = 0; l <= highest_layer_seen_; ++l) all_intact = all_intact && layer_intact_[l];
  if (all_intact) keyframe_needed_ = false;
}

void FrameAssembler::Drop(std::map<int64_t, PendingFrame>::iterator it, int64_t end_bound) {
  // Frames that reference this one lose their reference, unless nothing does (N bit).
  const PendingFrame& frame = it->second;
  if (!frame.descriptor.non_reference) MarkLayerBroken(LayerOf(frame.descriptor));
  if (frame.descriptor.temporal_layer_id == 0 && frame.descriptor.tl0_pic_idx >= 0)
    last_base_tl0_pic_idx_ = frame.descriptor.tl0_pic_idx;
  ++stats_.frames_dropped;
  last_timestamp_ = it->first;
  last_end_sequence_ = end_bound - 1;
  frames_.erase(it);
  ForgetPaddingThrough(*last_end_sequence_);
}

bool FrameAssembler::Release(std::map<int64_t, PendingFrame>::iterator it, AssembledFrame* out) {
  // Join the payloads; a frame whose payloads disagree (picture ids) is malformed.
  PendingFrame& frame = it->second;
  std::vector<Vp8Payload> payloads;
  payloads.reserve(frame.packets.size());
  for (const auto& [sequence, packet] : frame.packets) payloads.push_back(packet.parsed);
  if (!AssembleVp8Frame(payloads, &out->data).empty()) return false;

  // Describe it.
  const Vp8PayloadDescriptor& d = frame.descriptor;
  out->timestamp = frame.timestamp;
  out->keyframe = frame.keyframe;
  out->temporal_layer_id = d.temporal_layer_id;
  out->layer_sync = d.layer_sync;
  out->picture_id = d.picture_id;
  out->first_sequence_number = static_cast<uint16_t>(frame.packets.begin()->first & 0xffff);
  out->last_sequence_number = static_cast<uint16_t>(frame.packets.rbegin()->first & 0xffff);
  out->first_arrival_ms = frame.first_arrival_ms;
  out->complete_ms = frame.complete_ms;

  // Its references now stand: a keyframe restores every layer, a sync frame its own.
  const int layer = LayerOf(d);
  if (frame.keyframe) {
    layer_intact_.fill(true);
  } else if (d.layer_sync && layer > 0) {
    layer_intact_[layer] = true;
  }
  UpdateKeyframeNeeded();
  if (d.temporal_layer_id == 0 && d.tl0_pic_idx >= 0) last_base_tl0_pic_idx_ = d.tl0_pic_idx;
  ++stats_.frames_released;
  if (frame.keyframe) ++stats_.keyframes_released;
  last_timestamp_ = it->first;
  last_end_sequence_ = *frame.marker_sequence;
  frames_.erase(it);
  ForgetPaddingThrough(*last_end_sequence_);
  return true;
}

bool FrameAssembler::SkipToKeyframe() {
  auto keyframe = std::next(frames_.begin());
  while (keyframe != frames_.end() && !(keyframe->second.keyframe && keyframe->second.Complete()))
    ++keyframe;
  if (keyframe == frames_.end()) return false;

  // Give up what lies before it; the keyframe needs none of it.
  const int64_t keyframe_first = keyframe->second.packets.begin()->first;
  while (frames_.begin() != keyframe) Drop(frames_.begin(), keyframe_first);
  last_end_sequence_ = keyframe_first - 1;
  return true;
}

std::vector<AssembledFrame> FrameAssembler::PopFrames(double now_ms) {
  std::vector<AssembledFrame> released;
  if (frames_.empty()) return released;
  std::unordered_set<uint16_t> tracked;
  for (uint16_t s : nack_.Missing()) tracked.insert(s);

  while (!frames_.empty()) {
    // Step 1: decide about the head; one that would wait while the buffer is
    // beyond its bound is given up.
    auto it = frames_.begin();
    const int64_t end_bound = EndBound(it);
    // TODO(#3): an incomplete upper-layer frame holds back the lower-layer
    // frames behind it while NACK runs (up to max_frame_age_ms); skipping
    // it once they are due would trade that layer for latency.
    Decision decision = Decide(it->second, end_bound, now_ms, tracked);
    if (decision == Decision::kWait &&
        static_cast<int>(frames_.size()) > config_.max_buffered_frames)
      decision = Decision::kGiveUp;
    if (decision == Decision::kWait) {
      // A complete keyframe further on makes waiting pointless: skip to it.
      if (!SkipToKeyframe()) break;
      continue;
    }
    if (decision == Decision::kGiveUp) {
      Drop(it, end_bound);
      continue;
    }

    // Step 2: a complete frame goes out when its references stand.
    if (decision == Decision::kReadyAfterLoss && !it->second.keyframe) MarkGapLoss(it->second);
    AssembledFrame frame;
    if (Decodable(it->second) && Release(it, &frame)) {
      released.push_back(std::move(frame));
    } else {
      Drop(it, end_bound);
    }
  }
  return released;
}

std::vector<uint16_t> FrameAssembler::NackList(double now_ms) {
  // Packets of frames already given up are not worth asking for.
  std::vector<uint16_t> list = nack_.NackList(now_ms, config_.rtt_ms);
  if (last_end_sequence_) {
    const int64_t last_end = *last_end_sequence_;
    list.erase(std::remove_if(list.begin(), list.end(),
                              [&](uint16_t s) { return sequence_unwrapper_.Peek(s) <= last_end; }),
               list.end());
  }
  if (!list.empty()) ++stats_.nack_count;
  return list;
}

bool FrameAssembler::KeyframeRequest(double now_ms) {
  // One PLI per interval (never more often than a round trip: the keyframe
  // asked for by the last one cannot have arrived yet).
  if (!keyframe_needed_) return false;
  const double interval_ms = std::max(config_.pli_interval_ms, config_.rtt_ms);
  if (last_pli_ms_ && now_ms - *last_pli_ms_ < interval_ms) return false;
  last_pli_ms_ = now_ms;
  ++stats_.pli_count;
  return true;
}

void FrameAssembler::FrameDecoded(bool keyframe, bool ok) {
  stats_.decode_reported = true;
  if (!ok) {
    // The decoder refused it: whatever it was, its successors lack a reference.
    MarkLayerBroken(0);
    ++stats_.frames_dropped;
    return;
  }
  ++stats_.frames_reported_decoded;
  if (keyframe) ++stats_.keyframes_reported_decoded;
}

}  // namespace cloudlink::video
