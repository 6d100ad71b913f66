#include "video/vp8_depacketizer.h"

namespace cloudlink::video {

std::string ParseVp8Payload(const uint8_t* data, size_t size, Vp8Payload* payload) {
  // Descriptor.
  *payload = Vp8Payload();
  const Vp8DescriptorError descriptor_error =
      ParseVp8PayloadDescriptor(data, size, &payload->descriptor, &payload->descriptor_bytes);
  if (descriptor_error != Vp8DescriptorError::kOk) return Vp8DescriptorErrorText(descriptor_error);

  // Every payload carries at least one byte of the frame (RFC 7741 4.1).
  if (payload->descriptor_bytes >= size)
    return "vp8 payload holds a descriptor of " + std::to_string(payload->descriptor_bytes) +
           " bytes and no frame data";
  payload->data = data + payload->descriptor_bytes;
  payload->data_bytes = size - payload->descriptor_bytes;

  // The payload header opens partition 0 and so the frame.
  payload->frame_start =
      payload->descriptor.start_of_partition && payload->descriptor.partition_id == 0;
  if (!payload->frame_start) return "";
  const Vp8HeaderError header_error =
      ParseVp8FrameHeader(payload->data, payload->data_bytes, &payload->header);
  if (header_error != Vp8HeaderError::kOk) return Vp8HeaderErrorText(header_error);
  return "";
}

std::string AssembleVp8Frame(const std::vector<Vp8Payload>& payloads, std::vector<uint8_t>* frame) {
  frame->clear();
  if (payloads.empty()) return "no payloads to assemble";
  if (!payloads.front().frame_start)
    return "the first payload does not start a frame (S=1, PID=0 expected)";

  // One frame: no second start, one picture id throughout.
  const int picture_id = payloads.front().descriptor.picture_id;
  size_t total_bytes = 0;
  for (size_t i = 0; i < payloads.size(); ++i) {
    if (i > 0 && payloads[i].frame_start)
      return "payload " + std::to_string(i) + " starts another frame";
    if (payloads[i].descriptor.picture_id != picture_id)
      return "payload " + std::to_string(i) + " has picture id " +
             std::to_string(payloads[i].descriptor.picture_id) + ", the frame " +
             std::to_string(picture_id);
    total_bytes += payloads[i].data_bytes;
  }

  // Concatenate.
  frame->reserve(total_bytes);
  for (const Vp8Payload& payload : payloads)
    frame->insert(frame->end(), payload.data, payload.data + payload.data_bytes);
  return "";
}

}  // namespace cloudlink::video
