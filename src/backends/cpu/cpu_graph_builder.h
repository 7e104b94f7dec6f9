// The compile-time half of the CPU backend: turns IR nodes into a list of steps (oneDNN primitives or our own
// kernels) over slots of one arena. Each op's file (cpu_conv.cpp, cpu_pool.cpp, ...) asks the builder for its
// inputs in the layout its primitive wants (the builder inserts a reorder only when the producer's layout
// differs), for its output slot (its own buffer, the residual's buffer, or a slice of an in-place concat),
// and adds its step. Buffer lifetimes follow the steps that touch them; compile() plans the arena from them.
#pragma once
#include <oneapi/dnnl/dnnl.hpp>
#include <functional>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "backends/backend.h"
#include "backends/cpu/cpu_layout.h"

namespace crowdrt::cpu {

// Where a tensor lives: a buffer of the arena, a byte offset into it, and the layout of the bytes there.
struct Slot {
  int buffer = -1;
  size_t offset = 0;
  dnnl::memory::desc md;
};

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
  GraphBuilder(const ir::Graph& graph, const dnnl::engine& engine, bool time_tactics = false);

  const ir::Graph& graph() const { return graph_; }
  const dnnl::engine& engine() const { return engine_; }
  // Whether layers with several candidate kernels time them now (at build) rather than read their tactic.
  bool time_tactics() const { return time_tactics_; }
  // Attributes every primitive starts from: oneDNN's scratchpad handed over by us (one shared buffer).
  dnnl::primitive_attr attr() const;

  // A graph input whose layout its first consumer chooses (the input reorder writes that layout directly).
  bool layout_open(ir::ValueId v) const;
  // The value's layout now; fixes an open graph input to the plain layout.
  dnnl::memory::desc layout(ir::ValueId v);
  // The value as it is, or in layout `md` (a reorder step converts it once; later readers share the copy).
  Slot read(ir::ValueId v);
  Slot read_as(ir::ValueId v, const dnnl::memory::desc& md);
  // A float32 constant reordered from `user_md` (how the graph stores it) into `md`; owned by the graph.
  dnnl::memory constant(ir::ValueId v, const dnnl::memory::desc& user_md, const dnnl::memory::desc& md);

  // The layout a node's output must have because it is a slice of an in-place concat, if it is one.
  std::optional<dnnl::memory::desc> required_output_layout(ir::ValueId v) const;
  // A new buffer for output `v` in `md`, or its in-place concat slice (then `md` must be that slice's layout).
  Slot write(ir::ValueId v, const dnnl::memory::desc& md);
  // Whether the node being built may overwrite its input `v`: it is v's last reader (earlier readers have
  // run, no later node reads it, it is no graph output), and v is in (or can still take) layout `md`.
  bool can_overwrite(ir::ValueId v, const dnnl::memory::desc& md);
  // Output `out` takes over the buffer of `in` (which can_overwrite allowed for layout `md`).
  Slot write_over(ir::ValueId out, ir::ValueId in, const dnnl::memory::desc& md);
  // A reorder step copying value `v` into `destination` (e.g. the residual into a convolution's dst).
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
  Slot reorder_into_new_buffer(const Slot& from, const dnnl::memory::desc& md, const std::string& what);

  const ir::Graph& graph_;
  dnnl::engine engine_;
  bool time_tactics_ = false;
  dnnl::stream compile_stream_;  // runs the weight reorders at compile time
  std::vector<int> reads_left_;  // per value: node inputs and graph outputs not yet built that read it
  std::vector<std::optional<Slot>> slots_;          // per value, once written
  std::vector<std::optional<Slot>> forced_slots_;   // per value: its slice of an in-place concat
  std::vector<bool> open_;                          // per value: graph input whose layout is still open
  struct Converted {
    ir::ValueId value;
    dnnl::memory::desc md;
    Slot slot;
  };
  std::vector<Converted> converted_;
  std::vector<Buffer> buffers_;
  std::vector<Step> steps_;
};

// One function per op family, each in its own file.
void build_conv(GraphBuilder& builder, const ir::Node& node);
void build_conv_transpose(GraphBuilder& builder, const ir::Node& node);
void build_batch_normalization(GraphBuilder& builder, const ir::Node& node);
void build_activation(GraphBuilder& builder, const ir::Node& node);
void build_binary(GraphBuilder& builder, const ir::Node& node);
void build_concat(GraphBuilder& builder, const ir::Node& node);
void build_pool(GraphBuilder& builder, const ir::Node& node);
void build_reduce_mean(GraphBuilder& builder, const ir::Node& node);
void build_resize(GraphBuilder& builder, const ir::Node& node);
void build_pad(GraphBuilder& builder, const ir::Node& node);

// "onednn:jit:avx512_core", for LayerInfo::kernel.
std::string onednn_kernel_name(const dnnl::primitive_desc_base& pd);

}  // namespace crowdrt::cpu
