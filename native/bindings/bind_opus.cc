// Python face of the Opus encoder and decoder.

#include <opus/opus.h>

#include <cstring>
#include <new>
#include <string>

#include "audio/opus_decoder.h"
#include "audio/opus_encoder.h"
#include "bindings/convert.h"

namespace cloudlink::bindings {
namespace {

using audio::OpusApplication;
using audio::OpusDecoder;
using audio::OpusEncoder;
using audio::OpusEncoderConfig;

// Largest packet libopus writes: 3 frames of 1275 bytes plus headers
// (RFC 6716 section 3.4, R5), rounded up.
constexpr size_t kMaxPacketBytes = 4000;

OpusApplication ParseApplication(const std::string& name) {
  if (name == "voip") return OpusApplication::kVoip;
  if (name == "audio") return OpusApplication::kAudio;
  if (name == "lowdelay") return OpusApplication::kLowDelay;
  throw py::value_error("application must be 'voip', 'audio' or 'lowdelay', got '" + name + "'");
}

void CheckCtl(int error, const char* what) {
  if (error != OPUS_OK) throw py::value_error(std::string(what) + ": " + opus_strerror(error));
}

// Rejects a strided view rather than copying it behind the caller's back.
void CheckContiguous(const py::array& pcm, const char* what) {
  if ((pcm.flags() & py::array::c_style) == 0)
    throw py::value_error(std::string(what) +
                          " must be C-contiguous (use numpy.ascontiguousarray on a strided view)");
}

py::bytes Encode(OpusEncoder& encoder, const py::array& pcm) {
  // Check dtype, shape and layout first: libopus reads exactly
  // frame_samples x channels samples from the array's memory, in place.
  const bool is_int16 = py::isinstance<py::array_t<int16_t>>(pcm);
  if (!is_int16 && !py::isinstance<py::array_t<float>>(pcm))
    throw py::type_error("pcm must be a numpy array of int16 or float32, got dtype " +
                         py::str(pcm.dtype()).cast<std::string>());
  CheckFrameShape(pcm, encoder.frame_samples(), encoder.config().channels, "pcm");
  CheckContiguous(pcm, "pcm");

  // Encode into a stack buffer; only the packet's own bytes are copied out.
  uint8_t packet[kMaxPacketBytes];
  int packet_bytes = 0;
  if (is_int16) {
    const auto* samples = static_cast<const int16_t*>(pcm.data());
    py::gil_scoped_release release;
    packet_bytes = encoder.EncodeInt16(samples, packet, sizeof(packet));
  } else {
    const auto* samples = static_cast<const float*>(pcm.data());
    py::gil_scoped_release release;
    packet_bytes = encoder.EncodeFloat(samples, packet, sizeof(packet));
  }
  if (packet_bytes < 0)
    RaiseError("CodecError", std::string("opus_encode failed: ") + opus_strerror(packet_bytes));
  return py::bytes(reinterpret_cast<const char*>(packet), packet_bytes);
}

// Applies one run-time change: the new value must pass the same validation
// as the constructor's, so a setter never accepts what __init__ would refuse.
template <typename Value>
void SetChecked(OpusEncoder& encoder, Value OpusEncoderConfig::*field, Value value,
                int (OpusEncoder::*setter)(Value), const char* name) {
  OpusEncoderConfig wanted = encoder.config();
  wanted.*field = value;
  CheckConfig(audio::ValidateOpusEncoderConfig(wanted));
  CheckCtl((encoder.*setter)(value), name);
}

bool WantsFloat(const py::object& dtype) {
  // numpy keeps one descriptor per builtin type, so the usual arguments (the
  // default, or a dtype object) are recognised by identity, cheaply.
  if (dtype.ptr() == py::dtype::of<int16_t>().ptr()) return false;
  if (dtype.ptr() == py::dtype::of<float>().ptr()) return true;
  py::dtype wanted = py::dtype::from_args(dtype);
  if (wanted.equal(py::dtype::of<float>())) return true;
  if (wanted.equal(py::dtype::of<int16_t>())) return false;
  throw py::type_error("dtype must be numpy.int16 or numpy.float32, got " +
                       py::str(dtype).cast<std::string>());
}

int PacketSamplesOrRaise(const OpusDecoder& decoder, const ByteView& packet) {
  if (packet.size() == 0) RaiseError("CodecError", "empty Opus packet");
  int samples = decoder.PacketSamples(packet.data(), packet.size());
  if (samples <= 0)
    RaiseError("CodecError",
               std::string("malformed Opus packet (") + std::to_string(packet.size()) +
                   " bytes): " + opus_strerror(samples < 0 ? samples : OPUS_INVALID_PACKET));
  return samples;
}

// A negative result is a libopus error; a short one would leave part of the
// array unwritten, so it is refused too.
void CheckDecoded(int result, int expected_samples, const char* call) {
  if (result == OPUS_INVALID_PACKET)
    RaiseError("CodecError",
               std::string("malformed Opus packet: ") + call + " failed: " + opus_strerror(result));
  if (result < 0) RaiseError("CodecError", std::string(call) + " failed: " + opus_strerror(result));
  if (result != expected_samples)
    RaiseError("CodecError", std::string(call) + " produced " + std::to_string(result) +
                                 " samples where the packet announced " +
                                 std::to_string(expected_samples));
}

// Samples per channel of a concealed or FEC frame: a positive multiple of
// 2.5 ms, at most 120 ms.
void CheckConcealSamples(const OpusDecoder& decoder, int samples) {
  const int step = decoder.sample_rate_hz() / 400;
  const int most = decoder.sample_rate_hz() * audio::kMaxOpusPacketMs / 1000;
  if (samples <= 0 || samples % step != 0 || samples > most)
    throw py::value_error("frame_samples must be a positive multiple of " + std::to_string(step) +
                          " up to " + std::to_string(most) + ", got " + std::to_string(samples));
}

// Runs one decoder call into a fresh array of the wanted dtype.
template <typename CallInt16, typename CallFloat>
py::array DecodeTo(const OpusDecoder& decoder, int samples, bool as_float, const char* call,
                   CallInt16 int16_call, CallFloat float_call) {
  int result = 0;
  if (as_float) {
    auto out = NewFrame<float>(samples, decoder.channels());
    float* data = out.mutable_data();
    {
      py::gil_scoped_release release;
      result = float_call(data, samples);
    }
    CheckDecoded(result, samples, call);
    return std::move(out);
  }
  auto out = NewFrame<int16_t>(samples, decoder.channels());
  int16_t* data = out.mutable_data();
  {
    py::gil_scoped_release release;
    result = int16_call(data, samples);
  }
  CheckDecoded(result, samples, call);
  return std::move(out);
}

// The caller's array to decode into: a writable, C-contiguous numpy array
// of int16 or float32 (the dtype argument, when given, must agree), shaped
// for `samples` per channel. Returns whether it is float32.
bool CheckOut(const py::handle& out, const py::object* dtype, int samples, int channels) {
  if (!py::isinstance<py::array>(out))
    throw py::type_error("out must be a numpy array, got " +
                         py::str(py::type::handle_of(out)).cast<std::string>());
  const auto array = py::reinterpret_borrow<py::array>(out);
  const bool is_float = py::isinstance<py::array_t<float>>(array);
  if (!is_float && !py::isinstance<py::array_t<int16_t>>(array))
    throw py::type_error("out must be a numpy array of int16 or float32, got dtype " +
                         py::str(array.dtype()).cast<std::string>());
  if (dtype != nullptr && WantsFloat(*dtype) != is_float)
    throw py::type_error("dtype " + py::str(*dtype).cast<std::string>() +
                         " disagrees with out, an array of " +
                         py::str(array.dtype()).cast<std::string>());
  CheckFrameShape(array, samples, channels, "out");
  CheckContiguous(array, "out");
  if (!array.writeable()) throw py::value_error("out must be writable");
  return is_float;
}

// decode(packet, /, *, dtype=numpy.int16, out=None). The per-packet call
// is a CPython vectorcall method rather than a pybind11 one: through
// pybind11's dispatcher and argument casters a decode into the caller's
// array ran 5.2% over raw libopus, through this 2.8-2.9%
// (bench/bench_codec.py; a new array per decode: 5.3% and 4.7-5.2%).
PyObject* Decode(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  try {
    // Step 1: one positional packet; dtype and out by keyword only.
    if (nargs != 1)
      throw py::type_error("decode() takes 1 positional argument (packet) but " +
                           std::to_string(nargs) + " were given");
    const py::object* dtype = nullptr;
    py::object dtype_value;
    py::handle out;
    const Py_ssize_t keywords = kwnames != nullptr ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t i = 0; i < keywords; ++i) {
      const char* name = PyUnicode_AsUTF8(PyTuple_GET_ITEM(kwnames, i));
      if (name == nullptr) throw py::error_already_set();
      const py::handle value = args[nargs + i];
      if (std::strcmp(name, "dtype") == 0) {
        dtype_value = py::reinterpret_borrow<py::object>(value);
        dtype = &dtype_value;
      } else if (std::strcmp(name, "out") == 0) {
        out = value;
      } else {
        throw py::type_error(std::string("decode() got an unexpected keyword argument '") + name +
                             "'");
      }
    }
    if (!PyObject_CheckBuffer(args[0]))
      throw py::type_error("packet must be bytes-like, got " +
                           py::str(py::type::handle_of(args[0])).cast<std::string>());

    // Step 2: decode, into the caller's array when there is one.
    auto& decoder = py::cast<OpusDecoder&>(py::handle(self));
    const ByteView packet(py::reinterpret_borrow<py::buffer>(args[0]), "packet");
    const int samples = PacketSamplesOrRaise(decoder, packet);
    if (!out || out.is_none()) {
      const bool as_float = dtype != nullptr && WantsFloat(*dtype);
      return DecodeTo(
                 decoder, samples, as_float, "opus_decode",
                 [&](int16_t* pcm, int n) {
                   return decoder.DecodeInt16(packet.data(), packet.size(), pcm, n);
                 },
                 [&](float* pcm, int n) {
                   return decoder.DecodeFloat(packet.data(), packet.size(), pcm, n);
                 })
          .release()
          .ptr();
    }
    const bool is_float = CheckOut(out, dtype, samples, decoder.channels());
    void* pcm = py::reinterpret_borrow<py::array>(out).mutable_data();
    int result = 0;
    {
      py::gil_scoped_release release;
      result = is_float ? decoder.DecodeFloat(packet.data(), packet.size(),
                                              static_cast<float*>(pcm), samples)
                        : decoder.DecodeInt16(packet.data(), packet.size(),
                                              static_cast<int16_t*>(pcm), samples);
    }
    CheckDecoded(result, samples, "opus_decode");
    return out.inc_ref().ptr();
  } catch (py::error_already_set& error) {
    error.restore();
  } catch (py::builtin_exception& error) {
    error.set_error();
  } catch (const std::bad_alloc&) {
    PyErr_NoMemory();
  } catch (const std::exception& error) {
    PyErr_SetString(PyExc_RuntimeError, error.what());
  }
  return nullptr;
}

// (a static: CPython keeps a pointer to it in the method descriptor)
PyMethodDef decode_method = {
    "decode", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(&Decode)),
    METH_FASTCALL | METH_KEYWORDS,
    "decode($self, packet, /, *, dtype='int16', out=None)\n--\n\n"
    "Decodes one packet into a new array (int16, or float32 with dtype=numpy.float32), or "
    "into out, a writable C-contiguous int16 or float32 array of the packet's samples, which "
    "is returned. Raises CodecError on a malformed packet."};

}  // namespace

