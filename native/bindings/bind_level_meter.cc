// Python face of the level meter and voice activity detector.

#include "bindings/convert.h"

namespace cloudlink::bindings {

void init_level_meter(py::module_& m) { (void)m; }

}  // namespace cloudlink::bindings
