// Python face of the time stretcher subsystem.

#include "bindings/convert.h"

namespace cloudlink::bindings {

void init_time_stretcher(py::module_& m) { (void)m; }

}  // namespace cloudlink::bindings
