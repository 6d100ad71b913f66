// Python face of the resampler: a streaming Resampler and a one-shot
// resample() with the filter delay removed.

#include <cstdint>
#include <string>

#include "audio/resampler.h"
#include "bindings/convert.h"

namespace cloudlink::bindings {
namespace {

using audio::Resampler;

// A Resampler plus the dtype of the stream it is fed, so flush() answers in
// the same dtype as process().
struct StreamingResampler {
  StreamingResampler(int input_rate_hz, int output_rate_hz, int channels)
      : resampler(input_rate_hz, output_rate_hz, channels) {}
  Resampler resampler;
  bool float_stream = false;
};

// dtype, layout and channel count of a block of audio, checked once.
struct PcmBlock {
  bool is_float = false;
  int channels = 1;
  size_t samples = 0;  // per channel
  bool two_d = false;  // shape (samples, channels) rather than flat
};

// Checks dtype and layout. `channels` is the resampler's channel count, or 0
// to take it from the array's shape (one-shot use).
PcmBlock InspectPcm(const py::array& pcm, int channels) {
  PcmBlock block;
  block.is_float = py::isinstance<py::array_t<float>>(pcm);
  if (!block.is_float && !py::isinstance<py::array_t<int16_t>>(pcm))
    throw py::type_error("pcm must be a numpy array of int16 or float32, got dtype " +
                         py::str(pcm.dtype()).cast<std::string>());
  if ((pcm.flags() & py::array::c_style) == 0)
    throw py::value_error(
        "pcm must be C-contiguous (use numpy.ascontiguousarray on a strided view)");

  // Mono is (n,) or (n, 1); stereo is (n, 2) or flat interleaved (2n,).
  const std::string expected = channels == 0 ? std::string("1 or 2") : std::to_string(channels);
  if (pcm.ndim() == 2) {
    const int columns = static_cast<int>(pcm.shape(1));
    if ((channels != 0 && columns != channels) || (channels == 0 && columns != 1 && columns != 2))
      throw py::value_error("pcm must have " + expected + " channels, got shape (" +
                            std::to_string(pcm.shape(0)) + ", " + std::to_string(columns) + ")");
    block.channels = columns;
    block.samples = static_cast<size_t>(pcm.shape(0));
    block.two_d = true;
  } else if (pcm.ndim() == 1) {
    block.channels = channels == 0 ? 1 : channels;
    if (pcm.shape(0) % block.channels != 0)
      throw py::value_error("flat interleaved pcm must hold a whole number of " +
                            std::to_string(block.channels) + "-channel samples, got " +
                            std::to_string(pcm.shape(0)) + " values");
    block.samples = static_cast<size_t>(pcm.shape(0)) / block.channels;
  } else {
    throw py::value_error("pcm must be 1-D or 2-D (samples, channels), got " +
                          std::to_string(pcm.ndim()) + " dimensions");
  }
  return block;
}

// A new array for `samples` per channel: 1-D for mono unless the input was
// (n, 1), and (samples, 2) for stereo.
template <typename Sample>
py::array_t<Sample> NewBlock(size_t samples, int channels, bool two_d) {
  const auto rows = static_cast<py::ssize_t>(samples);
  if (channels == 1 && !two_d) return py::array_t<Sample>(rows);
  return py::array_t<Sample>({rows, static_cast<py::ssize_t>(channels)});
}

template <typename Sample>
py::array ProcessAs(Resampler& resampler, const py::array& pcm, const PcmBlock& block) {
  auto out = NewBlock<Sample>(resampler.OutputSamplesFor(block.samples), resampler.channels(),
                              block.two_d || resampler.channels() > 1);
  const auto* input = static_cast<const Sample*>(pcm.data());
  Sample* output = out.mutable_data();
  {
    py::gil_scoped_release release;
    resampler.Process(input, block.samples, output);
  }
  return std::move(out);
}

py::array Process(StreamingResampler& stream, const py::array& pcm) {
  const PcmBlock block = InspectPcm(pcm, stream.resampler.channels());
  stream.float_stream = block.is_float;
  if (block.is_float) return ProcessAs<float>(stream.resampler, pcm, block);
  return ProcessAs<int16_t>(stream.resampler, pcm, block);
}

template <typename Sample>
py::array FlushAs(Resampler& resampler) {
  auto out = NewBlock<Sample>(resampler.flush_samples(), resampler.channels(), false);
  Sample* output = out.mutable_data();
  {
    py::gil_scoped_release release;
    resampler.Flush(output);
  }
  return std::move(out);
}

// round(samples * output / input), halves to even as Python's round() does.
size_t RoundedLength(size_t samples, int input_rate_hz, int output_rate_hz) {
  const uint64_t scaled = static_cast<uint64_t>(samples) * output_rate_hz;
  const uint64_t quotient = scaled / input_rate_hz;
  const uint64_t twice_remainder = 2 * (scaled % input_rate_hz);
  const bool up = twice_remainder > static_cast<uint64_t>(input_rate_hz) ||
                  (twice_remainder == static_cast<uint64_t>(input_rate_hz) && quotient % 2 == 1);
  return static_cast<size_t>(quotient + (up ? 1 : 0));
}

// One shot: stream the whole input and the flush into one array, then
// return the view that starts after the filter delay.
template <typename Sample>
py::array ResampleAs(const py::array& pcm, const PcmBlock& block, int input_rate_hz,
                     int output_rate_hz) {
  Resampler resampler(input_rate_hz, output_rate_hz, block.channels);
  const size_t streamed = resampler.OutputSamplesFor(block.samples);
  const size_t delay = resampler.flush_samples();
  auto whole = NewBlock<Sample>(streamed + delay, block.channels, block.two_d);
  const auto* input = static_cast<const Sample*>(pcm.data());
  Sample* output = whole.mutable_data();
  {
    py::gil_scoped_release release;
    resampler.Process(input, block.samples, output);
    resampler.Flush(output + streamed * block.channels);
  }
  const size_t length = RoundedLength(block.samples, input_rate_hz, output_rate_hz);
  py::slice wanted(static_cast<py::ssize_t>(delay), static_cast<py::ssize_t>(delay + length), 1);
  return whole[wanted];
}

}  // namespace

void init_resampler(py::module_& m) {
  py::class_<StreamingResampler>(m, "Resampler",
                                 "Streaming polyphase windowed-sinc resampler between 8, 16, 24, "
                                 "32, 44.1 and 48 kHz, mono or stereo, int16 or float32.")
      .def(py::init([](int input_rate_hz, int output_rate_hz, int channels) {
             CheckConfig(Resampler::ValidateConfig(input_rate_hz, output_rate_hz, channels));
             return std::make_unique<StreamingResampler>(input_rate_hz, output_rate_hz, channels);
           }),
           py::kw_only(), py::arg("input_rate_hz"), py::arg("output_rate_hz"),
           py::arg("channels") = 1)
      .def("process", &Process, py::arg("pcm"),
           "Converts the next block (any length, int16 or float32); returns what is ready, same "
           "dtype. Output lags input by delay_samples.")
      .def(
          "flush",
          [](StreamingResampler& s) {
            if (s.float_stream) return FlushAs<float>(s.resampler);
            return FlushAs<int16_t>(s.resampler);
          },
          "Returns the last delay_samples samples held in the filter, in the dtype of the last "
          "block, and starts a new stream.")
      .def(
          "reset", [](StreamingResampler& s) { s.resampler.Reset(); },
          "Forgets the stream, as if newly made.")
      .def_property_readonly(
          "delay_samples", [](const StreamingResampler& s) { return s.resampler.delay_samples(); },
          "Group delay in output samples.")
      .def_property_readonly(
          "input_rate_hz", [](const StreamingResampler& s) { return s.resampler.input_rate_hz(); })
      .def_property_readonly(
          "output_rate_hz",
          [](const StreamingResampler& s) { return s.resampler.output_rate_hz(); })
      .def_property_readonly("channels",
                             [](const StreamingResampler& s) { return s.resampler.channels(); });

  m.def(
      "resample",
      [](const py::array& pcm, int input_rate_hz, int output_rate_hz) {
        const PcmBlock block = InspectPcm(pcm, 0);
        CheckConfig(Resampler::ValidateConfig(input_rate_hz, output_rate_hz, block.channels));
        if (block.is_float) return ResampleAs<float>(pcm, block, input_rate_hz, output_rate_hz);
        return ResampleAs<int16_t>(pcm, block, input_rate_hz, output_rate_hz);
      },
      py::arg("pcm"), py::kw_only(), py::arg("input_rate_hz"), py::arg("output_rate_hz"),
      "Resamples a whole signal: delay compensated, round(n * output / input) samples per "
      "channel, same dtype and layout.");
}

}  // namespace cloudlink::bindings
