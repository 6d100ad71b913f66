// The cloudlink._native extension module: each subsystem binds itself in its
// own bind_<subsystem>.cc; this file only calls them in order.

#include <pybind11/pybind11.h>

namespace py = pybind11;

namespace cloudlink::bindings {
void init_opus(py::module_& m);
void init_jitter_buffer(py::module_& m);
void init_echo_canceller(py::module_& m);
void init_resampler(py::module_& m);
void init_level_meter(py::module_& m);
void init_time_stretcher(py::module_& m);
void init_rtp(py::module_& m);
void init_vp8(py::module_& m);
void init_frame_assembler(py::module_& m);
}  // namespace cloudlink::bindings

PYBIND11_MODULE(_native, m) {
  m.doc() =
      "CloudLink's native media engine: Opus, jitter buffer, echo canceller, resampler, level "
      "meter, RTP and RTCP, VP8, frame assembler.";
  cloudlink::bindings::init_opus(m);
  cloudlink::bindings::init_jitter_buffer(m);
  cloudlink::bindings::init_echo_canceller(m);
  cloudlink::bindings::init_resampler(m);
  cloudlink::bindings::init_level_meter(m);
  cloudlink::bindings::init_time_stretcher(m);
  cloudlink::bindings::init_rtp(m);
  cloudlink::bindings::init_vp8(m);
  cloudlink::bindings::init_frame_assembler(m);
}
