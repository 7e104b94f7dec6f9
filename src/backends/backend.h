// What every backend promises: which nodes it runs in which precision, a graph compiled once into
// prepared kernels over one planned arena, and runs on caller-owned buffers with no allocation.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace crowdrt {

enum class Precision { fp32, fp16, bf16, int8 };
const char* precision_name(Precision precision);
Precision precision_from_name(const std::string& name);  // Error listing the valid names
// Whether a build permitted down to `permission` may run a layer in `precision`. The permission names the lowest
// precision allowed, ordered fp32 > fp16 > bf16 > int8 by mantissa bits: fp16 permits fp16 only (bf16 has 3
// fewer mantissa bits than fp16, so it is not a fallback that fp16 allows), bf16 permits fp16 and bf16, int8
// permits all (as the seed sets FP16 with INT8, so that layers without int8 run lower than fp32).
bool precision_permits(Precision permission, Precision precision);

// The most threads a build or an engine may ask for (0 means every core): libgomp itself refuses a team of 32768
// and crashes creating one of 65536, and 4096 is beyond every host crowdrt runs on.
constexpr int kMaxThreads = 4096;
// Error naming `option` unless 0 <= threads <= kMaxThreads.
inline void check_thread_count(int threads, const std::string& option) {
  if (threads < 0 || threads > kMaxThreads)
    throw Error(cat(option, " is ", threads, "; give 0 (every core) or 1 to ", kMaxThreads));
}

// A layer's kernel choice, as plans record it (each field apart, so that no reader parses a string): the
// algorithm the backend chose and what else decides how the layer runs. The builder stores it in the plan's node
// attributes (set_node_tactic) so that loading a plan compiles the same kernels without timing.
struct Tactic {
  std::string algorithm;        // e.g. "winograd", "direct", "tf32x3:128x64", "stem:8x16"; "" none chosen
  std::string precision;        // "" the engine's; "int8" or "bf16" where the layer runs its own
  std::string int8_io;          // "" none; "scaled": an fp16 Conv (CUDA) reading or writing int8 values
  std::string fused;            // "" none; "chain": run by a fused convolution chain's kernel (CUDA)
  bool reads_staging = false;   // reads the network input's float32 staging buffer (CUDA stem)
  bool empty() const {
    return algorithm.empty() && precision.empty() && int8_io.empty() && fused.empty() && !reads_staging;
  }
  // One line for `build -v` and test messages: the algorithm, then the other fields set, e.g.
  // "stem:8x16 (reads_staging)", "cudnn:... (precision int8, fused chain)".
  std::string text() const;
  bool operator==(const Tactic&) const = default;
};
// The node's tactic as a plan stored it (attributes "tactic", "tactic_precision", "tactic_int8_io",
// "tactic_fused", "tactic_reads_staging"; each absent where its field is empty), and writing it there.
Tactic node_tactic(const ir::Attributes& attrs);
void set_node_tactic(ir::Attributes& attrs, const Tactic& tactic);

// What one executed layer got: written into plans and printed by `build -v` and `inspect`.
struct LayerInfo {
  std::string node;       // IR node name
  std::string op;         // op name, with fusions: "Conv+Add+Relu"
  std::string kernel;     // e.g. "onednn:brgconv:avx512_core", "reference"
  Precision precision = Precision::fp32;
  std::string layout;     // e.g. "nChw16c"
  std::string note;       // e.g. "concat in place", "fell back to fp32: no int8 kernel"
  Tactic tactic = {};     // the kernel chosen (by timing, a plan or the default); the builder stores it in the plan
                          // (node_tactic attributes) so that loading a plan reuses it without timing
};

struct CompileOptions {
  Precision precision = Precision::fp32;  // a permission, as in TensorRT
  int threads = 0;                        // 0: all cores
  bool time_tactics = false;              // time candidate kernels per layer (the builder); otherwise each
                                          // node's tactic (node_tactic), or the default (the lowest permitted
                                          // precision that has a kernel), is used
  std::string timing_cache;               // GPU: file of timed tactics reused across builds ("" for none)
  // Calibrated activation ranges, the backend-independent form every backend reads: value name (the ONNX
  // tensor name, as in TensorRT's calibration cache) → amax, the largest |x| int8 represents. Symmetric
  // quantisation, zero point 0: scale = amax / 127, q = clamp(round(x / scale), -128, 127). A layer may run int8
  // only where its input has an amax; its output stays int8 between layers only where the output has one too.
  // Weights need no entry: their scales are per output channel, max|w| / 127, taken from the weights.
  std::map<std::string, float> activation_amax;
  std::set<std::string> keep_fp32 = {};   // node names that run fp32 whatever the permission (--keep-fp32)
  // Called as the kernels of each node are chosen (timed, with time_tactics): the build's progress.
  std::function<void(size_t done, size_t total)> on_layer = {};
};

// Where a GPU run's time went, as trtexec reports it: copies apart from the compute.
struct DeviceTimes {
  double h2d_ms = 0, compute_ms = 0, d2h_ms = 0;
};

class CompiledGraph {
 public:
  virtual ~CompiledGraph() = default;
  // One NCHW float32 buffer per graph input / output, in graph order, sized by the graph's shapes.
  // With layer_ms non-null, fills it with one wall time per entry of layers().
  virtual void run(std::span<const float* const> inputs, std::span<float* const> outputs,
                   std::vector<double>* layer_ms = nullptr) = 0;
  virtual const std::vector<LayerInfo>& layers() const = 0;
  virtual size_t arena_bytes() const = 0;  // activation memory planned at compile time
  // The last run's device times; false for backends that run on the host.
  virtual bool last_device_times(DeviceTimes* times) const {
    (void)times;
    return false;
  }

  // Inference on device-resident data (GPU backends), so that frames prepared on the device never pass through host
  // memory: the float32 NCHW input buffers on the device and the stream (a cudaStream_t) the plan runs on. Work that
  // writes the inputs must be queued on that stream before run_on_device(). False on backends that run on the host.
  struct DeviceIo {
    void* stream = nullptr;
    std::vector<float*> inputs;
    std::vector<const float*> outputs;  // float32 NCHW, valid once the stream has passed run_on_device()
  };
  virtual bool device_io(DeviceIo* io) {
    (void)io;
    return false;
  }
  // Queues the plan on the device inputs (returns before it has run); with sum_output, also the sum of output 0's
  // elements on the device (a fixed reduction order, so equal inputs give equal sums). Error on host backends.
  virtual void run_on_device(bool sum_output);
  // Waits for the last run_on_device(true) and returns its sum of output 0.
  virtual double wait_output_sum();
  // Waits for the last run_on_device and copies output `index` (float32 NCHW) to `host`.
  virtual void wait_output(size_t index, float* host);
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;                // "cpu", "cuda", "ref"
  virtual std::string device_fingerprint() const = 0;  // plans refuse to load where this differs
  // Whether the backend can run this node at this precision (used for fallbacks).
  virtual bool supports(const ir::Graph& graph, const ir::Node& node, Precision precision) const = 0;
  // Whether a Concat can be computed by its producers writing straight into the output (no copy).
  virtual bool concat_in_place(const ir::Graph& graph, const ir::Node& concat) const = 0;
  // The graph has passed the builder's passes: compute ops only, shapes known, constants folded.
  virtual std::unique_ptr<CompiledGraph> compile(const ir::Graph& graph, const CompileOptions& options) const = 0;
};

}  // namespace crowdrt
