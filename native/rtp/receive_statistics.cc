// RFC 3550 appendix A.1 (validation), A.3 (loss), A.8 (jitter), 6.4.1
// (report block).

#include "rtp/receive_statistics.h"

#include <algorithm>
#include <cmath>

namespace cloudlink::rtp {

namespace {

constexpr int kMaxClockRateHz = 10'000'000;            // far above any RTP clock in use
constexpr double kJitterGain = 1.0 / 16;               // RFC 3550 6.4.1: J += (|D| - J) / 16
constexpr int64_t kMaxCumulativeLost = (1 << 23) - 1;  // 24-bit signed field
constexpr double kDlsrUnitsPerMs = 65536.0 / 1000;     // DLSR counts 1/65536 s

// The history slot of an unwrapped sequence number, which may be negative
// (a packet older than the first one).
size_t Slot(int64_t sequence, int64_t slots) {
  return static_cast<size_t>(((sequence % slots) + slots) % slots);
}

}  // namespace

std::string ReceiveStatistics::ValidateConfig(int clock_rate_hz) {
  if (clock_rate_hz < 1 || clock_rate_hz > kMaxClockRateHz)
    return "clock_rate_hz must be within 1..10000000, got " + std::to_string(clock_rate_hz);
  return "";
}

ReceiveStatistics::ReceiveStatistics(uint32_t ssrc, int clock_rate_hz)
    : ssrc_(ssrc),
      clock_rate_hz_(clock_rate_hz),
      unwrapper_(SequenceUnwrapper::kSequenceBits),
      history_(kHistoryPackets, false) {}

void ReceiveStatistics::Reset() {
  const uint32_t ssrc = ssrc_;
  const int clock_rate_hz = clock_rate_hz_;
  *this = ReceiveStatistics(ssrc, clock_rate_hz);
}

void ReceiveStatistics::Restart(int64_t sequence) {
  // RFC 3550 A.1 init_seq: the stream starts over at `sequence`.
  base_ = sequence;
  highest_ = sequence;
  bad_sequence_.reset();
  std::fill(history_.begin(), history_.end(), false);
  history_[Slot(sequence, kHistoryPackets)] = true;
  packets_received_ = 0;
  packets_duplicated_ = 0;
  bytes_received_ = 0;
  expected_prior_ = 0;
  received_prior_ = 0;
  last_rtp_timestamp_.reset();
}

void ReceiveStatistics::Advance(int64_t sequence) {
  // Clear the history slots the window moves over, then mark this one.
  const int64_t first = std::max(*highest_ + 1, sequence - kHistoryPackets + 1);
  for (int64_t s = first; s < sequence; ++s) history_[Slot(s, kHistoryPackets)] = false;
  history_[Slot(sequence, kHistoryPackets)] = true;
  highest_ = sequence;
}

bool ReceiveStatistics::SeenBefore(int64_t sequence) {
  // Only called within kMaxMisorder < kHistoryPackets of the highest.
  const size_t slot = Slot(sequence, kHistoryPackets);
  if (history_[slot]) return true;
  history_[slot] = true;
  return false;
}

void ReceiveStatistics::UpdateJitter(uint32_t rtp_timestamp, double arrival_time_ms) {
  // D(i-1, i) = (R_i - R_{i-1}) - (S_i - S_{i-1}) in timestamp units; the
  // timestamp difference is taken modulo 2^32 as a signed number.
  if (last_rtp_timestamp_) {
    const double arrival_delta =
        (arrival_time_ms - last_arrival_time_ms_) * clock_rate_hz_ / 1000.0;
    const auto timestamp_delta = static_cast<int32_t>(rtp_timestamp - *last_rtp_timestamp_);
    const double difference = arrival_delta - timestamp_delta;
    jitter_ += (std::fabs(difference) - jitter_) * kJitterGain;
  }
  last_rtp_timestamp_ = rtp_timestamp;
  last_arrival_time_ms_ = arrival_time_ms;
}

bool ReceiveStatistics::OnPacket(uint16_t sequence_number, uint32_t rtp_timestamp,
                                 double arrival_time_ms, size_t payload_bytes) {
  // Step 1: the first packet starts the stream.
  if (!highest_) {
    Restart(unwrapper_.Unwrap(sequence_number));
    packets_received_ = 1;
    bytes_received_ = static_cast<int64_t>(payload_bytes);
    UpdateJitter(rtp_timestamp, arrival_time_ms);
    return true;
  }

  // Step 2: classify by distance from the highest (RFC 3550 A.1).
  const int64_t sequence = unwrapper_.Peek(sequence_number);
  const int64_t delta = sequence - *highest_;
  const bool in_order = delta > 0 && delta < kMaxDropout;
  const bool reordered = delta <= 0 && -delta <= kMaxMisorder;
  if (!in_order && !reordered) {
    // A jump: believe it only when the next packet follows it.
    if (bad_sequence_ && sequence == *bad_sequence_) {
      unwrapper_.Unwrap(sequence_number);
      Restart(sequence);
      packets_received_ = 1;
      bytes_received_ = static_cast<int64_t>(payload_bytes);
      UpdateJitter(rtp_timestamp, arrival_time_ms);
      return true;
    }
    bad_sequence_ = sequence + 1;
    return false;
  }
  unwrapper_.Unwrap(sequence_number);
  bad_sequence_.reset();

  // Step 3: count it; duplicates are received too (A.3) but marked.
  ++packets_received_;
  bytes_received_ += static_cast<int64_t>(payload_bytes);
  if (in_order) {
    Advance(sequence);
    UpdateJitter(rtp_timestamp, arrival_time_ms);
    return true;
  }
  if (SeenBefore(sequence)) {
    ++packets_duplicated_;
    return false;
  }
  // A reordered or retransmitted packet: its old timestamp measures repair
  // delay, not network jitter, so the jitter is left alone (as libwebrtc).
  return true;
}

void ReceiveStatistics::OnSenderReport(uint64_t ntp_timestamp, double arrival_time_ms) {
  last_sr_ = static_cast<uint32_t>(ntp_timestamp >> 16);
  last_sr_arrival_time_ms_ = arrival_time_ms;
}

std::optional<ReportBlock> ReceiveStatistics::MakeReportBlock(double now_ms) {
  if (!highest_) return std::nullopt;

  // Step 1: fraction lost over the interval since the last report (A.3).
  const int64_t expected = packets_expected();
  const int64_t expected_interval = expected - expected_prior_;
  const int64_t received_interval = packets_received_ - received_prior_;
  const int64_t lost_interval = expected_interval - received_interval;
  expected_prior_ = expected;
  received_prior_ = packets_received_;
  fraction_lost_ = (expected_interval == 0 || lost_interval <= 0)
                       ? 0
                       : static_cast<int>((lost_interval << 8) / expected_interval);

  // Step 2: the block; cumulative loss clamped to its 24 signed bits.
  ReportBlock block;
  block.ssrc = ssrc_;
  block.fraction_lost = std::min(fraction_lost_, 255);
  block.cumulative_lost =
      static_cast<int>(std::clamp(cumulative_lost(), -kMaxCumulativeLost - 1, kMaxCumulativeLost));
  block.extended_highest_sequence = static_cast<uint32_t>(*highest_);
  block.jitter = static_cast<uint32_t>(std::lround(jitter_));

  // Step 3: LSR and DLSR, zero when no SR was received (6.4.1).
  if (last_sr_) {
    block.last_sr = *last_sr_;
    const double delay_ms = std::max(0.0, now_ms - last_sr_arrival_time_ms_);
    block.delay_since_last_sr =
        static_cast<uint32_t>(std::min(delay_ms * kDlsrUnitsPerMs, 4294967295.0));
  }
  return block;
}

}  // namespace cloudlink::rtp
