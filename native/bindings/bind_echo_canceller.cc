// Python face of the echo canceller subsystem.

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "audio/echo_canceller.h"
#include "bindings/convert.h"

namespace cloudlink::bindings {
namespace {

using audio::EchoCanceller;
using audio::EchoCancellerConfig;

// int16 full scale.
constexpr float kInt16Scale = 32768.0f;

// A frame as float samples at full scale 1.0, from int16 or float32. Sets
// *was_int16 to tell the caller which dtype to return.
std::vector<float> FrameToFloat(const EchoCanceller& canceller, const py::array& pcm,
                                const char* what, bool* was_int16) {
  CheckFrameShape(pcm, canceller.frame_samples(), 1, what);
  std::vector<float> samples(canceller.frame_samples());
  if (py::isinstance<py::array_t<int16_t>>(pcm)) {
    auto in = py::array_t<int16_t, py::array::c_style>::ensure(pcm);
    const int16_t* data = in.data();
    for (size_t n = 0; n < samples.size(); ++n) samples[n] = data[n] / kInt16Scale;
    *was_int16 = true;
  } else if (py::isinstance<py::array_t<float>>(pcm)) {
    auto in = py::array_t<float, py::array::c_style>::ensure(pcm);
    std::copy(in.data(), in.data() + samples.size(), samples.begin());
    *was_int16 = false;
  } else {
    throw py::type_error(std::string(what) +
                         " must be a numpy array of int16 or float32, got dtype " +
                         py::str(pcm.dtype()).cast<std::string>());
  }
  return samples;
}

void ProcessRender(EchoCanceller& canceller, const py::array& far) {
  bool was_int16 = false;
  std::vector<float> samples = FrameToFloat(canceller, far, "far", &was_int16);
  py::gil_scoped_release release;
  canceller.ProcessRender(samples.data());
}

py::array ProcessCapture(EchoCanceller& canceller, const py::array& near) {
  bool was_int16 = false;
  std::vector<float> samples = FrameToFloat(canceller, near, "near", &was_int16);
  {
    py::gil_scoped_release release;
    canceller.ProcessCapture(samples.data(), samples.data());
  }
  // Back to the input's dtype; int16 rounds and saturates.
  const int frame = canceller.frame_samples();
  if (was_int16) {
    auto out = NewFrame<int16_t>(frame, 1);
    int16_t* data = out.mutable_data();
    for (int n = 0; n < frame; ++n) {
      const float scaled = std::nearbyint(samples[n] * kInt16Scale);
      data[n] = static_cast<int16_t>(std::clamp(scaled, -32768.0f, 32767.0f));
    }
    return std::move(out);
  }
  auto out = NewFrame<float>(frame, 1);
  std::copy(samples.begin(), samples.end(), out.mutable_data());
  return std::move(out);
}

py::object DelayMs(const EchoCanceller& canceller) {
  const auto& delay = canceller.stats().delay_ms;
  if (!delay) return py::none();
  return py::float_(*delay);
}

py::dict Stats(const EchoCanceller& canceller) {
  const auto& stats = canceller.stats();
  py::dict result;
  result["erle_db"] = stats.erle_db;
  result["linear_erle_db"] = stats.linear_erle_db;
  result["delay_ms"] = DelayMs(canceller);
  result["coarse_delay_ms"] =
      stats.coarse_delay_ms < 0.0f ? py::object(py::none()) : py::float_(stats.coarse_delay_ms);
  result["double_talk"] = stats.double_talk;
  result["leakage"] = stats.leakage;
  result["render_frames_dropped"] = stats.render_frames_dropped;
  result["render_underruns"] = stats.render_underruns;
  return result;
}

}  // namespace

void init_echo_canceller(py::module_& m) {
  py::class_<EchoCanceller>(
      m, "EchoCanceller",
      "Acoustic echo canceller: a delay estimator, a two-path multidelay frequency-domain adaptive "
      "filter and a residual echo suppressor; mono, 10 ms frames at 16, 32 or 48 kHz.")
      .def(py::init([](int sample_rate_hz, int tail_ms) {
             EchoCancellerConfig config;
             config.sample_rate_hz = sample_rate_hz;
             config.tail_ms = tail_ms;
             CheckConfig(audio::ValidateEchoCancellerConfig(config));
             return std::make_unique<EchoCanceller>(config);
           }),
           py::kw_only(), py::arg("sample_rate_hz") = 16000, py::arg("tail_ms") = 250)
      .def("process_render", &ProcessRender, py::arg("far"),
           "Queues one 10 ms frame of what this client plays (int16 or float32).")
      .def("process_capture", &ProcessCapture, py::arg("near"),
           "Cancels the echo in one 10 ms microphone frame; returns the near end (same dtype), "
           "4 ms late.")
      .def("stats", &Stats, "erle_db, linear_erle_db, delay_ms, coarse_delay_ms, double_talk, ...")
      .def("reset", &EchoCanceller::Reset, "Forgets the echo path and all history.")
      .def_property_readonly("frame_samples", &EchoCanceller::frame_samples)
      .def_property_readonly("sample_rate_hz",
                             [](const EchoCanceller& c) { return c.config().sample_rate_hz; })
      .def_property_readonly("tail_ms", [](const EchoCanceller& c) { return c.config().tail_ms; })
      .def_property_readonly("erle_db", [](const EchoCanceller& c) { return c.stats().erle_db; })
      .def_property_readonly("delay_ms", &DelayMs)
      .def_property_readonly("double_talk",
                             [](const EchoCanceller& c) { return c.stats().double_talk; });
}

}  // namespace cloudlink::bindings
