// The compile-time half of the CPU backend: turns IR nodes into a list of steps (oneDNN primitives or our own
// kernels) over slots of one arena. Each op's file (cpu_conv.cpp, cpu_pool.cpp, ...) holds its build function
// and its op table entry (cpu_op_table.h). The build function asks the builder for its inputs in the layout its
// primitive wants (the builder inserts a reorder only when the producer's layout differs), for its output slot
// (its own buffer, the residual's buffer, or a slice of an in-place concat), and adds its step. Buffer
// lifetimes follow the steps that touch them; compile() plans the arena from them.
#pragma once
#include <oneapi/dnnl/dnnl.hpp>
#include <functional>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "backends/backend.h"
#include "backends/cpu/cpu_layout.h"
#include "backends/cpu/cpu_op_table.h"
#include "backends/cpu/cpu_support.h"

namespace crowdrt::cpu {

// Where a tensor lives: a buffer of the arena, a byte offset into it, the layout (and data type) of the bytes
// there, and the scale of its int8 values: real = stored * scale (1 for float32 and bf16).
struct Slot {
  int buffer = -1;
  size_t offset = 0;
  dnnl::memory::desc md;
  float scale = 1.f;
};

// What the compile chose for one Conv before any node is built (so producers know how consumers read).
struct ConvChoice {
  Precision precision = Precision::fp32;
  std::string tactic = "direct";  // direct, winograd (fp32), int8, bf16
  std::string note;               // why (timing, a missing scale, a missing kernel)
  // As plans record it: the algorithm (winograd, else direct) and the precision where it is not fp32.
  Tactic plan_tactic() const {
    Tactic t;
    t.algorithm = tactic == "winograd" ? "winograd" : "direct";
    if (precision != Precision::fp32) t.precision = precision_name(precision);
    return t;
  }
};
// The ConvChoice::tactic a plan's node asks for ("" none).
inline std::string conv_choice_tactic(const Tactic& t) { return t.precision.empty() ? t.algorithm : t.precision; }

using ArgMemories = std::unordered_map<int, dnnl::memory>;
// Our own kernels get the same argument map oneDNN primitives get (DNNL_ARG_SRC, DNNL_ARG_DST, ...).
using Kernel = std::function<void(const ArgMemories& args)>;

struct Step {
  LayerInfo info;
  std::optional<dnnl::primitive> primitive;
  Kernel kernel;                                   // set instead of primitive for our own kernels
  std::vector<std::pair<int, Slot>> arena_args;    // bound to the arena once it is allocated
  ArgMemories args;                                // owned constants now; arena slots after binding
  std::optional<dnnl::memory::desc> scratchpad;    // oneDNN's scratchpad descriptor when it needs one
  bool does_nothing() const { return !primitive && !kernel; }
};

class GraphBuilder {
 public:
  GraphBuilder(const ir::Graph& graph, const dnnl::engine& engine, const CompileOptions& options = {});

  const ir::Graph& graph() const { return graph_; }
  const dnnl::engine& engine() const { return engine_; }
  const CompileOptions& options() const { return options_; }
  // Whether layers with several candidate kernels time them now (at build) rather than read their tactic.
  bool time_tactics() const { return options_.time_tactics; }
  // The calibrated amax of a value (CompileOptions::activation_amax by value name), if it has a usable one.
  std::optional<float> amax(ir::ValueId v) const;

  // The Conv choices, once for all Convs; then decides which values stay in bf16 / int8 between layers (none
  // that is a graph output or part of an in-place concat). int8: a Conv's output whose every reader is an int8
  // Conv (as source or residual), whose epilogue commutes with the scale (none, relu, leaky_relu) and which has
  // an amax. bf16: the output of a bf16 Conv, or of an op that passes bf16 through, whose every reader is a
  // bf16 Conv (as source or residual) or an op passing bf16 through.
  void set_conv_choices(std::unordered_map<std::string, ConvChoice> choices);
  // Ops that only select or move values (MaxPool, nearest Resize, a copying Concat; the op table's trait):
  // bf16 goes through them with no rounding, so a bf16 network keeps bf16 across them instead of converting
  // both ways.
  bool passes_bf16_through(const ir::Node& node) const;
  const ConvChoice& conv_choice(const ir::Node& node) const;
  // The data type value `v` is stored in between layers (f32 unless set_conv_choices kept it lower), and the
  // scale of int8 ones (amax / 127).
  dnnl::memory::data_type stored_type(ir::ValueId v) const;
  float stored_scale(ir::ValueId v) const;
  // Attributes every primitive starts from: oneDNN's scratchpad handed over by us (one shared buffer).
  dnnl::primitive_attr attr() const;

