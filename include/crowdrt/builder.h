// Builder: an ONNX model into a plan, the file an Engine loads (what `crowdrt build` does).
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "crowdrt/engine.h"
#include "crowdrt/export.h"
#include "crowdrt/tensor.h"

namespace crowdrt {
inline namespace v0 {

struct BuildOptions {
  // The lowest precision layers may run in, a permission as in TensorRT: fp32, fp16, bf16, int8.
  // A layer without a kernel in that precision runs in fp32, and the plan says so.
  std::string precision = "fp32";
  std::string device = "cpu";                // cpu (oneDNN), cuda (NVIDIA GPU) or ref (the reference loops)
  int threads = 0;                           // threads used to time kernels at build; 0: all cores
  std::map<std::string, Dims> input_shapes;  // fixes dynamic inputs: {"input", {1, 5, 608, 608}}
  std::string timing_cache;                  // GPU: kernel timings file reused across builds; "": none

  // INT8 calibration (precision "int8") and mixed precision, as `crowdrt build` takes them. An engine-only
  // build (no frames) calibrates from an existing calib_cache only.
  // entropy (TensorRT's EntropyCalibration2; ReLU6 outputs keep their range), minmax or percentile
  std::string calibrator = "entropy";
  std::string calib_dir;               // the seed's calibration folder (imgs/ and imgs_flows/)
  std::string calib_data;              // or a VisDrone-CC root, its flow computed with calib_flow
  std::string calib_flow = "medium";   // DIS preset for calib_data: ultrafast, fast or medium
  std::string calib_recipe = "network";  // calib_data's flow: "seed" (at the source resolution, then resized with the
                                       // vectors unscaled, as the seed) or "network" (at the input size, as inference)
  bool recalibrate = false;            // calibrate even if calib_cache exists, and replace it
  std::int64_t calib_max = 500;        // at most this many calibration frames; 0: all
  std::string calib_cache;             // calibration cache (TensorRT text format), read if it exists, else written
  std::vector<std::string> keep_fp32;  // layers (node names) kept out of reduced precision
  double count_budget = 0;             // > 0: keep the most sensitive int8 layers in fp32 until the count error
                                       // (mean |count - fp32 count| / mean fp32 count) is within this budget
  std::string sensitivity_report;      // write each layer's int8 count sensitivity here (JSON)
  std::string save_qdq;                // write the model with QuantizeLinear/DequantizeLinear nodes here (ONNX)

  // Asked on the building thread between units of work (a layer, a calibration frame, a round of kernel timing),
  // at most every 20 ms and at least about once a second; returning true stops the build: build() and
  // build_engine() throw Error, its message starting with "interrupted", and build() writes nothing (no plan,
  // calibration cache, sensitivity report or Q/DQ model). Empty: the build runs to its end.
  std::function<bool()> should_stop;
};

// What a build produced.
struct BuildSummary {
  std::string plan_path;  // empty for build_engine()
  int layers = 0;                // one per node of the optimised graph, as `crowdrt inspect` counts them
  std::string precision;         // the permitted precision, e.g. "int8"
  std::string precision_mix;     // what the layers run in, e.g. "44 int8, 16 bf16, 12 fp32"
  std::string device;
  double macs = 0;             // multiply-accumulates of one inference
  std::int64_t arena_bytes = 0;  // activation memory of one inference
};

class CROWDRT_API Builder {
 public:
  explicit Builder(const BuildOptions& options = {});
  const BuildOptions& options() const { return options_; }

  // Builds the model and writes the plan. Error when the model cannot be read or run on the device, when
  // an option is invalid, or when plan_path exists and overwrite is false (nothing is replaced then).
  BuildSummary build(const std::string& onnx_path, const std::string& plan_path, bool overwrite = false) const;
  // Builds the model and loads it, without writing a file.
  Engine build_engine(const std::string& onnx_path, const EngineOptions& engine_options = {}) const;

 private:
  BuildOptions options_;
};

}  // namespace v0
}  // namespace crowdrt
