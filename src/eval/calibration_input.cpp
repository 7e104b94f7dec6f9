#include "eval/calibration_input.h"

#include "data/calibration_frames.h"

namespace crowdrt::eval {

CalibrationInputFactory calibration_input() {
  return [](const BuildOptions& o, const Shape& input) {
    auto reader = data::open_calibration_frames(o.calib_dir, o.calib_data, o.calib_flow, o.calib_recipe, o.calib_max,
                                                input);
    return CalibrationInput{reader->size(), [reader](Tensor* frame) { return reader->next(frame); }};
  };
}

}  // namespace crowdrt::eval
