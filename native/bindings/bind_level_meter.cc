// Python face of the level meter (RFC 6464 audio level, W3C energy totals)
// and the voice activity detector.

#include <string>

#include "audio/level_meter.h"
#include "audio/voice_activity_detector.h"
#include "bindings/convert.h"

namespace cloudlink::bindings {
namespace {

using audio::LevelMeter;
using audio::VoiceActivityDetector;

[[noreturn]] void RaiseDtype(const py::array& pcm) {
  throw py::type_error("pcm must be a numpy array of int16 or float32, got dtype " +
                       py::str(pcm.dtype()).cast<std::string>());
}

// Any block: (samples,) or (samples, channels); channels are averaged in
// the energy.
double MeasureLevel(LevelMeter& meter, const py::array& pcm) {
  if (pcm.ndim() != 1 && pcm.ndim() != 2)
    throw py::value_error("pcm must have shape (samples,) or (samples, channels), got " +
                          std::to_string(pcm.ndim()) + " dimensions");
  const size_t frames = static_cast<size_t>(pcm.shape(0));
  const int channels = pcm.ndim() == 2 ? static_cast<int>(pcm.shape(1)) : 1;
  if (frames == 0 || channels == 0) throw py::value_error("pcm must not be empty");
  if (py::isinstance<py::array_t<int16_t>>(pcm)) {
    auto samples = py::array_t<int16_t, py::array::c_style>::ensure(pcm);
    py::gil_scoped_release release;
    return meter.ProcessInt16(samples.data(), frames, channels);
  }
  if (py::isinstance<py::array_t<float>>(pcm)) {
    auto samples = py::array_t<float, py::array::c_style>::ensure(pcm);
    py::gil_scoped_release release;
    return meter.ProcessFloat(samples.data(), frames, channels);
  }
  RaiseDtype(pcm);
}

// Exactly one 10 ms mono frame.
bool DetectVoice(VoiceActivityDetector& detector, const py::array& pcm) {
  CheckFrameShape(pcm, detector.frame_samples(), 1, "pcm");
  if (py::isinstance<py::array_t<int16_t>>(pcm)) {
    auto samples = py::array_t<int16_t, py::array::c_style>::ensure(pcm);
    py::gil_scoped_release release;
    return detector.ProcessInt16(samples.data());
  }
  if (py::isinstance<py::array_t<float>>(pcm)) {
    auto samples = py::array_t<float, py::array::c_style>::ensure(pcm);
    py::gil_scoped_release release;
    return detector.ProcessFloat(samples.data());
  }
  RaiseDtype(pcm);
}

}  // namespace

void init_level_meter(py::module_& m) {
  py::class_<LevelMeter>(m, "LevelMeter",
                         "RMS level in dBov and the RFC 6464 audio level of each block, with "
                         "the W3C webrtc-stats energy totals.")
      .def(py::init([](int sample_rate_hz) {
             CheckConfig(LevelMeter::ValidateConfig(sample_rate_hz));
             return std::make_unique<LevelMeter>(sample_rate_hz);
           }),
           py::kw_only(), py::arg("sample_rate_hz"))
      .def("process", &MeasureLevel, py::arg("pcm"),
           "Measures one block (int16 or float32, (samples,) or (samples, channels)) and "
           "returns its level in dBov, -127..0; a full-scale sine reads -3.")
      .def_property_readonly("level_dbov", &LevelMeter::level_dbov,
                             "The last block's level in dBov; -127 before any block.")
      .def_property_readonly("audio_level", &LevelMeter::audio_level,
                             "RFC 6464 audio level of the last block: -dBov in 0..127, 127 for "
                             "digital silence.")
      .def_property_readonly("total_audio_energy", &LevelMeter::total_audio_energy,
                             "W3C totalAudioEnergy: sum of (sample / full scale)^2 x duration.")
      .def_property_readonly("total_samples_duration_s", &LevelMeter::total_samples_duration_s,
                             "W3C totalSamplesDuration: seconds of audio measured.")
      .def_property_readonly("sample_rate_hz", &LevelMeter::sample_rate_hz)
      .def("reset", &LevelMeter::Reset, "Clears the level and the totals.");

  py::class_<VoiceActivityDetector>(m, "VoiceActivityDetector",
                                    "Speech or not, per 10 ms frame, for DTX and active-speaker "
                                    "detection (statistical model over a learnt background).")
      .def(py::init([](int sample_rate_hz, int hangover_ms) {
             CheckConfig(VoiceActivityDetector::ValidateConfig(sample_rate_hz, hangover_ms));
             return std::make_unique<VoiceActivityDetector>(sample_rate_hz, hangover_ms);
           }),
           py::kw_only(), py::arg("sample_rate_hz"), py::arg("hangover_ms") = 200)
      .def("process", &DetectVoice, py::arg("pcm"),
           "Judges one 10 ms mono frame (int16 or float32); True while speech, hangover "
           "included.")
      .def_property_readonly("speech_probability", &VoiceActivityDetector::speech_probability,
                             "Probability (0..1) that the last frame held speech, before the "
                             "hangover.")
      .def_property_readonly("active", &VoiceActivityDetector::active,
                             "The last decision, hangover included.")
      .def_property_readonly("frame_samples", &VoiceActivityDetector::frame_samples)
      .def_property_readonly("sample_rate_hz", &VoiceActivityDetector::sample_rate_hz)
      .def_property_readonly("hangover_ms", &VoiceActivityDetector::hangover_ms)
      .def("reset", &VoiceActivityDetector::Reset, "Forgets the learnt background.");
}

}  // namespace cloudlink::bindings
