// Python face of the dsp subsystem.

#include "bindings/convert.h"

namespace cloudlink::bindings {

void init_dsp(py::module_& m) { (void)m; }

}  // namespace cloudlink::bindings