void init_opus(py::module_& m) {
  py::class_<OpusEncoder>(m, "OpusEncoder", "Opus encoder (RFC 6716) over the system libopus.")
      .def(py::init([](int sample_rate_hz, int channels, const std::string& application,
                       double frame_ms, int bitrate_bps, int complexity, bool fec,
                       int expected_loss_pct, bool dtx) {
             OpusEncoderConfig config;
             config.sample_rate_hz = sample_rate_hz;
             config.channels = channels;
             config.application = ParseApplication(application);
             config.frame_ms = frame_ms;
             config.bitrate_bps = bitrate_bps;
             config.complexity = complexity;
             config.inband_fec = fec;
             config.expected_loss_pct = expected_loss_pct;
             config.dtx = dtx;
             CheckConfig(audio::ValidateOpusEncoderConfig(config));
             auto encoder = std::make_unique<OpusEncoder>(config);
             if (!encoder->ok()) throw std::bad_alloc();
             return encoder;
           }),
           py::kw_only(), py::arg("sample_rate_hz") = 48000, py::arg("channels") = 1,
           py::arg("application") = "voip", py::arg("frame_ms") = 20.0,
           py::arg("bitrate_bps") = 32000, py::arg("complexity") = 9, py::arg("fec") = true,
           py::arg("expected_loss_pct") = 10, py::arg("dtx") = false)
      .def("encode", &Encode, py::arg("pcm"),
           "Encodes one frame (int16 or float32, frame_samples per channel) to a packet.")
      .def_property_readonly("sample_rate_hz",
                             [](const OpusEncoder& e) { return e.config().sample_rate_hz; })
      .def_property_readonly("channels", [](const OpusEncoder& e) { return e.config().channels; })
      .def_property_readonly("frame_ms", [](const OpusEncoder& e) { return e.config().frame_ms; })
      .def_property_readonly("frame_samples", &OpusEncoder::frame_samples)
      .def_property_readonly("lookahead_samples", &OpusEncoder::lookahead_samples)
      .def_property_readonly("in_dtx", &OpusEncoder::in_dtx)
      .def_property(
          "bitrate_bps", [](const OpusEncoder& e) { return e.config().bitrate_bps; },
          [](OpusEncoder& e, int value) {
            SetChecked(e, &OpusEncoderConfig::bitrate_bps, value, &OpusEncoder::SetBitrate,
                       "bitrate_bps");
          })
      .def_property(
          "complexity", [](const OpusEncoder& e) { return e.config().complexity; },
          [](OpusEncoder& e, int value) {
            SetChecked(e, &OpusEncoderConfig::complexity, value, &OpusEncoder::SetComplexity,
                       "complexity");
          })
      .def_property(
          "fec", [](const OpusEncoder& e) { return e.config().inband_fec; },
          [](OpusEncoder& e, bool value) { CheckCtl(e.SetInbandFec(value), "fec"); })
      .def_property(
          "expected_loss_pct", [](const OpusEncoder& e) { return e.config().expected_loss_pct; },
          [](OpusEncoder& e, int value) {
            SetChecked(e, &OpusEncoderConfig::expected_loss_pct, value,
                       &OpusEncoder::SetExpectedLossPct, "expected_loss_pct");
          })
      .def_property(
          "dtx", [](const OpusEncoder& e) { return e.config().dtx; },
          [](OpusEncoder& e, bool value) { CheckCtl(e.SetDtx(value), "dtx"); });

  py::class_<OpusDecoder>(m, "OpusDecoder", "Opus decoder (RFC 6716) over the system libopus.")
      .def(py::init([](int sample_rate_hz, int channels) {
             CheckConfig(OpusDecoder::ValidateConfig(sample_rate_hz, channels));
             auto decoder = std::make_unique<OpusDecoder>(sample_rate_hz, channels);
             if (!decoder->ok()) throw std::bad_alloc();
             return decoder;
           }),
           py::kw_only(), py::arg("sample_rate_hz") = 48000, py::arg("channels") = 1)
      .def(
          "decode_fec",
          [](OpusDecoder& d, const py::buffer& packet_obj, int frame_samples,
             const py::object& dtype) {
            ByteView packet(packet_obj, "next_packet");
            const bool as_float = WantsFloat(dtype);
            CheckConcealSamples(d, frame_samples);
            PacketSamplesOrRaise(d, packet);
            return DecodeTo(
                d, frame_samples, as_float, "opus_decode(fec)",
                [&](int16_t* out, int n) {
                  return d.DecodeFecInt16(packet.data(), packet.size(), out, n);
                },
                [&](float* out, int n) {
                  return d.DecodeFecFloat(packet.data(), packet.size(), out, n);
                });
          },
          py::arg("next_packet"), py::arg("frame_samples"), py::kw_only(),
          py::arg("dtype") = py::dtype::of<int16_t>(),
          "Recovers the lost frame before next_packet from its in-band FEC.")
      .def(
          "conceal",
          [](OpusDecoder& d, int frame_samples, const py::object& dtype) {
            const bool as_float = WantsFloat(dtype);
            CheckConcealSamples(d, frame_samples);
            return DecodeTo(
                d, frame_samples, as_float, "opus_decode(plc)",
                [&](int16_t* out, int n) { return d.ConcealInt16(out, n); },
                [&](float* out, int n) { return d.ConcealFloat(out, n); });
          },
          py::arg("frame_samples"), py::kw_only(), py::arg("dtype") = py::dtype::of<int16_t>(),
          "libopus packet-loss concealment for one missing frame.")
      .def(
          "packet_samples",
          [](const OpusDecoder& d, const py::buffer& packet_obj) {
            ByteView packet(packet_obj, "packet");
            return PacketSamplesOrRaise(d, packet);
          },
          py::arg("packet"), "Samples per channel the packet decodes to.")
      .def("reset", &OpusDecoder::Reset, "Forgets all decoder history.")
      .def_property_readonly("sample_rate_hz", &OpusDecoder::sample_rate_hz)
      .def_property_readonly("channels", &OpusDecoder::channels);

  // decode, the per-packet call, is added as a CPython method (see Decode).
  py::object decoder_class = m.attr("OpusDecoder");
  py::object descriptor = py::reinterpret_steal<py::object>(
      PyDescr_NewMethod(reinterpret_cast<PyTypeObject*>(decoder_class.ptr()), &decode_method));
  if (!descriptor) throw py::error_already_set();
  decoder_class.attr("decode") = descriptor;

  m.attr("OPUS_VERSION") = opus_get_version_string();
}

}  // namespace cloudlink::bindings
