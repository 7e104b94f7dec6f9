// ONNX → plan: import, optimise for a backend, calibrate (int8), compile once to record each layer's kernel,
// serialise.
#pragma once
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "engine/plan.h"

namespace crowdrt {

struct BuildOptions {
  std::string device = "cpu";
  Precision precision = Precision::fp32;        // the lowest precision layers may run in (a permission)
  int threads = 0;                              // 0: all cores
  std::map<std::string, Shape> input_shapes;    // overrides for dynamic inputs
  std::string timing_cache;                     // GPU: tactic timings reused across builds ("" for none)
  bool time_tactics = true;                     // time candidate kernels per layer; false: each layer takes the
                                                // lowest permitted precision with a kernel (reproducible builds)

  // int8 calibration (TensorRT's cache format and EntropyCalibration2). The cache is read instead of calibrating
  // when it exists, as TensorRT does (unless recalibrate); otherwise the frames are calibrated and the cache written.
  std::string calibrator = "entropy";           // entropy (EntropyCalibration2), minmax, percentile
  std::string calib_dir;                        // the seed's calibration folder (imgs/, imgs_flows/)
  std::string calib_data;                       // or a VisDrone root, flow computed with calib_flow
  std::string calib_flow = "medium";            // DIS preset for calib_data: ultrafast, fast, medium
  std::string calib_recipe = "network";         // calib_data's flow: "seed" (source resolution, then resized with
                                                // unscaled vectors) or "network" (at the input size, as inference)
  int64_t calib_max = 500;                      // at most this many calibration frames (0: all)
  std::string calib_cache;                      // default: <model without .onnx>_calib.bin, as the seed names it
  std::string calib_cache_version = "8510";     // the TRT-<version> header written
  bool recalibrate = false;                     // calibrate on calib_dir / calib_data even if the cache exists,
                                                // and replace it
  std::vector<std::string> keep_fp32;           // node names kept out of reduced precision
  double count_budget = 0;                      // > 0: keep the worst int8 layers fp32 until the count error
                                                // (mean |count - fp32 count| / mean fp32 count) is within it
  std::string sensitivity_report;               // write the per-layer int8 count sensitivity here (JSON)
  std::string save_qdq;                         // write the model with QuantizeLinear/DequantizeLinear here
  bool overwrite = false;                       // replace sensitivity_report / save_qdq if they exist
};

// The calibration frames, as the network input (NCHW float32 of the model's input shape), one per call of
// next(); false when there are no more. The engine reads no images itself (it builds without OpenCV): the
// caller (CLI, API) makes this from calib_dir / calib_data with src/data.
struct CalibrationInput {
  int64_t frames = 0;  // how many next() will give, for progress and the under-500 warning
  std::function<bool(Tensor* frame)> next;
};
// Called with the options and the model's input shape whenever the builder needs the frames (again).
using CalibrationInputFactory = std::function<CalibrationInput(const BuildOptions&, const Shape& input_shape)>;

// The builder's passes in order, for a backend (fold constants, remove identities, fold BatchNorm, fuse
// residual adds and activations, concat in place, drop dead nodes). Error listing unsupported nodes.
ir::Graph optimise(ir::Graph graph, const Backend& backend);
// The graph calibration runs on, and whose tensor names the cache carries (TensorRT's EntropyCalibration2
// calibrates before fusion): shape arithmetic folded, identities removed, weights float32, nothing fused.
ir::Graph unfused_graph(ir::Graph graph);

// Tensor name → amax of every value of the unfused graph (graph input and every node output), over the frames.
std::vector<std::pair<std::string, float>> calibrate(const ir::Graph& unfused, const Backend& backend,
                                                     const std::string& method, CalibrationInput input, int threads);

// The default cache path for a model: "<model without .onnx>_calib.bin".
std::string default_calibration_cache(const std::string& onnx_path);

Plan build_plan(const std::string& onnx_path, const BuildOptions& options,
                const CalibrationInputFactory& calibration_input = {});

}  // namespace crowdrt
