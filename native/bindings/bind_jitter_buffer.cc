// Python face of the jitter buffer subsystem: JitterBuffer, red_pack and
// red_unpack (RFC 2198).

#include <pybind11/stl.h>

#include <cmath>
#include <optional>

#include "audio/jitter_buffer.h"
#include "audio/red_payload.h"
#include "bindings/convert.h"

namespace cloudlink::bindings {
namespace {

using audio::JitterBuffer;
using audio::JitterBufferConfig;
using audio::RedBlock;
using audio::RedPayload;

// RTP header fields are validated like configuration: an out-of-range
// number is the caller's bug, not a malformed packet.
void CheckRange(int64_t value, int64_t most, const char* what) {
  if (value < 0 || value > most)
    throw py::value_error(std::string(what) + " must be within 0.." + std::to_string(most) +
                          ", got " + std::to_string(value));
}

bool Insert(JitterBuffer& buffer, const py::buffer& payload_obj, int64_t sequence_number,
            int64_t timestamp, double arrival_time_ms, const std::optional<int>& payload_type) {
  ByteView payload(payload_obj, "payload");
  CheckRange(sequence_number, 0xffff, "sequence_number");
  CheckRange(timestamp, 0xffffffffLL, "timestamp");
  const int type = payload_type.value_or(buffer.config().payload_type);
  CheckRange(type, 127, "payload_type");
  py::gil_scoped_release release;
  return buffer.Insert(payload.data(), payload.size(), static_cast<uint16_t>(sequence_number),
                       static_cast<uint32_t>(timestamp), arrival_time_ms, type);
}

py::array Pull(JitterBuffer& buffer, double now_ms) {
  if (!std::isfinite(now_ms)) throw py::value_error("now_ms must be a finite number");
  auto out = NewFrame<int16_t>(buffer.frame_samples(), buffer.config().channels);
  int16_t* data = out.mutable_data();
  {
    py::gil_scoped_release release;
    buffer.Pull(now_ms, data);
  }
  return std::move(out);
}

py::dict Stats(const JitterBuffer& buffer) {
  const auto& s = buffer.stats();
  py::dict d;
  d["packetsReceived"] = s.packets_received;
  d["packetsLost"] = s.packets_lost;
  d["packetsDiscarded"] = s.packets_discarded;
  d["packetsDuplicated"] = s.packets_duplicated;
  d["fecPacketsReceived"] = s.fec_packets_received;
  d["fecPacketsRecovered"] = s.fec_packets_recovered;
  d["jitterBufferDelay"] = s.jitter_buffer_delay_s;
  d["jitterBufferTargetDelay"] = s.jitter_buffer_target_delay_s;
  d["jitterBufferMinimumDelay"] = s.jitter_buffer_minimum_delay_s;
  d["jitterBufferEmittedCount"] = s.jitter_buffer_emitted_count;
  d["totalSamplesReceived"] = s.total_samples_received;
  d["concealedSamples"] = s.concealed_samples;
  d["silentConcealedSamples"] = s.silent_concealed_samples;
  d["concealmentEvents"] = s.concealment_events;
  d["trailingConcealedSamples"] = s.trailing_concealed_samples;
  d["insertedSamplesForDeceleration"] = s.inserted_samples_for_deceleration;
  d["removedSamplesForAcceleration"] = s.removed_samples_for_acceleration;
  return d;
}

py::bytes RedPack(const py::buffer& primary_obj, int payload_type, const py::iterable& redundant) {
  ByteView primary_view(primary_obj, "primary");
  // Keep every redundant payload's buffer alive while the blocks point at it.
  std::vector<ByteView> views;
  std::vector<RedBlock> blocks;
  std::vector<std::pair<int64_t, int64_t>> fields;
  for (const py::handle& item : redundant) {
    auto entry = item.cast<py::tuple>();
    if (entry.size() != 3)
      throw py::value_error(
          "each redundant entry must be (payload, timestamp_offset, payload_type)");
    views.emplace_back(entry[0].cast<py::buffer>(), "redundant payload");
    fields.emplace_back(entry[1].cast<int64_t>(), entry[2].cast<int64_t>());
  }
  for (size_t i = 0; i < views.size(); ++i) {
    const auto [offset, type] = fields[i];
    CheckRange(offset, RedPayload::kMaxTimestampOffset, "timestamp_offset");
    CheckRange(type, RedPayload::kMaxPayloadType, "a redundant block's payload_type");
    blocks.push_back(
        {static_cast<int>(type), static_cast<int>(offset), views[i].data(), views[i].size()});
  }
  CheckRange(payload_type, RedPayload::kMaxPayloadType, "payload_type");
  RedBlock primary{payload_type, 0, primary_view.data(), primary_view.size()};
  std::vector<uint8_t> out;
  CheckConfig(RedPayload::Pack(blocks, primary, &out));
  return py::bytes(reinterpret_cast<const char*>(out.data()), out.size());
}

py::list RedUnpack(const py::buffer& payload_obj) {
  ByteView payload(payload_obj, "payload");
  auto blocks = RedPayload::Parse(payload.data(), payload.size());
  if (!blocks)
    RaiseError("CodecError", "malformed RED payload (" + std::to_string(payload.size()) +
                                 " bytes): its block headers or lengths run past the end");
  py::list out;
  for (const RedBlock& block : *blocks)
    out.append(py::make_tuple(block.payload_type, block.timestamp_offset,
                              py::bytes(reinterpret_cast<const char*>(block.data), block.size)));
  return out;
}

}  // namespace

void init_jitter_buffer(py::module_& m) {
  py::class_<JitterBuffer>(m, "JitterBuffer",
                           "NetEq-class receive buffer for one Opus stream (RTP clock 48 kHz, "
                           "RFC 7587): reorders, recovers from FEC/RED, conceals, and plays out "
                           "exactly one 10 ms frame per pull.")
      .def(py::init([](int sample_rate_hz, int channels, int payload_type,
                       std::optional<int> red_payload_type, double min_delay_ms,
                       double max_delay_ms) {
             JitterBufferConfig config;
             config.sample_rate_hz = sample_rate_hz;
             config.channels = channels;
             config.payload_type = payload_type;
             config.red_payload_type = red_payload_type.value_or(-1);
             config.min_delay_ms = min_delay_ms;
             config.max_delay_ms = max_delay_ms;
             if (red_payload_type && (*red_payload_type < 0 || *red_payload_type > 127))
               throw py::value_error("red_payload_type must be within 0..127, got " +
                                     std::to_string(*red_payload_type));
             CheckConfig(audio::ValidateJitterBufferConfig(config));
             return std::make_unique<JitterBuffer>(config);
           }),
           py::kw_only(), py::arg("sample_rate_hz") = 48000, py::arg("channels") = 1,
           py::arg("payload_type") = 111, py::arg("red_payload_type") = py::none(),
           py::arg("min_delay_ms") = 0.0, py::arg("max_delay_ms") = 2000.0)
      .def("insert", &Insert, py::arg("payload"), py::kw_only(), py::arg("sequence_number"),
           py::arg("timestamp"), py::arg("arrival_time_ms"), py::arg("payload_type") = py::none(),
           "Takes one RTP payload; returns False when it was dropped and counted (duplicate, "
           "too late, malformed or of an unknown payload type).")
      .def("pull", &Pull, py::arg("now_ms"),
           "Plays out exactly one 10 ms frame of int16 audio for wall time now_ms.")
      .def("stats", &Stats, "Receive statistics under their W3C webrtc-stats names.")
      .def("reset", &JitterBuffer::Reset, "Forgets all packets, audio and statistics.")
      .def_property_readonly("target_delay_ms", &JitterBuffer::target_delay_ms)
      .def_property_readonly("current_delay_ms", &JitterBuffer::current_delay_ms)
      .def_property_readonly("playout_timestamp", &JitterBuffer::playout_timestamp)
      .def_property_readonly("frame_samples", &JitterBuffer::frame_samples)
      .def_property_readonly("sample_rate_hz",
                             [](const JitterBuffer& b) { return b.config().sample_rate_hz; })
      .def_property_readonly("channels", [](const JitterBuffer& b) { return b.config().channels; });

  m.def("red_pack", &RedPack, py::arg("primary"), py::kw_only(), py::arg("payload_type"),
        py::arg("redundant") = py::tuple(),
        "Builds an RFC 2198 RED payload; redundant holds (payload, timestamp_offset, "
        "payload_type) tuples, oldest first.");
  m.def("red_unpack", &RedUnpack, py::arg("payload"),
        "Splits an RFC 2198 RED payload into (payload_type, timestamp_offset, block) tuples, "
        "oldest first, the primary last; raises CodecError when malformed.");
}

}  // namespace cloudlink::bindings
