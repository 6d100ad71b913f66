// Which lost RTP packets to ask for again, and when: generic NACK (RFC 4585
// section 6.2.1) driven by the sequence numbers that arrive. A gap's
// sequence numbers are requested once reorder_delay_ms has passed (at once by
// default), optionally a second time repeat_delay_ms after that, then again
// each round-trip time until they arrive, until max_retries requests were
// sent, or until they are older than max_age_ms (a retransmission would come
// too late to play).
// A jump of 3000 or more ahead is taken as a restart of the sender (RFC 3550
// appendix A.1): what was missing is given up.

#ifndef CLOUDLINK_RTP_NACK_TRACKER_H_
#define CLOUDLINK_RTP_NACK_TRACKER_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "rtp/sequence_unwrapper.h"

namespace cloudlink::rtp {

struct NackTrackerConfig {
  int max_retries = 10;            // requests per sequence number
  double max_age_ms = 1000.0;      // since the gap was seen
  int max_missing_packets = 1000;  // 1..3000; the oldest beyond this are given up
  // The first request waits this long after the gap is seen, so that a
  // packet merely reordered by the network costs no NACK; 0: at once.
  double reorder_delay_ms = 0.0;
  // A packet still missing this long after its first request is requested
  // again without waiting a round trip (0: never). Past the path's
  // reordering it is lost, and the second request stands in for a first
  // one the feedback path lost, or whose retransmission the forward path
  // lost, a round trip sooner than the retry would. At most the round trip.
  double repeat_delay_ms = 0.0;
};

class NackTracker {
 public:
  // Returns an empty string when `config` can be used, else the reason.
  static std::string ValidateConfig(const NackTrackerConfig& config);

  explicit NackTracker(const NackTrackerConfig& config);

  // Records an arrival at now_ms. Returns true when the packet filled a gap
  // that was being tracked (a recovery).
  bool OnPacket(uint16_t sequence_number, double now_ms);

  // The sequence numbers to request at now_ms, oldest first: those never
  // requested and missing for reorder_delay_ms, those requested once whose
  // request is repeat_delay_ms old (when set), and those whose last
  // request is at least rtt_ms old. Drops
  // (and counts as abandoned) those past their retries or their age.
  std::vector<uint16_t> NackList(double now_ms, double rtt_ms);

  // Every sequence number still missing, oldest first.
  std::vector<uint16_t> Missing() const;

  // Forgets every packet, as for a new stream; the counters stay.
  void Reset();

  const NackTrackerConfig& config() const { return config_; }
  size_t missing_count() const { return missing_.size(); }
  int64_t requests_sent() const { return requests_sent_; }
  int64_t packets_recovered() const { return packets_recovered_; }
  int64_t packets_abandoned() const { return packets_abandoned_; }

 private:
  struct MissingPacket {
    double detected_ms = 0.0;
    double last_request_ms = 0.0;
    int requests = 0;
  };

  void DropOldestBeyondLimit();
  // How long after its last request a packet is due again.
  double RetryDelayMs(const MissingPacket& entry, double rtt_ms) const;

  NackTrackerConfig config_;
  SequenceUnwrapper unwrapper_;
  std::optional<int64_t> highest_;
  std::map<int64_t, MissingPacket> missing_;  // by unwrapped sequence number
  int64_t requests_sent_ = 0;
  int64_t packets_recovered_ = 0;
  int64_t packets_abandoned_ = 0;
};

}  // namespace cloudlink::rtp

#endif  // CLOUDLINK_RTP_NACK_TRACKER_H_
