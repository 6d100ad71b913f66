// libFuzzer target for ReceiveStatistics and NackTracker: the input is a
// stream of (sequence number, timestamp step, arrival step) records; any
// arrival pattern must keep the counts consistent and never fault.

#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "rtp/nack_tracker.h"
#include "rtp/receive_statistics.h"

using cloudlink::rtp::NackTracker;
using cloudlink::rtp::NackTrackerConfig;
using cloudlink::rtp::ReceiveStatistics;

namespace {
constexpr size_t kRecordBytes = 5;  // 2 sequence, 2 timestamp step, 1 arrival step
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ReceiveStatistics stats(/*ssrc=*/1, /*clock_rate_hz=*/90000);
  NackTracker nack(NackTrackerConfig{});
  uint32_t timestamp = 0;
  double now_ms = 0.0;
  for (size_t pos = 0; pos + kRecordBytes <= size; pos += kRecordBytes) {
    // Step 1: one arrival.
    const uint16_t sequence = static_cast<uint16_t>((data[pos] << 8) | data[pos + 1]);
    timestamp += static_cast<uint32_t>((data[pos + 2] << 8) | data[pos + 3]) * 16;
    now_ms += data[pos + 4];
    stats.OnPacket(sequence, timestamp, now_ms, 100);
    nack.OnPacket(sequence, now_ms);

    // Step 2: the invariants after it.
    if (stats.cumulative_lost() != stats.packets_expected() - stats.packets_received())
      std::abort();
    if (!(stats.jitter_timestamp_units() >= 0)) std::abort();
    if (nack.missing_count() > static_cast<size_t>(NackTrackerConfig{}.max_missing_packets))
      std::abort();
    nack.NackList(now_ms, /*rtt_ms=*/50.0);
  }
  auto block = stats.MakeReportBlock(now_ms);
  if (block && (block->fraction_lost < 0 || block->fraction_lost > 255)) std::abort();
  return 0;
}
