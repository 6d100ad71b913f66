#include "audio/jitter_buffer.h"

#include <algorithm>
#include <cmath>

#include "audio/opus_packet_info.h"
#include "audio/red_payload.h"

namespace cloudlink::audio {

namespace {

// Plausible jumps between packets of one sender (RFC 3550 appendix A.1:
// MAX_DROPOUT 3000, MAX_MISORDER 100); anything else starts a probation.
constexpr int64_t kMaxDropoutPackets = 3000;
constexpr int64_t kMaxMisorderPackets = 100;
// Media-time jumps: back by 100 packets of the longest Opus duration
// (120 ms), ahead by a minute of DTX silence.
constexpr int64_t kMaxBackMs = 100 * kMaxOpusPacketMs;
constexpr int64_t kMaxAheadMs = 60000;
// A sender restart is believed once a second packet follows the first
// implausible one within a few sequence numbers (RFC 3550's probation).
constexpr int64_t kRestartProbePackets = 10;
// Largest payload taken: RFC 6716's 1275 bytes per frame times 3, plus
// headers, as the Opus binding allows.
constexpr size_t kMaxPayloadBytes = 4000;
// Loss is measured over intervals of 50 sequence numbers (1 s of 20 ms
// packets) and smoothed over about three of them. The first interval is 10
// packets, so that a lossy start gets the repair horizon after 200 ms
// rather than after a second of late FEC and RED (bench: 20% loss, the first
// 3 s of 20 calls, concealment with RED 1.11 s -> 0.88 s).
constexpr int64_t kLossIntervalPackets = 50;
constexpr int64_t kFirstLossIntervalPackets = 10;
constexpr double kLossSmoothing = 0.3;
// Repair data counts as present when a tenth of an interval's packets carry
// it (Opus leaves LBRR out of silent frames).
constexpr double kRepairableShare = 0.1;
// Remembered sequence numbers for duplicate detection.
constexpr int64_t kDuplicateMemoryPackets = 2 * kMaxDropoutPackets;

// Delay control around the target protection (DelayManager). Protection
// moves a frame at a time: removing audio lowers it by 10 ms once fewer
// whole frames are buffered ahead of the next packet, so within a frame a
// removal only lowers the delay. Above the target by a frame and this much
// more, the delay is shortened; below it, lengthened at once (a late
// packet costs more than 10 ms of delay). 3 ms of hysteresis: none let
// the target's noise stretch speech back and forth (bench_loss_jitter.py
// over 4 seeds with a 0.998 histogram memory, mean PESQ-WB gap with RED
// 0.34 instead of 0.28).
constexpr double kShortenHysteresisMs = 3.0;
// Near the target, the delay moves only in a pause: speech is stretched
// only when the protection is this far from the target, and otherwise the
// buffer waits for a quiet frame, where a cut or a repeat costs nothing
// (playout adjusted between talkspurts: Ramjee, Kurose, Towsley and
// Schulzrinne, "Adaptive playout mechanisms for packetized audio
// applications in wide-area networks", INFOCOM 1994). bench_loss_jitter.py
// conditions over 4 seeds (0, 5, 10% loss at 20 ms jitter, at 50 ms, 10
// and 20% at 80 ms; FEC and RED): mean PESQ-WB gap 0.349 against 0.407
// when speech is stretched at any distance, the delay within 0.06x p95.
constexpr double kSpeechStretchMs = 40.0;
// Slack (buffered audio beyond whole frames) above this is trimmed: it is
// delay that protects nothing. Below 2.5 ms, the shortest pitch period the
// stretcher cuts, there is nothing to trim with.
constexpr double kTrimSlackMs = 2.5;
// A wait for a packet that then arrives late is either kept as delay (when
// the buffer has less protection than its target) or taken out of the
// late packet's head, at most this much: a sender that resumes an old
// timeline after a pause loses no more than 60 ms to the cut. Keeping
// every wait as delay instead moves the timeline under speech, which costs
// PESQ-WB (bench_loss_jitter.py over 4 seeds, mean gap with RED 0.37
// instead of 0.30).
constexpr int64_t kMaxSkipMs = 60;
// The whole-frame fallbacks, for when the stretcher finds no safe place,
// need a quiet frame, except that 80 ms of excess drops a frame anywhere.
constexpr double kForcedDropMarginMs = 80.0;

double Clamp16(double value) { return std::clamp(value, -32768.0, 32767.0); }

}  // namespace

std::string ValidateJitterBufferConfig(const JitterBufferConfig& config) {
  std::string error = OpusDecoder::ValidateConfig(config.sample_rate_hz, config.channels);
  if (!error.empty()) return error;
  if (config.payload_type < 0 || config.payload_type > 127)
    return "payload_type must be within 0..127, got " + std::to_string(config.payload_type);
  if (config.red_payload_type < -1 || config.red_payload_type > 127)
    return "red_payload_type must be within 0..127, got " + std::to_string(config.red_payload_type);
  if (config.red_payload_type == config.payload_type)
    return "red_payload_type must differ from payload_type " + std::to_string(config.payload_type);
  if (!(config.max_delay_ms >= 20.0 && config.max_delay_ms <= 10000.0))
    return "max_delay_ms must be within 20..10000, got " + std::to_string(config.max_delay_ms);
  if (!(config.min_delay_ms >= 0.0 && config.min_delay_ms <= config.max_delay_ms))
    return "min_delay_ms must be within 0..max_delay_ms, got " +
           std::to_string(config.min_delay_ms);
  return "";
}

JitterBuffer::JitterBuffer(const JitterBufferConfig& config)
    : config_(config),
      media_per_sample_(kRtpClockHz / config.sample_rate_hz),
      step_samples_(config.sample_rate_hz / 400),
      decoder_(config.sample_rate_hz, config.channels),
      comfort_noise_(config.sample_rate_hz, config.channels),
      concealment_(&decoder_, &comfort_noise_),
      stretcher_(config.sample_rate_hz, config.channels),
      delay_manager_(config.min_delay_ms, config.max_delay_ms),
      sync_(config.channels),
      decoded_(static_cast<size_t>(config.sample_rate_hz) * kMaxOpusPacketMs / 1000 *
               config.channels) {}

void JitterBuffer::Reset() {
  decoder_.Reset();
  comfort_noise_.Reset();
  concealment_.Reset();
  delay_manager_.Reset();
  packets_.Clear();
  sync_.Clear();
  sequence_unwrapper_.Reset();
  timestamp_unwrapper_.Reset();
  stats_ = JitterBufferStats();
  first_sequence_.reset();
  highest_sequence_ = highest_timestamp_ = unique_received_ = expected_before_ = 0;
  interval_start_sequence_ = interval_start_received_ = interval_repairable_ = 0;
  loss_fraction_ = 0.0;
  has_loss_estimate_ = false;
  recent_sequences_.clear();
  restart_candidate_.reset();
  ever_played_ = false;
  prefetching_ = true;
  decoder_reset_pending_ = false;
  next_media_ = waited_media_ = 0;
  play_media_ = 0.0;
  last_decoded_sequence_.reset();
  last_played_media_.reset();
  current_delay_ms_ = 0.0;
}

std::optional<uint32_t> JitterBuffer::playout_timestamp() const {
  if (!last_played_media_) return std::nullopt;
  return static_cast<uint32_t>(static_cast<uint64_t>(*last_played_media_) & 0xffffffffu);
}

bool JitterBuffer::Discard() {
  ++stats_.packets_discarded;
  return false;
}

int JitterBuffer::PacketDuration(const uint8_t* payload, size_t payload_bytes) const {
  if (payload_bytes == 0 || payload_bytes > kMaxPayloadBytes) return -1;
  return decoder_.PacketSamples(payload, payload_bytes);
}

// ---------------------------------------------------------------------------
// Receiving.

bool JitterBuffer::Insert(const uint8_t* payload, size_t payload_bytes, uint16_t sequence_number,
                          uint32_t timestamp, double arrival_ms, int payload_type) {
  // Step 1: find the Opus blocks: the payload itself, or RED's blocks.
  std::vector<RedBlock> redundant;
  RedBlock primary{payload_type, 0, payload, payload_bytes};
  if (config_.red_payload_type >= 0 && payload_type == config_.red_payload_type) {
    auto blocks = RedPayload::Parse(payload, payload_bytes);
    if (!blocks) return Discard();
    primary = blocks->back();
    blocks->pop_back();
    redundant = std::move(*blocks);
  }
  if (primary.payload_type != config_.payload_type || !std::isfinite(arrival_ms)) return Discard();
  const int primary_samples = PacketDuration(primary.data, primary.size);
  if (primary_samples <= 0) return Discard();

  // Step 2: a packet far from the stream is a sender restart or garbage.
  if (!IsPlausible(sequence_number, timestamp))
    return HandleImplausible(payload, payload_bytes, sequence_number, timestamp, arrival_ms,
                             payload_type);
  const int64_t sequence = sequence_unwrapper_.Unwrap(sequence_number);
  const int64_t media = timestamp_unwrapper_.Unwrap(timestamp);
  ++stats_.packets_received;
  if (!first_sequence_) {
    first_sequence_ = highest_sequence_ = sequence;
    highest_timestamp_ = media;
    interval_start_sequence_ = sequence - 1;
    interval_start_received_ = unique_received_;
    interval_repairable_ = 0;
  }
  // Expected packets span the lowest to the highest sequence number seen
  // (RFC 3550 appendix A.3 counts from the first; a reordered start would
  // then hide a loss).
  first_sequence_ = std::min(*first_sequence_, sequence);
  highest_sequence_ = std::max(highest_sequence_, sequence);
  highest_timestamp_ = std::max(highest_timestamp_, media);

  // Step 3: duplicates are counted and dropped before they teach anything.
  if (!recent_sequences_.insert(sequence).second) {
    ++stats_.packets_duplicated;
    return false;
  }
  while (!recent_sequences_.empty() &&
         *recent_sequences_.begin() < highest_sequence_ - kDuplicateMemoryPackets)
    recent_sequences_.erase(recent_sequences_.begin());
  ++unique_received_;
  stats_.packets_lost = std::max<int64_t>(
      0, expected_before_ + (highest_sequence_ - *first_sequence_ + 1) - unique_received_);
  const bool has_fec = OpusPacketInfo::HasInbandFec(primary.data, primary.size);
  if (has_fec || !redundant.empty()) ++stats_.fec_packets_received;
  UpdateLossEstimate(has_fec || !redundant.empty(),
                     1000.0 * primary_samples / config_.sample_rate_hz);

  // Step 4: every packet, late ones above all, teaches the delay manager.
  delay_manager_.Update(arrival_ms, static_cast<double>(media) * 1000.0 / kRtpClockHz);
  const bool decoding = !prefetching_;
  // Packets with nothing left to play are late; partly played ones are
  // cut at their head when decoded.
  const int64_t played_media =
      next_media_ + static_cast<int64_t>(step_samples_) * media_per_sample_;
  const int64_t primary_duration = static_cast<int64_t>(primary_samples) * media_per_sample_;
  if (decoding && media + primary_duration <= played_media) return Discard();

  // Step 5: store the primary, then any redundant copy still useful.
  BufferedPacket packet;
  packet.timestamp = media;
  packet.sequence = sequence;
  packet.duration = primary_duration;
  packet.has_fec = has_fec;
  packet.arrival_ms = arrival_ms;
  packet.payload.assign(primary.data, primary.data + primary.size);
  if (packets_.Insert(std::move(packet)) == PacketBuffer::InsertResult::kFull)
    ++stats_.packets_discarded;
  for (size_t i = 0; i < redundant.size(); ++i) {
    const RedBlock& block = redundant[i];
    if (block.payload_type != config_.payload_type) continue;
    const int samples = PacketDuration(block.data, block.size);
    const int64_t copy_media = media - block.timestamp_offset;
    const int64_t copy_duration = static_cast<int64_t>(samples) * media_per_sample_;
    // A copy is needed only while its own packet has not come (a copy whose
    // offset disagrees with that packet, as across a DTX gap, repairs nothing).
    const int64_t copy_sequence = sequence - static_cast<int64_t>(redundant.size() - i);
    if (samples <= 0 || (decoding && copy_media + copy_duration <= played_media) ||
        packets_.Contains(copy_media) || recent_sequences_.count(copy_sequence) > 0)
      continue;
    BufferedPacket copy;
    copy.timestamp = copy_media;
    copy.sequence = copy_sequence;
    copy.duration = copy_duration;
    copy.redundant = true;
    // A copy of audio from before the stream's first packet repairs no loss.
    copy.repairs_loss = copy.sequence >= *first_sequence_;
    copy.has_fec = OpusPacketInfo::HasInbandFec(block.data, block.size);
    copy.arrival_ms = arrival_ms;
    copy.payload.assign(block.data, block.data + block.size);
    packets_.Insert(std::move(copy));
  }
  return true;
}

void JitterBuffer::UpdateLossEstimate(bool repairable, double packet_ms) {
  if (repairable) ++interval_repairable_;
  const int64_t expected = highest_sequence_ - interval_start_sequence_;
  if (expected < (has_loss_estimate_ ? kLossIntervalPackets : kFirstLossIntervalPackets)) return;

  // Loss over the interval; packets still reordered in flight count as
  // lost for now and as received in the next interval: it evens out.
  const int64_t received = unique_received_ - interval_start_received_;
  const double fraction =
      std::clamp(1.0 - static_cast<double>(received) / static_cast<double>(expected), 0.0, 1.0);
  loss_fraction_ = has_loss_estimate_
                       ? (1.0 - kLossSmoothing) * loss_fraction_ + kLossSmoothing * fraction
                       : fraction;
  has_loss_estimate_ = true;
  const bool repair = static_cast<double>(interval_repairable_) >= kRepairableShare * expected;
  delay_manager_.SetStreamShape(packet_ms, loss_fraction_, repair);
  interval_start_sequence_ = highest_sequence_;
  interval_start_received_ = unique_received_;
  interval_repairable_ = 0;
}

bool JitterBuffer::IsPlausible(uint16_t sequence_number, uint32_t timestamp) const {
  if (!first_sequence_) return true;
  const int64_t sequence_jump = sequence_unwrapper_.Peek(sequence_number) - highest_sequence_;
  if (sequence_jump < -kMaxMisorderPackets || sequence_jump > kMaxDropoutPackets) return false;
  const int64_t media_jump = timestamp_unwrapper_.Peek(timestamp) - highest_timestamp_;
  const int64_t media_per_ms = kRtpClockHz / 1000;
  return media_jump >= -kMaxBackMs * media_per_ms && media_jump <= kMaxAheadMs * media_per_ms;
}

bool JitterBuffer::HandleImplausible(const uint8_t* payload, size_t payload_bytes,
                                     uint16_t sequence_number, uint32_t timestamp,
                                     double arrival_ms, int payload_type) {
  // A second packet just after the held one confirms a new sender epoch.
  if (restart_candidate_) {
    const uint16_t sequence_step = sequence_number - restart_candidate_->sequence_number;
    const uint32_t media_step = timestamp - restart_candidate_->timestamp;
    const uint32_t most_media = kRestartProbePackets * kMaxOpusPacketMs * (kRtpClockHz / 1000);
    if (sequence_step >= 1 && sequence_step <= kRestartProbePackets && media_step <= most_media) {
      HeldPacket held = std::move(*restart_candidate_);
      restart_candidate_.reset();
      StartNewStream();
      --stats_.packets_discarded;  // the held packet counts as taken after all
      Insert(held.payload.data(), held.payload.size(), held.sequence_number, held.timestamp,
             held.arrival_ms, held.payload_type);
      return Insert(payload, payload_bytes, sequence_number, timestamp, arrival_ms, payload_type);
    }
  }
  restart_candidate_ = HeldPacket{std::vector<uint8_t>(payload, payload + payload_bytes),
                                  sequence_number, timestamp, arrival_ms, payload_type};
  return Discard();
}

void JitterBuffer::StartNewStream() {
  // The old epoch's packets are gone; what it already decoded still plays.
  if (first_sequence_) expected_before_ += highest_sequence_ - *first_sequence_ + 1;
  first_sequence_.reset();
  sequence_unwrapper_.Reset();
  timestamp_unwrapper_.Reset();
  recent_sequences_.clear();
  for (; !packets_.empty(); packets_.PopFirst())
    if (!packets_.First()->redundant) ++stats_.packets_discarded;
  delay_manager_.ResetStream();
  prefetching_ = true;
  decoder_reset_pending_ = true;
  waited_media_ = 0;
  last_decoded_sequence_.reset();
}

// ---------------------------------------------------------------------------
// Playing out.

double JitterBuffer::CurrentDelayMs(double now_ms) const {
  const auto min_transit_ms = delay_manager_.min_transit_ms(now_ms);
  if (!min_transit_ms) return 0.0;
  return now_ms - play_media_ * 1000.0 / kRtpClockHz - *min_transit_ms;
}

double JitterBuffer::ProtectionMs(double now_ms) const {
  // The audio from next_media_ on is needed by the pull in which the
  // buffered samples run out: after their whole frames have played.
  const auto min_transit_ms = delay_manager_.min_transit_ms(now_ms);
  if (!min_transit_ms) return 0.0;
  const int whole_frames = sync_.size() / frame_samples();
  const double needed_at_ms = now_ms + static_cast<double>(whole_frames) * kFrameMs;
  return needed_at_ms - static_cast<double>(next_media_) * 1000.0 / kRtpClockHz - *min_transit_ms;
}

double JitterBuffer::SlackMs() const {
  const int frame = frame_samples();
  return 1000.0 * (sync_.size() % frame) / config_.sample_rate_hz;
}

bool JitterBuffer::TryStartPlayout(double now_ms) {
  // Playout starts once the earliest packet has waited out the target.
  const BufferedPacket* first = packets_.First();
  const auto min_transit_ms = delay_manager_.min_transit_ms(now_ms);
  if (first == nullptr || !min_transit_ms) return false;
  const double first_ms = static_cast<double>(first->timestamp) * 1000.0 / kRtpClockHz;
  if (now_ms - first_ms - *min_transit_ms < delay_manager_.target_delay_ms()) return false;

  // Audio of an earlier epoch still in the sync buffer plays first.
  if (decoder_reset_pending_) decoder_.Reset();
  decoder_reset_pending_ = false;
  prefetching_ = false;
  next_media_ = first->timestamp;
  play_media_ = static_cast<double>(next_media_) -
                static_cast<double>(sync_.timed_samples()) * media_per_sample_;
  waited_media_ = 0;
  return true;
}

void JitterBuffer::Pull(double now_ms, int16_t* out) {
  const int frame = frame_samples();

  // Step 1: before the first packet's due time there is silence; while a
  // restarted sender's first packets gather, concealment goes on.
  if (prefetching_ && !TryStartPlayout(now_ms)) {
    if (!ever_played_) {
      std::fill(out, out + static_cast<size_t>(frame) * config_.channels, int16_t{0});
      return;
    }
    while (sync_.size() < frame) {
      concealment_.Conceal(frame, &scratch_);
      sync_.Append(scratch_.data(), frame, {SampleOrigin::kConcealed, false, 0.0});
    }
    current_delay_ms_ = CurrentDelayMs(now_ms);
    Emit(now_ms, out);
    return;
  }
  ever_played_ = true;

  // Step 2: one frame of audio, then a step toward the target delay. A
  // wait that begins now keeps the delay it adds only while the buffer
  // has less protection than its target.
  wants_delay_ = ProtectionMs(now_ms) < delay_manager_.target_delay_ms();
  FillTo(frame);
  AdjustDelay(now_ms);
  FillTo(frame);
  current_delay_ms_ = CurrentDelayMs(now_ms);
  Emit(now_ms, out);
}

void JitterBuffer::Emit(double now_ms, int16_t* out) {
  const int frame = frame_samples();
  last_played_media_ = std::llround(play_media_);
  PlayoutTally tally;
  sync_.Take(frame, out, &tally);
  play_media_ += static_cast<double>(tally.timed) * media_per_sample_;

  stats_.total_samples_received += frame;
  stats_.concealed_samples += tally.concealed;
  stats_.silent_concealed_samples += tally.silent_concealed;
  if (tally.concealment_started) ++stats_.concealment_events;
  stats_.trailing_concealed_samples =
      tally.decoded > 0 ? 0 : stats_.trailing_concealed_samples + tally.concealed;
  stats_.jitter_buffer_emitted_count += tally.decoded;
  stats_.jitter_buffer_delay_s += (tally.decoded * now_ms - tally.arrival_sum_ms) / 1000.0;
  stats_.jitter_buffer_target_delay_s += tally.decoded * target_delay_ms() / 1000.0;
  stats_.jitter_buffer_minimum_delay_s +=
      tally.decoded * delay_manager_.minimum_delay_ms() / 1000.0;
}

void JitterBuffer::FillTo(int samples) {
  while (sync_.size() < samples) FillStep();
}

void JitterBuffer::FillStep() {
  // Step 1: packets with nothing left to play are of no use.
  const int64_t tolerance = static_cast<int64_t>(step_samples_) * media_per_sample_;
  stats_.packets_discarded += packets_.DropEndedBy(next_media_ + tolerance);
  const BufferedPacket* next = packets_.First();
  if (next == nullptr) {
    ConcealWhileWaiting();
    return;
  }
  const int64_t gap = next->timestamp - next_media_;
  const bool sender_silent =
      last_decoded_sequence_ && next->sequence == *last_decoded_sequence_ + 1;

  // Step 2: concealment played while waiting stands in for the start of
  // the hole. A packet that came later than that plays late: the wait has
  // raised the delay, as in NetEq, and accelerating brings it back down.
  if (waited_media_ > 0) {
    const int64_t covered = std::min(waited_media_, std::max<int64_t>(gap, 0));
    if (sender_silent) stats_.silent_concealed_samples += MediaToSamples(covered);
    // A late packet: unless the buffer wants the delay, the wait stands in
    // for its head too, which is cut (kMaxSkipMs at most).
    const int64_t max_skip = kMaxSkipMs * (kRtpClockHz / 1000);
    const int64_t skipped = wait_keeps_delay_ ? 0 : std::min(waited_media_ - covered, max_skip);
    next_media_ += covered + skipped;
    play_media_ += static_cast<double>(covered + skipped);
    waited_media_ = 0;
    return;
  }
  if (gap <= tolerance) {
    DecodeFirst();
    return;
  }

  // Step 3: the hole is lost (or DTX silence): conceal it, leaving its last
  // frame to the next packet's FEC when it carries some.
  const bool use_fec = !sender_silent && next->has_fec;
  if (use_fec && gap <= next->duration) {
    RecoverWithFec();
    return;
  }
  const int64_t conceal_media = gap - (use_fec ? next->duration : 0);
  const int64_t whole_steps = MediaToSamples(conceal_media) / step_samples_;
  if (whole_steps == 0) {  // less than 2.5 ms: not worth a sample
    next_media_ += conceal_media;
    play_media_ += static_cast<double>(conceal_media);
    return;
  }
  const int samples =
      static_cast<int>(std::min<int64_t>(frame_samples(), whole_steps * step_samples_));
  concealment_.Conceal(samples, &scratch_);
  const auto origin = sender_silent ? SampleOrigin::kSilentConcealed : SampleOrigin::kConcealed;
  sync_.Append(scratch_.data(), samples, {origin, true, 0.0});
  next_media_ += static_cast<int64_t>(samples) * media_per_sample_;
}

int JitterBuffer::PrepareHeadCut(int64_t start_media) {
  // Audio before next_media_ has been played (or stood in for) already;
  // a few samples of misalignment are absorbed in the media clock instead.
  const int64_t tolerance = static_cast<int64_t>(step_samples_) * media_per_sample_;
  const int64_t overlap = next_media_ - start_media;
  if (overlap <= tolerance) {
    play_media_ += static_cast<double>(-overlap);
    return 0;
  }
  // The concealment's continuation, made before the decoder moves on, is
  // crossfaded into the cut.
  tail_.clear();
  if (concealment_.active()) concealment_.Conceal(step_samples_, &tail_);
  return static_cast<int>(MediaToSamples(overlap));
}

void JitterBuffer::AppendDecoded(int16_t* pcm, int samples, int cut, const SampleInfo& info) {
  comfort_noise_.Analyze(pcm, samples);
  if (cut >= samples) return;
  if (cut == 0) {
    concealment_.Merge(pcm, samples);
    sync_.Append(pcm, samples, info);
    return;
  }
  const int channels = config_.channels;
  int16_t* kept = pcm + static_cast<size_t>(cut) * channels;
  const int kept_samples = samples - cut;
  const int overlap = std::min<int>(kept_samples, static_cast<int>(tail_.size()) / channels);
  for (int n = 0; n < overlap; ++n) {
    const double w = (n + 0.5) / overlap;
    for (int c = 0; c < channels; ++c) {
      const size_t i = static_cast<size_t>(n) * channels + c;
      kept[i] = static_cast<int16_t>(std::lround(Clamp16(tail_[i] * (1.0 - w) + kept[i] * w)));
    }
  }
  concealment_.End();
  sync_.Append(kept, kept_samples, info);
}

void JitterBuffer::DecodeFirst() {
  BufferedPacket packet = packets_.TakeFirst();
  const int cut = PrepareHeadCut(packet.timestamp);
  const int samples =
      decoder_.DecodeInt16(packet.payload.data(), packet.payload.size(), decoded_.data(),
                           static_cast<int>(decoded_.size()) / config_.channels);
  if (samples <= 0) {
    ++stats_.packets_discarded;
    return;
  }
  const auto origin = packet.redundant ? SampleOrigin::kRecovered : SampleOrigin::kDecoded;
  AppendDecoded(decoded_.data(), samples, cut, {origin, true, packet.arrival_ms});
  next_media_ = packet.timestamp + static_cast<int64_t>(samples) * media_per_sample_;
  if (packet.redundant && packet.repairs_loss) ++stats_.fec_packets_recovered;
  last_decoded_sequence_ = packet.sequence;
}

void JitterBuffer::RecoverWithFec() {
  // libopus decodes the LBRR copy of the frame just before the next packet
  // (the packet itself stays for its own turn).
  const BufferedPacket& next = *packets_.First();
  const int samples = static_cast<int>(MediaToSamples(next.duration));
  const int cut = PrepareHeadCut(next.timestamp - next.duration);
  const int result =
      decoder_.DecodeFecInt16(next.payload.data(), next.payload.size(), decoded_.data(), samples);
  if (result == samples) {
    AppendDecoded(decoded_.data(), samples, cut, {SampleOrigin::kRecovered, true, next.arrival_ms});
    ++stats_.fec_packets_recovered;
  } else {
    concealment_.Conceal(samples - cut, &scratch_);
    sync_.Append(scratch_.data(), samples - cut, {SampleOrigin::kConcealed, true, 0.0});
  }
  next_media_ = next.timestamp;
}

void JitterBuffer::ConcealWhileWaiting() {
  const int frame = frame_samples();
  wait_keeps_delay_ = (waited_media_ > 0 && wait_keeps_delay_) || wants_delay_;
  concealment_.Conceal(frame, &scratch_);
  sync_.Append(scratch_.data(), frame, {SampleOrigin::kConcealed, false, 0.0});
  waited_media_ += static_cast<int64_t>(frame) * media_per_sample_;
}

// ---------------------------------------------------------------------------
// Delay control.

void JitterBuffer::DecodeAhead(int samples) {
  const int64_t tolerance = static_cast<int64_t>(step_samples_) * media_per_sample_;
  while (sync_.size() < samples && !packets_.empty() &&
         std::llabs(packets_.First()->timestamp - next_media_) <= tolerance)
    DecodeFirst();
}

void JitterBuffer::AdjustDelay(double now_ms) {
  if (concealment_.active()) return;  // nothing real to stretch

  // Step 1: how the protection stands against the target, and whether
  // slack is left to trim without losing protection.
  const double target_ms = target_delay_ms();
  const double protection_ms = ProtectionMs(now_ms);
  const double slack_ms = SlackMs();
  const bool lengthen = protection_ms < target_ms;
  const bool shorten = protection_ms - kFrameMs >= target_ms + kShortenHysteresisMs;
  const bool trim = !lengthen && !shorten && slack_ms > kTrimSlackMs;
  if (!lengthen && !shorten && !trim) return;

  // Step 2: the stretcher needs 30 ms of decoded audio; with less (a short
  // buffer) only the whole-frame fallbacks can act. Audio concealed before
  // the last packet came is never stretched: it stands for no media time,
  // or for lost media that the counters must keep calling concealed.
  const int input = stretcher_.min_input_samples();
  const int frame = frame_samples();
  DecodeAhead(input);
  // Within 6 dB of the background the stretcher may cut anywhere: in a
  // noisy room the pauses are that level, and speech well above it. (0:
  // the stretcher's own level, until the background is known.)
  const bool known = comfort_noise_.background_known();
  stretcher_.SetQuietRms(known ? 2.0 * std::sqrt(comfort_noise_.background_power()) : 0.0);
  const bool can_stretch = sync_.IsDecodedFront(input);
  const bool can_drop = sync_.IsDecodedFront(frame + step_samples_);
  const bool quiet = can_drop && comfort_noise_.IsQuiet(sync_.data(), frame);
  const double off_target_ms = lengthen ? target_ms - protection_ms : protection_ms - target_ms;
  if (!quiet && off_target_ms < kSpeechStretchMs) return;  // wait for a pause

  // Step 3: too late: shorten by a pitch period, or drop a quiet frame. A
  // cut may take the slack and each whole frame of protection beyond the
  // target; a trim only the slack.
  // (Measured again: audio decoded ahead of a packet duration that is not
  // a whole number of frames moves both.)
  if (shorten || trim) {
    const double spare_ms = ProtectionMs(now_ms) - target_ms;
    const double spare_frames = trim ? 0.0 : std::floor(spare_ms / kFrameMs);
    const int most =
        static_cast<int>((SlackMs() + spare_frames * kFrameMs) * config_.sample_rate_hz / 1000);
    const int removed =
        can_stretch ? stretcher_.Accelerate(sync_.data(), input, &scratch_, most) : 0;
    if (removed > 0 && StretchedTo(input - removed)) {
      sync_.ReplaceFront(input, scratch_.data(), input - removed);
      play_media_ += static_cast<double>(removed) * media_per_sample_;
      stats_.removed_samples_for_acceleration += removed;
    } else if (spare_frames >= 1.0 && (quiet || (can_drop && spare_ms > kForcedDropMarginMs))) {
      DropFrame();
    }
    return;
  }

  // Step 4: too early: lengthen by a pitch period, or repeat a quiet frame.
  const int added = can_stretch ? stretcher_.PreemptiveExpand(sync_.data(), input, &scratch_) : 0;
  if (added > 0 && StretchedTo(input + added)) {
    sync_.ReplaceFront(input, scratch_.data(), input + added);
    play_media_ -= static_cast<double>(added) * media_per_sample_;
    stats_.inserted_samples_for_deceleration += added;
  } else if (quiet) {
    RepeatFrame();
  }
}

bool JitterBuffer::StretchedTo(int samples) const {
  // The stretcher's output must hold what it claims (and stay within sense:
  // a removal of at most the input, an addition of at most the input).
  const int input = stretcher_.min_input_samples();
  return samples > 0 && samples <= 2 * input &&
         scratch_.size() == static_cast<size_t>(samples) * config_.channels;
}

void JitterBuffer::DropFrame() {
  // a[0..L) crossfaded into a[F..F+L) replaces a[0..F+L): F samples fewer.
  const int frame = frame_samples();
  const int overlap = step_samples_;
  if (sync_.size() < frame + overlap) return;
  const int channels = config_.channels;
  const int16_t* a = sync_.data();
  scratch_.resize(static_cast<size_t>(overlap) * channels);
  for (int n = 0; n < overlap; ++n) {
    const double w = (n + 0.5) / overlap;
    for (int c = 0; c < channels; ++c)
      scratch_[n * channels + c] = static_cast<int16_t>(std::lround(
          Clamp16(a[n * channels + c] * (1.0 - w) + a[(frame + n) * channels + c] * w)));
  }
  sync_.ReplaceFront(frame + overlap, scratch_.data(), overlap);
  play_media_ += static_cast<double>(frame) * media_per_sample_;
  stats_.removed_samples_for_acceleration += frame;
}

void JitterBuffer::RepeatFrame() {
  // a[0..F), then a[F..F+L) crossfaded into a[0..L), replaces a[0..L):
  // F samples more, the first frame heard twice.
  const int frame = frame_samples();
  const int overlap = step_samples_;
  if (sync_.size() < frame + overlap) return;
  const int channels = config_.channels;
  const int16_t* a = sync_.data();
  scratch_.assign(a, a + static_cast<size_t>(frame) * channels);
  for (int n = 0; n < overlap; ++n) {
    const double w = (n + 0.5) / overlap;
    for (int c = 0; c < channels; ++c)
      scratch_.push_back(static_cast<int16_t>(std::lround(
          Clamp16(a[(frame + n) * channels + c] * (1.0 - w) + a[n * channels + c] * w))));
  }
  sync_.ReplaceFront(overlap, scratch_.data(), frame + overlap);
  play_media_ -= static_cast<double>(frame) * media_per_sample_;
  stats_.inserted_samples_for_deceleration += frame;
}

}  // namespace cloudlink::audio
