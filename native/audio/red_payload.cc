#include "audio/red_payload.h"

namespace cloudlink::audio {

namespace {

// A redundant block's header is 4 bytes, the primary's 1 (RFC 2198 section 3).
constexpr size_t kRedundantHeaderBytes = 4;
constexpr uint8_t kFollowBit = 0x80;

}  // namespace

std::optional<std::vector<RedBlock>> RedPayload::Parse(const uint8_t* payload, size_t size) {
  // Step 1: the headers, up to and including the primary's one-byte header.
  std::vector<RedBlock> blocks;
  size_t pos = 0;
  while (true) {
    if (pos >= size) return std::nullopt;
    RedBlock block;
    block.payload_type = payload[pos] & 0x7f;
    if ((payload[pos] & kFollowBit) == 0) {
      blocks.push_back(block);
      ++pos;
      break;
    }
    if (pos + kRedundantHeaderBytes > size) return std::nullopt;
    block.timestamp_offset = (payload[pos + 1] << 6) | (payload[pos + 2] >> 2);
    block.size = (static_cast<size_t>(payload[pos + 2] & 0x03) << 8) | payload[pos + 3];
    blocks.push_back(block);
    pos += kRedundantHeaderBytes;
  }

  // Step 2: the blocks follow in header order; the primary takes the rest.
  for (size_t i = 0; i + 1 < blocks.size(); ++i) {
    if (blocks[i].size > size - pos) return std::nullopt;
    blocks[i].data = payload + pos;
    pos += blocks[i].size;
  }
  blocks.back().data = payload + pos;
  blocks.back().size = size - pos;
  return blocks;
}

std::string RedPayload::Pack(const std::vector<RedBlock>& redundant, const RedBlock& primary,
                             std::vector<uint8_t>* out) {
  // Step 1: every field must fit its header bits.
  if (primary.payload_type < 0 || primary.payload_type > kMaxPayloadType)
    return "payload_type must be within 0..127, got " + std::to_string(primary.payload_type);
  for (const RedBlock& block : redundant) {
    if (block.payload_type < 0 || block.payload_type > kMaxPayloadType)
      return "a redundant block's payload_type must be within 0..127, got " +
             std::to_string(block.payload_type);
    if (block.timestamp_offset < 0 || block.timestamp_offset > kMaxTimestampOffset)
      return "timestamp_offset must be within 0..16383, got " +
             std::to_string(block.timestamp_offset);
    if (block.size > kMaxBlockBytes)
      return "a redundant block holds at most 1023 bytes, got " + std::to_string(block.size);
  }

  // Step 2: headers, then blocks in the same order.
  out->clear();
  for (const RedBlock& block : redundant) {
    out->push_back(static_cast<uint8_t>(kFollowBit | block.payload_type));
    out->push_back(static_cast<uint8_t>(block.timestamp_offset >> 6));
    out->push_back(
        static_cast<uint8_t>(((block.timestamp_offset & 0x3f) << 2) | (block.size >> 8)));
    out->push_back(static_cast<uint8_t>(block.size & 0xff));
  }
  out->push_back(static_cast<uint8_t>(primary.payload_type));
  for (const RedBlock& block : redundant)
    out->insert(out->end(), block.data, block.data + block.size);
  out->insert(out->end(), primary.data, primary.data + primary.size);
  return "";
}

}  // namespace cloudlink::audio
