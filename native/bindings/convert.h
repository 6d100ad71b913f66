// Conversions shared by the bindings: byte buffers in, numpy arrays out, and
// the translation of engine failures into cloudlink.errors exceptions.

#ifndef CLOUDLINK_BINDINGS_CONVERT_H_
#define CLOUDLINK_BINDINGS_CONVERT_H_

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>

namespace cloudlink::bindings {

namespace py = pybind11;

// A read-only view of any bytes-like object (bytes, bytearray, memoryview of
// bytes). Keeps the buffer alive as long as the view exists.
class ByteView {
 public:
  explicit ByteView(const py::buffer& buffer, const char* what) {
    // bytes, the usual packet, is immutable: read it in place, without the
    // cost of a buffer request (a per-packet saving on the decode path).
    if (PyBytes_Check(buffer.ptr())) {
      owner_ = buffer;
      data_ = reinterpret_cast<const uint8_t*>(PyBytes_AS_STRING(buffer.ptr()));
      size_ = static_cast<size_t>(PyBytes_GET_SIZE(buffer.ptr()));
      return;
    }
    info_ = buffer.request();
    if (info_.itemsize != 1 || info_.ndim != 1 || info_.strides[0] != 1)
      throw py::type_error(std::string(what) + " must be contiguous bytes");
    data_ = static_cast<const uint8_t*>(info_.ptr);
    size_ = static_cast<size_t>(info_.size);
  }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  py::object owner_;
  py::buffer_info info_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// Raises the named class of cloudlink.errors (CodecError, ...) with `message`.
[[noreturn]] inline void RaiseError(const char* class_name, const std::string& message) {
  py::object cls = py::module_::import("cloudlink.errors").attr(class_name);
  PyErr_SetString(cls.ptr(), message.c_str());
  throw py::error_already_set();
}

// Throws ValueError with `message` when it is not empty (config validation).
inline void CheckConfig(const std::string& message) {
  if (!message.empty()) throw py::value_error(message);
}

// Checks that `array` holds exactly `samples` interleaved samples for
// `channels` channels: shape (samples,) for mono, (samples, channels) or a
// flat interleaved (samples * channels,) for more.
inline void CheckFrameShape(const py::array& array, int samples, int channels, const char* what) {
  const size_t expected = static_cast<size_t>(samples) * channels;
  const bool flat_ok = array.ndim() == 1 && static_cast<size_t>(array.shape(0)) == expected;
  const bool two_d_ok =
      array.ndim() == 2 && array.shape(0) == samples && array.shape(1) == channels;
  if (!flat_ok && !two_d_ok) {
    std::string shape = "(";
    for (py::ssize_t i = 0; i < array.ndim(); ++i)
      shape += (i ? ", " : "") + std::to_string(array.shape(i));
    shape += array.ndim() == 1 ? ",)" : ")";
    throw py::value_error(std::string(what) + " must hold " + std::to_string(samples) +
                          " samples x " + std::to_string(channels) + " channels, got shape " +
                          shape);
  }
}

// A new numpy array of `samples` x `channels` (1-D for mono). Made with one
// call into numpy, without the shape and stride vectors py::array_t's
// constructor builds: this runs once per decoded frame.
template <typename T>
py::array_t<T> NewFrame(int samples, int channels) {
  auto& api = py::detail::npy_api::get();
  Py_intptr_t shape[2] = {samples, channels};
  PyObject* array =
      api.PyArray_NewFromDescr_(api.PyArray_Type_, py::dtype::of<T>().release().ptr(),
                                channels == 1 ? 1 : 2, shape, nullptr, nullptr, 0, nullptr);
  if (array == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::array_t<T>>(array);
}

}  // namespace cloudlink::bindings

#endif  // CLOUDLINK_BINDINGS_CONVERT_H_
