// Python face of the VP8 encoder and decoder (libvpx) and of the RFC 7741
// payload packetizer and depacketizer. Frames are I420 in one uint8 numpy
// array of shape (height * 3 / 2, width): the Y plane, then U, then V, each
// plane's rows packed (PyAV's to_ndarray(format="yuv420p") layout).

#include <pybind11/stl.h>
#include <vpx/vpx_codec.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include "bindings/convert.h"
#include "video/vp8_decoder.h"
#include "video/vp8_depacketizer.h"
#include "video/vp8_encoder.h"
#include "video/vp8_packetizer.h"
#include "video/vp8_payload_descriptor.h"

namespace cloudlink::bindings {
namespace {

using video::I420View;
using video::Vp8Decoder;
using video::Vp8DecodeStatus;
using video::Vp8EncodedFrame;
using video::Vp8Encoder;
using video::Vp8EncoderConfig;
using video::Vp8Packetizer;
using video::Vp8PacketizerConfig;
using video::Vp8Payload;
using video::Vp8PayloadDescriptor;

std::string ShapeText(const py::array& array) {
  std::string shape = "(";
  for (py::ssize_t i = 0; i < array.ndim(); ++i)
    shape += (i ? ", " : "") + std::to_string(array.shape(i));
  return shape + (array.ndim() == 1 ? ",)" : ")");
}

// Checks an I420 frame array against the encoder's size and returns views
// of its three planes.
I420View ViewI420(const py::array& frame, int width_px, int height_px) {
  if (!py::isinstance<py::array_t<uint8_t>>(frame))
    throw py::type_error("frame must be a numpy array of uint8, got dtype " +
                         py::str(frame.dtype()).cast<std::string>());
  if (frame.ndim() != 2 || frame.shape(0) != height_px * 3 / 2 || frame.shape(1) != width_px)
    throw py::value_error("frame must be I420 of shape (height * 3 / 2, width) = (" +
                          std::to_string(height_px * 3 / 2) + ", " + std::to_string(width_px) +
                          ") for " + std::to_string(width_px) + "x" + std::to_string(height_px) +
                          ", got shape " + ShapeText(frame) +
                          " (call set_resolution() for a new size)");
  if ((frame.flags() & py::array::c_style) == 0)
    throw py::value_error(
        "frame must be C-contiguous (use numpy.ascontiguousarray on a strided view)");
  const auto* base = static_cast<const uint8_t*>(frame.data());
  const size_t luma_bytes = static_cast<size_t>(width_px) * height_px;
  I420View view;
  view.y = base;
  view.u = base + luma_bytes;
  view.v = base + luma_bytes + luma_bytes / 4;
  view.y_stride_bytes = width_px;
  view.uv_stride_bytes = width_px / 2;
  return view;
}

// Copies a plane of `rows` x `row_bytes` from a strided image into rows of
// `out_row_bytes` (at least row_bytes): the last byte of each row repeats
// into the padding, and the last row repeats to fill `out_rows`.
void CopyPlane(const uint8_t* source, int stride_bytes, int rows, int row_bytes, int out_rows,
               int out_row_bytes, uint8_t* out) {
  for (int row = 0; row < out_rows; ++row) {
    const uint8_t* from = source + static_cast<ptrdiff_t>(std::min(row, rows - 1)) * stride_bytes;
    uint8_t* to = out + static_cast<size_t>(row) * out_row_bytes;
    std::memcpy(to, from, static_cast<size_t>(row_bytes));
    std::memset(to + row_bytes, from[row_bytes - 1],
                static_cast<size_t>(out_row_bytes - row_bytes));
  }
}

// A decoded libvpx image as a new (h * 3 / 2, w) array. VP8 allows odd
// sizes, whose chroma planes are rounded up (RFC 6386 section 2): such a
// picture is padded to the next even size by repeating its last luma row
// and column, so that it fits the array layout.
py::array ImageToArray(const vpx_image_t* image) {
  const int width_px = static_cast<int>(image->d_w);
  const int height_px = static_cast<int>(image->d_h);
  const int out_width_px = (width_px + 1) / 2 * 2;
  const int out_height_px = (height_px + 1) / 2 * 2;
  py::array_t<uint8_t> out({out_height_px * 3 / 2, out_width_px});
  uint8_t* data = out.mutable_data();
  {
    py::gil_scoped_release release;
    const size_t luma_bytes = static_cast<size_t>(out_width_px) * out_height_px;
    const int chroma_rows = out_height_px / 2;
    const int chroma_row_bytes = out_width_px / 2;
    CopyPlane(image->planes[VPX_PLANE_Y], image->stride[VPX_PLANE_Y], height_px, width_px,
              out_height_px, out_width_px, data);
    CopyPlane(image->planes[VPX_PLANE_U], image->stride[VPX_PLANE_U], chroma_rows, chroma_row_bytes,
              chroma_rows, chroma_row_bytes, data + luma_bytes);
    CopyPlane(image->planes[VPX_PLANE_V], image->stride[VPX_PLANE_V], chroma_rows, chroma_row_bytes,
              chroma_rows, chroma_row_bytes, data + luma_bytes + luma_bytes / 4);
  }
  return std::move(out);
}

// What encode() returns: the bytes and the facts the packetizer needs.
struct PyEncodedFrame {
  py::bytes data;
  bool keyframe;
  int temporal_layer_id;
  bool layer_sync;
  int64_t timestamp_ticks;
};

PyEncodedFrame Encode(Vp8Encoder& encoder, const py::array& frame, bool keyframe) {
  const I420View view = ViewI420(frame, encoder.config().width_px, encoder.config().height_px);
  Vp8EncodedFrame encoded;
  video::Vp8EncodeStatus status;
  {
    py::gil_scoped_release release;
    status = encoder.Encode(view, keyframe, &encoded);
  }
  if (status != video::Vp8EncodeStatus::kOk) RaiseError("CodecError", encoder.last_error());
  return PyEncodedFrame{
      py::bytes(reinterpret_cast<const char*>(encoded.data.data()), encoded.data.size()),
      encoded.keyframe, encoded.temporal_layer_id, encoded.layer_sync, encoded.timestamp_ticks};
}

std::optional<py::array> Decode(Vp8Decoder& decoder, const py::buffer& frame_obj) {
  ByteView frame(frame_obj, "frame");
  const vpx_image_t* image = nullptr;
  Vp8DecodeStatus status;
  {
    py::gil_scoped_release release;
    status = decoder.Decode(frame.data(), frame.size(), &image);
  }
  if (status == Vp8DecodeStatus::kNoPicture) return std::nullopt;
  if (status != Vp8DecodeStatus::kOk) RaiseError("CodecError", decoder.last_error());
  return ImageToArray(image);
}

// A parsed payload that owns a copy of its frame bytes.
struct PyPayload {
  Vp8Payload parsed;
  py::bytes data;
};

PyPayload ParsePayloadOrRaise(const ByteView& payload) {
  PyPayload out;
  const std::string error = video::ParseVp8Payload(payload.data(), payload.size(), &out.parsed);
  if (!error.empty()) RaiseError("CodecError", error);
  out.data = py::bytes(reinterpret_cast<const char*>(out.parsed.data), out.parsed.data_bytes);
  out.parsed.data = nullptr;
  return out;
}

std::optional<int> Present(int value) {
  return value < 0 ? std::nullopt : std::optional<int>(value);
}

// Checks a header field the caller passes (RTP ranges are the caller's).
int CheckRange(std::optional<int> value, int low, int high, const char* name) {
  if (!value) return -1;
  if (*value < low || *value > high)
    throw py::value_error(std::string(name) + " must be within " + std::to_string(low) + ".." +
                          std::to_string(high) + ", got " + std::to_string(*value));
  return *value;
}

}  // namespace

void init_vp8(py::module_& m) {
  // --- encoder ---------------------------------------------------------------
  py::class_<PyEncodedFrame>(m, "Vp8EncodedFrame", "One VP8 frame out of Vp8Encoder.encode().")
      .def_readonly("data", &PyEncodedFrame::data, "The encoded frame (RFC 6386).")
      .def_readonly("keyframe", &PyEncodedFrame::keyframe)
      .def_readonly("temporal_layer_id", &PyEncodedFrame::temporal_layer_id,
                    "0 (base) .. temporal_layers - 1.")
      .def_readonly("layer_sync", &PyEncodedFrame::layer_sync,
                    "True when the frame predicts from base-layer frames only (RFC 7741 Y bit).")
      .def_readonly("timestamp_ticks", &PyEncodedFrame::timestamp_ticks,
                    "Capture time in 90 kHz ticks since the encoder's first frame.")
      .def("__repr__", [](const PyEncodedFrame& f) {
        return "Vp8EncodedFrame(" + std::to_string(py::len(f.data)) +
               " bytes, keyframe=" + (f.keyframe ? "True" : "False") +
               ", temporal_layer_id=" + std::to_string(f.temporal_layer_id) + ")";
      });

  py::class_<Vp8Encoder>(m, "Vp8Encoder",
                         "Real-time CBR VP8 encoder over libvpx; frames are I420 uint8 arrays of "
                         "shape (height * 3 / 2, width).")
      .def(py::init([](int width_px, int height_px, double frame_rate_fps, int bitrate_bps,
                       int temporal_layers, int cpu_used, int threads, bool error_resilient,
                       int keyframe_interval_frames, int noise_sensitivity, int min_quantizer,
                       int max_quantizer) {
             Vp8EncoderConfig config;
             config.width_px = width_px;
             config.height_px = height_px;
             config.frame_rate_fps = frame_rate_fps;
             config.bitrate_bps = bitrate_bps;
             config.temporal_layers = temporal_layers;
             config.cpu_used = cpu_used;
             config.threads = threads;
             config.error_resilient = error_resilient;
             config.keyframe_interval_frames = keyframe_interval_frames;
             config.noise_sensitivity = noise_sensitivity;
             config.min_quantizer = min_quantizer;
             config.max_quantizer = max_quantizer;
             CheckConfig(video::ValidateVp8EncoderConfig(config));
             auto encoder = std::make_unique<Vp8Encoder>(config);
             if (!encoder->ok()) RaiseError("CodecError", encoder->last_error());
             return encoder;
           }),
           py::kw_only(), py::arg("width_px"), py::arg("height_px"),
           py::arg("frame_rate_fps") = 30.0, py::arg("bitrate_bps") = 1000000,
           py::arg("temporal_layers") = 1, py::arg("cpu_used") = -6, py::arg("threads") = 1,
           py::arg("error_resilient") = true, py::arg("keyframe_interval_frames") = 0,
           py::arg("noise_sensitivity") = 0, py::arg("min_quantizer") = 2,
           py::arg("max_quantizer") = 56)
      .def("encode", &Encode, py::arg("frame"), py::kw_only(), py::arg("keyframe") = false,
           "Encodes one I420 frame; keyframe=True forces a keyframe.")
      .def(
          "set_resolution",
          [](Vp8Encoder& e, int width_px, int height_px) {
            Vp8EncoderConfig wanted = e.config();
            wanted.width_px = width_px;
            wanted.height_px = height_px;
            CheckConfig(video::ValidateVp8EncoderConfig(wanted));
            const std::string error = e.SetResolution(width_px, height_px);
            if (!error.empty()) RaiseError("CodecError", error);
          },
          py::kw_only(), py::arg("width_px"), py::arg("height_px"),
          "Changes the frame size; the next frame is a keyframe.")
      .def_property(
          "bitrate_bps", [](const Vp8Encoder& e) { return e.config().bitrate_bps; },
          [](Vp8Encoder& e, int value) {
            Vp8EncoderConfig wanted = e.config();
            wanted.bitrate_bps = value;
            CheckConfig(video::ValidateVp8EncoderConfig(wanted));
            const std::string error = e.SetBitrate(value);
            if (!error.empty()) RaiseError("CodecError", error);
          },
          "CBR target; a change applies to the running encoder, without a keyframe.")
      .def_property(
          "frame_rate_fps", [](const Vp8Encoder& e) { return e.config().frame_rate_fps; },
          [](Vp8Encoder& e, double value) { CheckConfig(e.SetFrameRate(value)); })
      .def_property_readonly("width_px", [](const Vp8Encoder& e) { return e.config().width_px; })
      .def_property_readonly("height_px", [](const Vp8Encoder& e) { return e.config().height_px; })
      .def_property_readonly("temporal_layers",
                             [](const Vp8Encoder& e) { return e.config().temporal_layers; })
      .def_property_readonly("cpu_used", [](const Vp8Encoder& e) { return e.config().cpu_used; })
      .def_property_readonly("threads", [](const Vp8Encoder& e) { return e.config().threads; })
      .def_property_readonly("error_resilient",
                             [](const Vp8Encoder& e) { return e.config().error_resilient; })
      .def_property_readonly("frame_count", &Vp8Encoder::frame_count);

  // --- decoder ---------------------------------------------------------------
  py::class_<Vp8Decoder>(m, "Vp8Decoder",
                         "VP8 decoder over libvpx; raises CodecError on bad frames and refuses "
                         "inter frames until the next keyframe after one.")
      .def(py::init([](int threads) {
             CheckConfig(Vp8Decoder::ValidateConfig(threads));
             auto decoder = std::make_unique<Vp8Decoder>(threads);
             if (!decoder->ok()) RaiseError("CodecError", decoder->last_error());
             return decoder;
           }),
           py::kw_only(), py::arg("threads") = 1)
      .def("decode", &Decode, py::arg("frame"),
           "Decodes one whole frame to an I420 array, or None for a frame not for display.")
      .def("reset", &Vp8Decoder::Reset, "Forgets the stream; the next frame must be a keyframe.")
      .def_property_readonly("awaiting_keyframe", &Vp8Decoder::awaiting_keyframe)
      .def_property_readonly("width_px", &Vp8Decoder::width_px,
                             "Coded width of the last picture (0 before the first).")
      .def_property_readonly("height_px", &Vp8Decoder::height_px,
                             "Coded height of the last picture (0 before the first).")
      .def_property_readonly("frames_decoded", &Vp8Decoder::frames_decoded)
      .def_property_readonly("keyframes_decoded", &Vp8Decoder::keyframes_decoded)
      .def_property_readonly("frames_rejected", &Vp8Decoder::frames_rejected);

  // --- RTP payload (RFC 7741) ------------------------------------------------
  py::class_<Vp8Packetizer>(m, "Vp8Packetizer",
                            "Splits VP8 frames into RTP payloads (RFC 7741); the caller sets the "
                            "marker bit on each frame's last payload.")
      .def(py::init([](size_t max_payload_bytes, int picture_id_bits, int first_picture_id,
                       bool key_idx) {
             Vp8PacketizerConfig config;
             config.max_payload_bytes = max_payload_bytes;
             config.picture_id_bits = picture_id_bits;
             config.first_picture_id = first_picture_id;
             config.key_idx = key_idx;
             CheckConfig(video::ValidateVp8PacketizerConfig(config));
             return std::make_unique<Vp8Packetizer>(config);
           }),
           py::kw_only(), py::arg("max_payload_bytes") = 1200, py::arg("picture_id_bits") = 15,
           py::arg("first_picture_id") = 0, py::arg("key_idx") = false)
      .def(
          "packetize",
          [](Vp8Packetizer& p, const py::buffer& frame_obj, std::optional<int> temporal_layer_id,
             bool layer_sync, bool non_reference) {
            ByteView frame(frame_obj, "frame");
            video::Vp8FrameInfo info;
            info.temporal_layer_id = CheckRange(temporal_layer_id, 0, 3, "temporal_layer_id");
            info.layer_sync = layer_sync;
            info.non_reference = non_reference;
            std::vector<std::vector<uint8_t>> payloads;
            std::string error;
            {
              py::gil_scoped_release release;
              error = p.Packetize(frame.data(), frame.size(), info, &payloads);
            }
            if (!error.empty()) RaiseError("CodecError", error);
            py::list out(payloads.size());
            for (size_t i = 0; i < payloads.size(); ++i)
              out[i] =
                  py::bytes(reinterpret_cast<const char*>(payloads[i].data()), payloads[i].size());
            return out;
          },
          py::arg("frame"), py::kw_only(), py::arg("temporal_layer_id") = py::none(),
          py::arg("layer_sync") = false, py::arg("non_reference") = false,
          "The frame's payloads in sending order; CodecError on a malformed frame.")
      .def_property_readonly("max_payload_bytes",
                             [](const Vp8Packetizer& p) { return p.config().max_payload_bytes; })
      .def_property_readonly("picture_id_bits",
                             [](const Vp8Packetizer& p) { return p.config().picture_id_bits; })
      .def_property_readonly("next_picture_id", &Vp8Packetizer::next_picture_id)
      .def_property_readonly("last_tl0_pic_idx", &Vp8Packetizer::tl0_pic_idx)
      .def_property_readonly("last_key_idx", &Vp8Packetizer::key_idx);

  py::class_<PyPayload>(m, "Vp8Payload", "One parsed VP8 RTP payload (RFC 7741 section 4).")
      .def_readonly("data", &PyPayload::data, "The VP8 bytes after the descriptor.")
      .def_property_readonly("non_reference",
                             [](const PyPayload& p) { return p.parsed.descriptor.non_reference; })
      .def_property_readonly(
          "start_of_partition",
          [](const PyPayload& p) { return p.parsed.descriptor.start_of_partition; })
      .def_property_readonly("partition_id",
                             [](const PyPayload& p) { return p.parsed.descriptor.partition_id; })
      .def_property_readonly(
          "picture_id", [](const PyPayload& p) { return Present(p.parsed.descriptor.picture_id); })
      .def_property_readonly("picture_id_bits",
                             [](const PyPayload& p) -> std::optional<int> {
                               if (p.parsed.descriptor.picture_id < 0) return std::nullopt;
                               return p.parsed.descriptor.picture_id_bits;
                             })
      .def_property_readonly(
          "tl0_pic_idx",
          [](const PyPayload& p) { return Present(p.parsed.descriptor.tl0_pic_idx); })
      .def_property_readonly(
          "temporal_layer_id",
          [](const PyPayload& p) { return Present(p.parsed.descriptor.temporal_layer_id); })
      .def_property_readonly("layer_sync",
                             [](const PyPayload& p) { return p.parsed.descriptor.layer_sync; })
      .def_property_readonly(
          "key_idx", [](const PyPayload& p) { return Present(p.parsed.descriptor.key_idx); })
      .def_property_readonly("descriptor_bytes",
                             [](const PyPayload& p) { return p.parsed.descriptor_bytes; })
      .def_property_readonly("frame_start", [](const PyPayload& p) { return p.parsed.frame_start; })
      .def_property_readonly("keyframe",
                             [](const PyPayload& p) -> std::optional<bool> {
                               if (!p.parsed.frame_start) return std::nullopt;
                               return p.parsed.header.keyframe;
                             })
      .def_property_readonly("width_px",
                             [](const PyPayload& p) -> std::optional<int> {
                               if (!p.parsed.frame_start || !p.parsed.header.keyframe)
                                 return std::nullopt;
                               return p.parsed.header.width_px;
                             })
      .def_property_readonly("height_px",
                             [](const PyPayload& p) -> std::optional<int> {
                               if (!p.parsed.frame_start || !p.parsed.header.keyframe)
                                 return std::nullopt;
                               return p.parsed.header.height_px;
                             })
      .def_property_readonly("first_partition_bytes",
                             [](const PyPayload& p) -> std::optional<int> {
                               if (!p.parsed.frame_start) return std::nullopt;
                               return static_cast<int>(p.parsed.header.first_partition_bytes);
                             })
      .def_property_readonly("show_frame", [](const PyPayload& p) -> std::optional<bool> {
        if (!p.parsed.frame_start) return std::nullopt;
        return p.parsed.header.show_frame;
      });

  m.def(
      "vp8_depacketize",
      [](const py::buffer& payload_obj) {
        ByteView payload(payload_obj, "payload");
        return ParsePayloadOrRaise(payload);
      },
      py::arg("payload"), "Parses one VP8 RTP payload; CodecError names what is malformed.");

  m.def(
      "vp8_assemble",
      [](const std::vector<py::buffer>& payload_objs) {
        // Parse each (views stay alive in `views` while the frame is built).
        std::vector<ByteView> views;
        views.reserve(payload_objs.size());
        std::vector<Vp8Payload> parsed(payload_objs.size());
        for (size_t i = 0; i < payload_objs.size(); ++i) {
          views.emplace_back(payload_objs[i], "payload");
          const std::string error =
              video::ParseVp8Payload(views[i].data(), views[i].size(), &parsed[i]);
          if (!error.empty())
            RaiseError("CodecError", "payload " + std::to_string(i) + ": " + error);
        }
        std::vector<uint8_t> frame;
        const std::string error = video::AssembleVp8Frame(parsed, &frame);
        if (!error.empty()) RaiseError("CodecError", error);
        return py::bytes(reinterpret_cast<const char*>(frame.data()), frame.size());
      },
      py::arg("payloads"),
      "Joins one frame's payloads, given in RTP sequence order, into the encoded frame.");

  m.def(
      "vp8_payload_descriptor",
      [](bool start_of_partition, int partition_id, bool non_reference,
         std::optional<int> picture_id, int picture_id_bits, std::optional<int> tl0_pic_idx,
         std::optional<int> temporal_layer_id, bool layer_sync, std::optional<int> key_idx) {
        Vp8PayloadDescriptor d;
        d.start_of_partition = start_of_partition;
        d.partition_id = partition_id;
        d.non_reference = non_reference;
        d.picture_id_bits = picture_id_bits;
        d.picture_id = picture_id ? *picture_id : -1;
        d.tl0_pic_idx = tl0_pic_idx ? *tl0_pic_idx : -1;
        d.temporal_layer_id = temporal_layer_id ? *temporal_layer_id : -1;
        d.layer_sync = layer_sync;
        d.key_idx = key_idx ? *key_idx : -1;
        if ((picture_id && *picture_id < 0) || (tl0_pic_idx && *tl0_pic_idx < 0) ||
            (temporal_layer_id && *temporal_layer_id < 0) || (key_idx && *key_idx < 0))
          throw py::value_error("descriptor fields must be non-negative or None");
        CheckConfig(video::ValidateVp8PayloadDescriptor(d));
        uint8_t out[video::kMaxVp8DescriptorBytes];
        const size_t bytes = video::WriteVp8PayloadDescriptor(d, out);
        return py::bytes(reinterpret_cast<const char*>(out), bytes);
      },
      py::kw_only(), py::arg("start_of_partition") = false, py::arg("partition_id") = 0,
      py::arg("non_reference") = false, py::arg("picture_id") = py::none(),
      py::arg("picture_id_bits") = 15, py::arg("tl0_pic_idx") = py::none(),
      py::arg("temporal_layer_id") = py::none(), py::arg("layer_sync") = false,
      py::arg("key_idx") = py::none(),
      "Writes one VP8 payload descriptor (RFC 7741 section 4.2); None leaves a field out.");

  m.attr("VPX_VERSION") = vpx_codec_version_str();
}

}  // namespace cloudlink::bindings
