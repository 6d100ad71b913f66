#include "audio/packet_buffer.h"

#include <utility>

namespace cloudlink::audio {

PacketBuffer::InsertResult PacketBuffer::Insert(BufferedPacket packet) {
  // Step 1: a slot already filled keeps its packet unless a primary arrives
  // for a redundant copy.
  auto it = packets_.find(packet.timestamp);
  if (it != packets_.end()) {
    if (packet.redundant || !it->second.redundant) return InsertResult::kDuplicate;
    it->second = std::move(packet);
    return InsertResult::kInserted;
  }

  // Step 2: store it, making room by dropping the oldest.
  packets_.emplace(packet.timestamp, std::move(packet));
  if (packets_.size() <= kMaxPackets) return InsertResult::kInserted;
  packets_.erase(packets_.begin());
  return InsertResult::kFull;
}

const BufferedPacket* PacketBuffer::First() const {
  return packets_.empty() ? nullptr : &packets_.begin()->second;
}

void PacketBuffer::PopFirst() {
  if (!packets_.empty()) packets_.erase(packets_.begin());
}

BufferedPacket PacketBuffer::TakeFirst() {
  BufferedPacket packet = std::move(packets_.begin()->second);
  packets_.erase(packets_.begin());
  return packet;
}

int PacketBuffer::DropEndedBy(int64_t media) {
  int primaries = 0;
  while (!packets_.empty() &&
         packets_.begin()->first + packets_.begin()->second.duration <= media) {
    if (!packets_.begin()->second.redundant) ++primaries;
    packets_.erase(packets_.begin());
  }
  return primaries;
}

}  // namespace cloudlink::audio
