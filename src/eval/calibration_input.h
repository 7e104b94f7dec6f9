// The int8 calibration frames for the engine's builder (which reads no images itself): the seed's calibration
// folder or a VisDrone root, as BuildOptions names them, read through src/data. `crowdrt build`, `crowdrt bench`
// and the library's Builder all calibrate from this.
#pragma once
#include "engine/builder.h"

namespace crowdrt::eval {

CalibrationInputFactory calibration_input();

}  // namespace crowdrt::eval
