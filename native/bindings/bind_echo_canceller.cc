// Python face of the echo canceller subsystem.

#include "bindings/convert.h"

namespace cloudlink::bindings {

void init_echo_canceller(py::module_& m) { (void)m; }

}  // namespace cloudlink::bindings
