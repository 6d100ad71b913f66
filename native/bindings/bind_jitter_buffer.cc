// Python face of the jitter buffer subsystem.

#include "bindings/convert.h"

namespace cloudlink::bindings {

void init_jitter_buffer(py::module_& m) { (void)m; }

}  // namespace cloudlink::bindings
