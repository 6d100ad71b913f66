// Python face of the frame assembler (the video jitter buffer): VP8 RTP
// payloads in, whole frames out in decode order, with the NACK lists and
// keyframe requests that repair losses, and W3C webrtc-stats counters.

#include <pybind11/stl.h>

#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bindings/convert.h"
#include "video/frame_assembler.h"

namespace cloudlink::bindings {
namespace {

using video::AssembledFrame;
using video::FrameAssembler;
using video::FrameAssemblerConfig;

constexpr int64_t kMaxSequenceNumber = 0xffff;
constexpr int64_t kMaxTimestamp = 0xffffffffLL;

// What pop_frames() hands out: the frame bytes as Python bytes.
struct PyAssembledFrame {
  py::bytes data;
  AssembledFrame info;  // its data left empty
};

std::optional<int> Present(int value) {
  return value < 0 ? std::nullopt : std::optional<int>(value);
}

double CheckTime(double value, const char* name) {
  if (!std::isfinite(value)) throw py::value_error(std::string(name) + " must be a finite number");
  return value;
}

int64_t CheckField(int64_t value, int64_t most, const char* name) {
  if (value < 0 || value > most)
    throw py::value_error(std::string(name) + " must be within 0.." + std::to_string(most) +
                          ", got " + std::to_string(value));
  return value;
}

bool Insert(FrameAssembler& assembler, const py::buffer& payload_obj, int64_t sequence_number,
            int64_t timestamp, bool marker, double arrival_time_ms) {
  ByteView payload(payload_obj, "payload");
  CheckField(sequence_number, kMaxSequenceNumber, "sequence_number");
  CheckField(timestamp, kMaxTimestamp, "timestamp");
  CheckTime(arrival_time_ms, "arrival_time_ms");
  std::string outcome;
  {
    py::gil_scoped_release release;
    outcome =
        assembler.Insert(payload.data(), payload.size(), static_cast<uint16_t>(sequence_number),
                         static_cast<uint32_t>(timestamp), marker, arrival_time_ms);
  }
  return outcome.empty();
}

std::vector<PyAssembledFrame> PopFrames(FrameAssembler& assembler, double now_ms) {
  CheckTime(now_ms, "now_ms");
  std::vector<AssembledFrame> frames;
  {
    py::gil_scoped_release release;
    frames = assembler.PopFrames(now_ms);
  }
  std::vector<PyAssembledFrame> out;
  out.reserve(frames.size());
  for (AssembledFrame& frame : frames) {
    py::bytes data(reinterpret_cast<const char*>(frame.data.data()), frame.data.size());
    frame.data = std::vector<uint8_t>();
    out.push_back(PyAssembledFrame{std::move(data), std::move(frame)});
  }
  return out;
}

py::dict Stats(const FrameAssembler& assembler) {
  // W3C webrtc-stats names (RTCInboundRtpStreamStats) first, then ours.
  const auto& s = assembler.stats();
  const auto& freezes = assembler.freezes();
  py::dict d;
  d["framesReceived"] = s.frames_received;
  d["framesDecoded"] = s.decode_reported ? s.frames_reported_decoded : s.frames_released;
  d["framesDropped"] = s.frames_dropped;
  d["keyFramesDecoded"] = s.decode_reported ? s.keyframes_reported_decoded : s.keyframes_released;
  d["framesRendered"] = freezes.frames_rendered();
  d["freezeCount"] = freezes.freeze_count();
  d["totalFreezesDuration"] = freezes.total_freezes_duration_ms() / 1000.0;  // seconds
  d["nackCount"] = s.nack_count;
  d["pliCount"] = s.pli_count;
  d["packetsReceived"] = s.packets_received;
  d["packetsDuplicated"] = s.packets_duplicated;
  d["packetsMalformed"] = s.packets_malformed;
  d["packetsPadding"] = s.packets_padding;
  d["packetsDiscarded"] = s.packets_discarded;  // W3C: late (or beyond the frame bound)
  d["packetsRecovered"] = assembler.nack_tracker().packets_recovered();
  d["packetsAbandoned"] = assembler.nack_tracker().packets_abandoned();
  d["framesReleased"] = s.frames_released;
  return d;
}

}  // namespace

void init_frame_assembler(py::module_& m) {
  py::class_<PyAssembledFrame>(m, "AssembledFrame",
                               "One VP8 frame out of FrameAssembler.pop_frames(), in decode order.")
      .def_readonly("data", &PyAssembledFrame::data, "The VP8 frame (RFC 6386), for Vp8Decoder.")
      .def_property_readonly(
          "timestamp", [](const PyAssembledFrame& f) { return f.info.timestamp; },
          "RTP timestamp, 90 kHz.")
      .def_property_readonly("keyframe", [](const PyAssembledFrame& f) { return f.info.keyframe; })
      .def_property_readonly(
          "temporal_layer_id",
          [](const PyAssembledFrame& f) { return Present(f.info.temporal_layer_id); },
          "TID, None without temporal layers.")
      .def_property_readonly("layer_sync",
                             [](const PyAssembledFrame& f) { return f.info.layer_sync; })
      .def_property_readonly("picture_id",
                             [](const PyAssembledFrame& f) { return Present(f.info.picture_id); })
      .def_property_readonly("first_sequence_number",
                             [](const PyAssembledFrame& f) { return f.info.first_sequence_number; })
      .def_property_readonly("last_sequence_number",
                             [](const PyAssembledFrame& f) { return f.info.last_sequence_number; })
      .def_property_readonly("first_arrival_ms",
                             [](const PyAssembledFrame& f) { return f.info.first_arrival_ms; })
      .def_property_readonly(
          "complete_ms", [](const PyAssembledFrame& f) { return f.info.complete_ms; },
          "Arrival time of the packet that completed the frame.")
      .def("__repr__", [](const PyAssembledFrame& f) {
        return "AssembledFrame(timestamp=" + std::to_string(f.info.timestamp) + ", " +
               std::to_string(py::len(f.data)) +
               " bytes, keyframe=" + (f.info.keyframe ? "True" : "False") + ")";
      });

  py::class_<FrameAssembler>(m, "FrameAssembler",
                             "The video jitter buffer: VP8 RTP payloads in any order in, whole "
                             "decodable frames out in decode order, with NACK and PLI timing.")
      .def(py::init([](double rtt_ms, int max_nack_retries, double nack_repeat_delay_ms,
                       double pli_interval_ms, double max_frame_age_ms, int max_buffered_frames) {
             FrameAssemblerConfig config;
             config.rtt_ms = rtt_ms;
             config.max_nack_retries = max_nack_retries;
             config.nack_repeat_delay_ms = nack_repeat_delay_ms;
             config.pli_interval_ms = pli_interval_ms;
             config.max_frame_age_ms = max_frame_age_ms;
             config.max_buffered_frames = max_buffered_frames;
             CheckConfig(FrameAssembler::ValidateConfig(config));
             return std::make_unique<FrameAssembler>(config);
           }),
           py::kw_only(), py::arg("rtt_ms") = 100.0, py::arg("max_nack_retries") = 10,
           py::arg("nack_repeat_delay_ms") = 0.0, py::arg("pli_interval_ms") = 300.0,
           py::arg("max_frame_age_ms") = 1000.0, py::arg("max_buffered_frames") = 300)
      .def("insert", &Insert, py::arg("payload"), py::kw_only(), py::arg("sequence_number"),
           py::arg("timestamp"), py::arg("marker"), py::arg("arrival_time_ms"),
           "Takes one VP8 RTP payload; False when it was not stored (malformed, duplicate or "
           "late: counted in stats(), never raised).")
      .def("pop_frames", &PopFrames, py::arg("now_ms"),
           "Frames ready now, in decode order; hopeless ones are dropped and counted.")
      .def(
          "nack_list",
          [](FrameAssembler& a, double now_ms) { return a.NackList(CheckTime(now_ms, "now_ms")); },
          py::arg("now_ms"), "Sequence numbers to put in one RTCP NACK now, oldest first.")
      .def(
          "keyframe_request",
          [](FrameAssembler& a, double now_ms) {
            return a.KeyframeRequest(CheckTime(now_ms, "now_ms"));
          },
          py::arg("now_ms"), "True when a PLI should be sent now (rate-limited); counts it.")
      .def("frame_decoded", &FrameAssembler::FrameDecoded, py::kw_only(),
           py::arg("keyframe") = false, py::arg("ok") = true,
           "Reports what the decoder made of a released frame; ok=False breaks the references "
           "until the next keyframe.")
      .def(
          "frame_rendered",
          [](FrameAssembler& a, double now_ms) { a.FrameRendered(CheckTime(now_ms, "now_ms")); },
          py::arg("now_ms"), "Reports a frame shown at now_ms (freeze statistics).")
      .def(
          "set_rtt_ms", [](FrameAssembler& a, double rtt_ms) { CheckConfig(a.SetRttMs(rtt_ms)); },
          py::arg("rtt_ms"), "Updates the round-trip time that paces NACKs and PLIs.")
      .def("stats", &Stats, "Counters under their W3C webrtc-stats names, plus packet counts.")
      .def("reset", &FrameAssembler::Reset, "Forgets the stream; the counters stay.")
      .def_property_readonly("rtt_ms", [](const FrameAssembler& a) { return a.config().rtt_ms; })
      .def_property_readonly("max_nack_retries",
                             [](const FrameAssembler& a) { return a.config().max_nack_retries; })
      .def_property_readonly(
          "nack_repeat_delay_ms",
          [](const FrameAssembler& a) { return a.config().nack_repeat_delay_ms; },
          "A packet still missing this long after its first NACK is asked for again "
          "without waiting a round trip (0: never).")
      .def_property_readonly("pli_interval_ms",
                             [](const FrameAssembler& a) { return a.config().pli_interval_ms; })
      .def_property_readonly("max_frame_age_ms",
                             [](const FrameAssembler& a) { return a.config().max_frame_age_ms; })
      .def_property_readonly("max_buffered_frames",
                             [](const FrameAssembler& a) { return a.config().max_buffered_frames; })
      .def_property_readonly("keyframe_needed", &FrameAssembler::keyframe_needed,
                             "True while references are broken until a keyframe.")
      .def_property_readonly("buffered_frames", &FrameAssembler::buffered_frames)
      .def_property_readonly(
          "missing", [](const FrameAssembler& a) { return a.nack_tracker().Missing(); },
          "Sequence numbers still chased by NACK, oldest first.");
}

}  // namespace cloudlink::bindings