  // A graph input whose layout its first consumer chooses (the input reorder writes that layout directly).
  bool layout_open(ir::ValueId v) const;
  // The value's layout now, as float32; fixes an open graph input to the plain layout.
  dnnl::memory::desc layout(ir::ValueId v);
  // The value as float32 in the layout it has (dequantised once if it is stored lower), or in layout and data
  // type `md` at int8 scale `scale` (a reorder step converts it once; later readers share the copy).
  Slot read(ir::ValueId v);
  Slot read_as(ir::ValueId v, const dnnl::memory::desc& md, float scale = 1.f);
  // A float32 constant reordered from `user_md` (how the graph stores it) into `md`; owned by the graph. With
  // `scales`, the reorder multiplies by them (mask as oneDNN's output scales: per output channel for weights).
  dnnl::memory constant(ir::ValueId v, const dnnl::memory::desc& user_md, const dnnl::memory::desc& md,
                        int scale_mask = 0, const std::vector<float>& scales = {});
  // Float32 values made at compile time (e.g. a bias in int8 accumulator units) reordered into `md`.
  dnnl::memory owned_constant(const std::vector<float>& values, const dnnl::memory::desc& user_md,
                              const dnnl::memory::desc& md);

  // The layout a node's output must have because it is a slice of an in-place concat, if it is one.
  std::optional<dnnl::memory::desc> required_output_layout(ir::ValueId v) const;
  // A new buffer for output `v` in `md` (int8 scale `scale`), or its in-place concat slice (then `md` must be
  // that slice's layout).
  Slot write(ir::ValueId v, const dnnl::memory::desc& md, float scale = 1.f);
  // Whether the node being built may overwrite its input `v`: it is v's last reader (earlier readers have
  // run, no later node reads it, it is no graph output), and v is in (or can still take) layout `md`.
  bool can_overwrite(ir::ValueId v, const dnnl::memory::desc& md);
  // Output `out` takes over the buffer of `in` (which can_overwrite allowed for layout `md`), at scale `scale`.
  Slot write_over(ir::ValueId out, ir::ValueId in, const dnnl::memory::desc& md, float scale = 1.f);
  // The slot value `v` is stored in (its own data type and scale), as its producer wrote it.
  Slot stored(ir::ValueId v);
  // A reorder step copying value `v` into `destination`, rescaled to the destination's scale and data type
  // (e.g. the residual into a convolution's dst).
  void copy_into(ir::ValueId v, const Slot& destination, const std::string& node_name);

  void add_primitive(const dnnl::primitive& primitive, const dnnl::primitive_desc_base& pd,
                     std::vector<std::pair<int, Slot>> arena_args, ArgMemories constants, LayerInfo info);
  void add_kernel(Kernel kernel, std::vector<std::pair<int, Slot>> arena_args, LayerInfo info);
  void add_no_op(LayerInfo info);
  // Called after each node is built: its inputs have one reader fewer left.
  void node_built(const ir::Node& node);

  // Sets up the in-place concats (before any node is built) and the graph input/output reorders (after).
  void prepare_in_place_concat(const ir::Node& concat);
  void finish_inputs_and_outputs();

  struct Buffer {
    size_t bytes = 0;
    int first_step = -1, last_step = -1;
  };
  std::vector<Step> take_steps() { return std::move(steps_); }
  const std::vector<Buffer>& buffers() const { return buffers_; }
  // The user-side (plain NCHW) memories of the graph inputs and outputs, whose handles run() sets.
  std::vector<dnnl::memory> user_inputs, user_outputs;

 private:
  int new_buffer(const dnnl::memory::desc& md);
  void touch(const Slot& slot, int step);
  int add_step(Step step);
  Slot reorder_into_new_buffer(const Slot& from, const dnnl::memory::desc& md, float scale, const std::string& what);
  dnnl::memory reorder_constant(const dnnl::memory& user, const dnnl::memory::desc& md, int scale_mask,
                                const std::vector<float>& scales);

  const ir::Graph& graph_;
  dnnl::engine engine_;
  CompileOptions options_;
  std::unordered_map<std::string, ConvChoice> conv_choices_;
  std::vector<dnnl::memory::data_type> stored_types_;  // per value
  std::vector<float> stored_scales_;                   // per value
  dnnl::stream compile_stream_;  // runs the weight reorders at compile time
  std::vector<int> reads_left_;  // per value: node inputs and graph outputs not yet built that read it
  std::vector<std::optional<Slot>> slots_;          // per value, once written
  std::vector<std::optional<Slot>> forced_slots_;   // per value: its slice of an in-place concat
  std::vector<bool> open_;                          // per value: graph input whose layout is still open
  struct Converted {
    ir::ValueId value;
    dnnl::memory::desc md;
    float scale;
    Slot slot;
  };
  std::vector<Converted> converted_;
  std::vector<Buffer> buffers_;
  std::vector<Step> steps_;
};

// Each op's build function is in the op's file, reached through its op table entry (cpu_op_table.h).

// Choosing a Conv's precision and algorithm (cpu_conv_choice.cpp): its tactic (node_tactic) when the plan has
// one and no timing is asked for, else the permitted candidates with a fast kernel (and, for int8, an input
// amax), timed when time_tactics, else the lowest precision.
ConvChoice choose_conv(const GraphBuilder& builder, const ir::Node& node);

// "onednn:jit:avx512_core", for LayerInfo::kernel.
std::string onednn_kernel_name(const dnnl::primitive_desc_base& pd);
// The same layout in another data type (strides and blocking are counted in elements).
dnnl::memory::desc with_data_type(const dnnl::memory::desc& md, dnnl::memory::data_type type);

}  // namespace crowdrt::cpu
