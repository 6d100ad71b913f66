// Received Opus payloads waiting to be decoded, ordered by unwrapped RTP
// timestamp. A primary packet and a RED redundant copy (RFC 2198) of the
// same audio share a slot; the primary wins.

#ifndef CLOUDLINK_AUDIO_PACKET_BUFFER_H_
#define CLOUDLINK_AUDIO_PACKET_BUFFER_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

namespace cloudlink::audio {

struct BufferedPacket {
  int64_t timestamp = 0;      // unwrapped, 48 kHz RTP units
  int64_t sequence = 0;       // unwrapped; inferred for a redundant copy
  int64_t duration = 0;       // RTP units
  bool redundant = false;     // a RED copy rather than the packet itself
  bool repairs_loss = false;  // a copy standing for a packet counted lost
  bool has_fec = false;       // carries in-band FEC for the frame before it
  double arrival_ms = 0.0;
  std::vector<uint8_t> payload;
};

class PacketBuffer {
 public:
  enum class InsertResult { kInserted, kDuplicate, kFull };

  // Room for 10 s of 20 ms packets; beyond it the oldest packet goes.
  static constexpr size_t kMaxPackets = 500;

  // Stores the packet. A duplicate of a stored primary (or any copy of a
  // stored slot, for a redundant one) is refused; a primary replaces a
  // stored redundant copy. kFull: stored, but the oldest packet was dropped.
  InsertResult Insert(BufferedPacket packet);

  // The earliest packet, or nullptr.
  const BufferedPacket* First() const;
  // Removes the earliest packet.
  void PopFirst();
  // Removes and returns the earliest packet; the buffer must not be empty.
  BufferedPacket TakeFirst();
  // Drops the earliest packets while they end by media time `media`;
  // returns how many of them were primaries.
  int DropEndedBy(int64_t media);

  bool Contains(int64_t timestamp) const { return packets_.count(timestamp) != 0; }
  bool empty() const { return packets_.empty(); }
  size_t size() const { return packets_.size(); }
  void Clear() { packets_.clear(); }

 private:
  std::map<int64_t, BufferedPacket> packets_;
};

}  // namespace cloudlink::audio

#endif  // CLOUDLINK_AUDIO_PACKET_BUFFER_H_
