// Python face of the resampler.

#include "bindings/convert.h"

namespace cloudlink::bindings {

void init_resampler(py::module_& m) { (void)m; }

}  // namespace cloudlink::bindings
