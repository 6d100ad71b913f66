// Receive statistics of one RTP stream (one SSRC), for audio and video
// alike: RFC 3550 appendix A.1 (sequence validation, restarts), A.3 (lost
// and fraction lost), A.8 (interarrival jitter) and section 6.4.1 (the
// reception report block, with LSR and DLSR from the last sender report).

#ifndef CLOUDLINK_RTP_RECEIVE_STATISTICS_H_
#define CLOUDLINK_RTP_RECEIVE_STATISTICS_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rtp/rtcp_packets.h"
#include "rtp/sequence_unwrapper.h"

namespace cloudlink::rtp {

class ReceiveStatistics {
 public:
  // RFC 3550 appendix A.1: a jump of more than kMaxDropout packets ahead is
  // a restart only once the next packet confirms it.
  static constexpr int64_t kMaxDropout = 3000;
  // Packets up to this far behind the highest count as reordered. RFC 3550
  // A.1 suggests 100; libwebrtc's default reordering threshold (450) keeps
  // retransmissions answered a few hundred ms late at video rates.
  static constexpr int64_t kMaxMisorder = 450;

  // Returns an empty string when the clock rate can be used, else the reason.
  static std::string ValidateConfig(int clock_rate_hz);

  ReceiveStatistics(uint32_t ssrc, int clock_rate_hz);

  // TODO(#3): the first packet is trusted at once (no RFC 3550 A.1
  // probation); with SRTP authenticating packets the probation buys little.
  // Counts one received packet. `payload_bytes` feeds bytes_received.
  // Returns false when the packet was not counted as new: a duplicate
  // (counted in packets_duplicated) or the first packet after a jump
  // (RFC 3550 A.1 "bad_seq", dropped until the next one confirms it).
  bool OnPacket(uint16_t sequence_number, uint32_t rtp_timestamp, double arrival_time_ms,
                size_t payload_bytes);

  // Remembers the last sender report of this source for LSR and DLSR.
  void OnSenderReport(uint64_t ntp_timestamp, double arrival_time_ms);

  // The reception report block for now_ms, or nullopt before any packet.
  // Starts a new interval for fraction_lost (RFC 3550 A.3).
  std::optional<ReportBlock> MakeReportBlock(double now_ms);

  // Forgets every packet and report, as for a new stream.
  void Reset();

  uint32_t ssrc() const { return ssrc_; }
  int clock_rate_hz() const { return clock_rate_hz_; }
  bool has_packets() const { return highest_.has_value(); }
  // Extended highest sequence number received (cycles * 65536 + max_seq).
  int64_t extended_highest_sequence() const { return highest_.value_or(0); }
  int64_t packets_expected() const { return highest_ ? *highest_ - base_ + 1 : 0; }
  // Expected minus received (duplicates count as received, so it can go
  // negative, RFC 3550 A.3).
  int64_t cumulative_lost() const { return packets_expected() - packets_received_; }
  // The fraction of the last report interval, 8-bit fixed point.
  int fraction_lost() const { return fraction_lost_; }
  double jitter_timestamp_units() const { return jitter_; }
  double jitter_ms() const { return jitter_ * 1000.0 / clock_rate_hz_; }
  int64_t packets_received() const { return packets_received_; }
  int64_t packets_duplicated() const { return packets_duplicated_; }
  int64_t bytes_received() const { return bytes_received_; }

 private:
  // Which of the last kHistoryPackets sequence numbers were received.
  static constexpr int64_t kHistoryPackets = 1024;

  void Restart(int64_t sequence);
  void Advance(int64_t sequence);
  bool SeenBefore(int64_t sequence);
  void UpdateJitter(uint32_t rtp_timestamp, double arrival_time_ms);

  uint32_t ssrc_;
  int clock_rate_hz_;
  SequenceUnwrapper unwrapper_;
  std::optional<int64_t> highest_;
  int64_t base_ = 0;
  std::optional<int64_t> bad_sequence_;
  std::vector<bool> history_;
  int64_t packets_received_ = 0;
  int64_t packets_duplicated_ = 0;
  int64_t bytes_received_ = 0;

  // RFC 3550 A.8: the smoothed jitter and the previous in-order packet.
  double jitter_ = 0.0;
  std::optional<uint32_t> last_rtp_timestamp_;
  double last_arrival_time_ms_ = 0.0;

  // RFC 3550 A.3: the counts at the previous report.
  int64_t expected_prior_ = 0;
  int64_t received_prior_ = 0;
  int fraction_lost_ = 0;

  std::optional<uint32_t> last_sr_;  // middle 32 bits of the SR's NTP time
  double last_sr_arrival_time_ms_ = 0.0;
};

}  // namespace cloudlink::rtp

#endif  // CLOUDLINK_RTP_RECEIVE_STATISTICS_H_
