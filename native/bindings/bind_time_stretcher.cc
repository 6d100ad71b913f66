// Python face of the time stretcher: numpy blocks in, the stretched block and
// the samples removed or added per channel out.

#include <pybind11/stl.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "audio/time_stretcher.h"
#include "bindings/convert.h"

namespace cloudlink::bindings {
namespace {

using audio::TimeStretcher;

// Sample rates the stretcher's pitch search is laid out for.
constexpr int kMinRateHz = 8000;
constexpr int kMaxRateHz = 48000;

// float32 full scale (1.0) in int16 steps.
constexpr double kInt16FullScale = 32768.0;

std::string ValidateConfig(int sample_rate_hz, int channels) {
  if (sample_rate_hz < kMinRateHz || sample_rate_hz > kMaxRateHz)
    return "sample_rate_hz must be 8000..48000, got " + std::to_string(sample_rate_hz);
  if (channels != 1 && channels != 2)
    return "channels must be 1 or 2, got " + std::to_string(channels);
  return "";
}

// Samples per channel in `pcm`: shape (samples,) for mono, (samples,
// channels) or a flat interleaved (samples * channels,) for stereo.
int SamplesPerChannel(const py::array& pcm, int channels) {
  if (pcm.ndim() == 2 && pcm.shape(1) == channels) return static_cast<int>(pcm.shape(0));
  if (pcm.ndim() == 1 && pcm.shape(0) % channels == 0)
    return static_cast<int>(pcm.shape(0) / channels);
  std::string shape = "(";
  for (py::ssize_t i = 0; i < pcm.ndim(); ++i)
    shape += (i ? ", " : "") + std::to_string(pcm.shape(i));
  shape += pcm.ndim() == 1 ? ",)" : ")";
  throw py::value_error("pcm must have shape (samples,) or (samples, " + std::to_string(channels) +
                        ") for " + std::to_string(channels) + " channel(s), got " + shape);
}

// A new array of `samples` per channel laid out like `like` (2-D stays 2-D).
template <typename T>
py::array_t<T> NewLike(const py::array& like, int samples, int channels) {
  if (like.ndim() == 2) return py::array_t<T>({samples, channels});
  return py::array_t<T>(static_cast<py::ssize_t>(samples) * channels);
}

// Runs `stretch` (Accelerate or PreemptiveExpand) on an int16 or float32
// block; float32 is full scale at 1.0 and is stretched at 16-bit precision.
template <typename Stretch>
py::tuple Run(TimeStretcher& stretcher, const py::array& pcm, Stretch stretch) {
  const int channels = stretcher.channels();
  const int samples = SamplesPerChannel(pcm, channels);
  if (samples < stretcher.min_input_samples())
    throw py::value_error("pcm must hold at least min_input_samples = " +
                          std::to_string(stretcher.min_input_samples()) +
                          " samples per channel, got " + std::to_string(samples));
  const size_t total = static_cast<size_t>(samples) * channels;
  std::vector<int16_t> output;
  int changed = 0;

  if (py::isinstance<py::array_t<int16_t>>(pcm)) {
    auto input = py::array_t<int16_t, py::array::c_style>::ensure(pcm);
    {
      py::gil_scoped_release release;
      changed = stretch(input.data(), samples, &output);
    }
    const int out_samples = static_cast<int>(output.size() / channels);
    auto result = NewLike<int16_t>(pcm, out_samples, channels);
    std::copy(output.begin(), output.end(), result.mutable_data());
    return py::make_tuple(std::move(result), changed);
  }
  if (py::isinstance<py::array_t<float>>(pcm)) {
    auto input = py::array_t<float, py::array::c_style>::ensure(pcm);
    const float* in = input.data();
    std::vector<int16_t> quantized(total);
    {
      py::gil_scoped_release release;
      for (size_t i = 0; i < total; ++i) {
        // NaN becomes silence; beyond full scale clips.
        const double value = std::isnan(in[i]) ? 0.0 : static_cast<double>(in[i]) * kInt16FullScale;
        quantized[i] = static_cast<int16_t>(std::lround(std::clamp(value, -32768.0, 32767.0)));
      }
      changed = stretch(quantized.data(), samples, &output);
    }
    const int out_samples = static_cast<int>(output.size() / channels);
    auto result = NewLike<float>(pcm, out_samples, channels);
    float* out = result.mutable_data();
    for (size_t i = 0; i < output.size(); ++i)
      out[i] = static_cast<float>(output[i] / kInt16FullScale);
    return py::make_tuple(std::move(result), changed);
  }
  throw py::type_error("pcm must be a numpy array of int16 or float32, got dtype " +
                       py::str(pcm.dtype()).cast<std::string>());
}

}  // namespace

void init_time_stretcher(py::module_& m) {
  py::class_<TimeStretcher>(m, "TimeStretcher",
                            "Shortens or lengthens speech by whole pitch periods (WSOLA), as the "
                            "jitter buffer does to move its delay without a glitch.")
      .def(py::init([](int sample_rate_hz, int channels) {
             CheckConfig(ValidateConfig(sample_rate_hz, channels));
             return std::make_unique<TimeStretcher>(sample_rate_hz, channels);
           }),
           py::kw_only(), py::arg("sample_rate_hz"), py::arg("channels") = 1)
      .def(
          "accelerate",
          [](TimeStretcher& s, const py::array& pcm, std::optional<int> max_removed_samples) {
            if (max_removed_samples && *max_removed_samples < 0)
              throw py::value_error("max_removed_samples must not be negative, got " +
                                    std::to_string(*max_removed_samples));
            const int most = max_removed_samples.value_or(std::numeric_limits<int>::max());
            return Run(s, pcm, [&s, most](const int16_t* in, int n, std::vector<int16_t>* out) {
              return s.Accelerate(in, n, out, most);
            });
          },
          py::arg("pcm"), py::kw_only(), py::arg("max_removed_samples") = py::none(),
          "Removes about one pitch period (one or two) where that leaves no glitch, and at most "
          "max_removed_samples per channel (a loud period longer than that stays; a quiet "
          "block is cut to it). Returns (output, samples removed per channel); 0 means the "
          "block came back unchanged.")
      .def(
          "preemptive_expand",
          [](TimeStretcher& s, const py::array& pcm) {
            return Run(s, pcm, [&s](const int16_t* in, int n, std::vector<int16_t>* out) {
              return s.PreemptiveExpand(in, n, out);
            });
          },
          py::arg("pcm"),
          "Inserts one pitch period where that leaves no glitch. Returns (output, samples "
          "added per channel); 0 means the block came back unchanged.")
      .def_property(
          "quiet_dbov",
          [](const TimeStretcher& s) { return 20.0 * std::log10(s.quiet_rms() / 32768.0); },
          [](TimeStretcher& s, double dbov) {
            if (!std::isfinite(dbov) || dbov > 0.0)
              throw py::value_error("quiet_dbov must be a finite level <= 0 dBov, got " +
                                    std::to_string(dbov));
            s.SetQuietRms(32768.0 * std::pow(10.0, dbov / 20.0));
          },
          "Blocks quieter than this (RMS, dBov) are stretched at any lag, periodic or not; "
          "-45 by default, never lower (a caller that knows the room's background sets it "
          "just above).")
      .def_property_readonly("min_input_samples", &TimeStretcher::min_input_samples,
                             "Shortest block accepted, samples per channel (30 ms).")
      .def_property_readonly("sample_rate_hz", &TimeStretcher::sample_rate_hz)
      .def_property_readonly("channels", &TimeStretcher::channels);
}

}  // namespace cloudlink::bindings
