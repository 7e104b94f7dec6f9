#include "backends/cpu/cpu_graph_builder.h"

#include <algorithm>

namespace crowdrt::cpu {

std::string onednn_kernel_name(const dnnl::primitive_desc_base& pd) {
  return std::string("onednn:") + pd.impl_info_str();
}

GraphBuilder::GraphBuilder(const ir::Graph& graph, const dnnl::engine& engine, bool time_tactics)
    : graph_(graph), engine_(engine), time_tactics_(time_tactics), compile_stream_(engine), reads_left_(graph.use_counts()),
      slots_(graph.value_count()), forced_slots_(graph.value_count()), open_(graph.value_count(), false) {
  // Steps 0..inputs-1 are the input reorders; their layouts are known only once consumers have chosen.
  for (ir::ValueId v : graph_.inputs()) {
    open_[v] = true;
    steps_.emplace_back();
  }
}

dnnl::primitive_attr GraphBuilder::attr() const {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

int GraphBuilder::new_buffer(const dnnl::memory::desc& md) {
  buffers_.push_back(Buffer{md.get_size(), -1, -1});
  return static_cast<int>(buffers_.size()) - 1;
}

void GraphBuilder::touch(const Slot& slot, int step) {
  Buffer& b = buffers_.at(slot.buffer);
  b.first_step = b.first_step < 0 ? step : std::min(b.first_step, step);
  b.last_step = std::max(b.last_step, step);
}

int GraphBuilder::add_step(Step step) {
  const int index = static_cast<int>(steps_.size());
  for (const auto& [arg, slot] : step.arena_args) touch(slot, index);
  steps_.push_back(std::move(step));
  return index;
}

bool GraphBuilder::layout_open(ir::ValueId v) const { return open_.at(v) && !slots_.at(v); }

dnnl::memory::desc GraphBuilder::layout(ir::ValueId v) { return read(v).md; }

Slot GraphBuilder::read(ir::ValueId v) {
  if (slots_.at(v)) return *slots_[v];
  const ir::Value& value = graph_.value(v);
  if (open_[v]) {
    const dnnl::memory::desc md = plain_desc(to_dims(value.shape));
    slots_[v] = Slot{new_buffer(md), 0, md};
    return *slots_[v];
  }
  if (value.is_constant()) {
    // A constant used as an activation (rare after folding): copied into the arena at each run.
    const dnnl::memory::desc md = plain_desc(to_dims(value.data->shape()));
    dnnl::memory owned = constant(v, md, md);
    Slot slot{new_buffer(md), 0, md};
    dnnl::reorder::primitive_desc pd(engine_, md, engine_, md, attr());
    Step step;
    step.primitive = dnnl::reorder(pd);
    step.args[DNNL_ARG_FROM] = owned;
    step.arena_args = {{DNNL_ARG_TO, slot}};
    if (pd.scratchpad_desc().get_size() > 0) step.scratchpad = pd.scratchpad_desc();
    step.info = LayerInfo{value.name, "Constant", onednn_kernel_name(pd), Precision::fp32, describe_layout(md),
                          "constant copied into the arena"};
    add_step(std::move(step));
    slots_[v] = slot;
    return slot;
  }
  throw Error(cat("cpu backend: value '", value.name,
                  "' is read before any node writes it; the graph must be in topological order (Graph::validate)"));
}

Slot GraphBuilder::reorder_into_new_buffer(const Slot& from, const dnnl::memory::desc& md, const std::string& what) {
  Slot to{new_buffer(md), 0, md};
  dnnl::reorder::primitive_desc pd(engine_, from.md, engine_, md, attr());
  Step step;
  step.primitive = dnnl::reorder(pd);
  step.arena_args = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
  if (pd.scratchpad_desc().get_size() > 0) step.scratchpad = pd.scratchpad_desc();
  step.info = LayerInfo{what, "Reorder", onednn_kernel_name(pd), Precision::fp32, describe_layout(md),
                        cat("layout ", describe_layout(from.md), " -> ", describe_layout(md))};
  add_step(std::move(step));
  return to;
}

Slot GraphBuilder::read_as(ir::ValueId v, const dnnl::memory::desc& md) {
  if (layout_open(v)) {
    slots_[v] = Slot{new_buffer(md), 0, md};
    return *slots_[v];
  }
  const Slot current = read(v);
  if (current.md == md) return current;
  for (const Converted& c : converted_)
    if (c.value == v && c.md == md) return c.slot;
  const Slot converted = reorder_into_new_buffer(current, md, graph_.value(v).name + ":reorder");
  converted_.push_back(Converted{v, md, converted});
  return converted;
}

dnnl::memory GraphBuilder::constant(ir::ValueId v, const dnnl::memory::desc& user_md, const dnnl::memory::desc& md) {
  const Tensor& tensor = graph_.constant(v);
  if (tensor.dtype() != DType::f32)
    throw Error(cat("cpu backend: constant '", graph_.value(v).name, "' holds ", dtype_name(tensor.dtype()),
                    "; only float32 constants reach compute ops (the builder converts them)"));
  if (user_md.get_size() != tensor.bytes())
    throw Error(cat("cpu backend: constant '", graph_.value(v).name, "' has ", tensor.numel(),
                    " values, which does not fit the ", describe_layout(user_md), " shape its node expects"));
  // oneDNN reads through a non-const handle; the reorder below only reads it.
  dnnl::memory user(user_md, engine_, const_cast<std::byte*>(tensor.raw()));
  dnnl::memory owned(md, engine_);
  dnnl::reorder(user, owned).execute(compile_stream_, user, owned);
  compile_stream_.wait();
  return owned;
}

std::optional<dnnl::memory::desc> GraphBuilder::required_output_layout(ir::ValueId v) const {
  if (forced_slots_.at(v)) return forced_slots_[v]->md;
  return std::nullopt;
}

Slot GraphBuilder::write(ir::ValueId v, const dnnl::memory::desc& md) {
  if (forced_slots_.at(v)) {
    if (forced_slots_[v]->md != md)
      throw Error(cat("cpu backend: '", graph_.value(v).name, "' must be written as ",
                      describe_layout(forced_slots_[v]->md), " into its in-place concat, not as ",
                      describe_layout(md), "; this is a bug in the op's builder"));
    slots_[v] = forced_slots_[v];
    return *slots_[v];
  }
  slots_[v] = Slot{new_buffer(md), 0, md};
  return *slots_[v];
}

bool GraphBuilder::can_overwrite(ir::ValueId v, const dnnl::memory::desc& md) {
  if (v == ir::kNoValue || graph_.value(v).is_constant() || reads_left_.at(v) != 1) return false;
  if (layout_open(v)) return true;
  return slots_.at(v) && slots_[v]->md == md;
}

Slot GraphBuilder::write_over(ir::ValueId out, ir::ValueId in, const dnnl::memory::desc& md) {
  if (layout_open(in)) slots_[in] = Slot{new_buffer(md), 0, md};
  slots_.at(out) = read(in);
  return *slots_[out];
}

void GraphBuilder::copy_into(ir::ValueId v, const Slot& destination, const std::string& node_name) {
  if (layout_open(v)) slots_[v] = Slot{new_buffer(destination.md), 0, destination.md};
  const Slot from = read(v);
  dnnl::reorder::primitive_desc pd(engine_, from.md, engine_, destination.md, attr());
  Step step;
  step.primitive = dnnl::reorder(pd);
  step.arena_args = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, destination}};
  if (pd.scratchpad_desc().get_size() > 0) step.scratchpad = pd.scratchpad_desc();
  step.info = LayerInfo{node_name + ":residual", "Reorder", onednn_kernel_name(pd), Precision::fp32,
                        describe_layout(destination.md), "residual copied into the output it is added to"};
  add_step(std::move(step));
}

void GraphBuilder::add_primitive(const dnnl::primitive& primitive, const dnnl::primitive_desc_base& pd,
                                 std::vector<std::pair<int, Slot>> arena_args, ArgMemories constants,
                                 LayerInfo info) {
  Step step;
  step.primitive = primitive;
  step.arena_args = std::move(arena_args);
  step.args = std::move(constants);
  const dnnl::memory::desc scratchpad = pd.scratchpad_desc();
  if (scratchpad.get_size() > 0) step.scratchpad = scratchpad;
  step.info = std::move(info);
  add_step(std::move(step));
}

void GraphBuilder::add_kernel(Kernel kernel, std::vector<std::pair<int, Slot>> arena_args, LayerInfo info) {
  Step step;
  step.kernel = std::move(kernel);
  step.arena_args = std::move(arena_args);
  step.info = std::move(info);
  add_step(std::move(step));
}

void GraphBuilder::add_no_op(LayerInfo info) {
  Step step;
  step.info = std::move(info);
  add_step(std::move(step));
}

void GraphBuilder::node_built(const ir::Node& node) {
  for (ir::ValueId v : node.inputs)
    if (v != ir::kNoValue) --reads_left_.at(v);
}

void GraphBuilder::prepare_in_place_concat(const ir::Node& concat) {
  // Batch 1 and channel offsets at multiples of the block (checked by CpuBackend::concat_in_place): each
  // input is then a dense nChw16c tensor starting at a whole block of the output, and the last input's
  // padded channels are the output's padded channels.
  const ir::ValueId out = concat.outputs[0];
  const Dims out_dims = to_dims(graph_.value(out).shape);
  const dnnl::memory::desc out_md = channel_blocked_desc(out_dims);
  const Slot whole{new_buffer(out_md), 0, out_md};
  slots_[out] = whole;
  int64_t channel = 0;
  for (ir::ValueId in : concat.inputs) {
    const Dims in_dims = to_dims(graph_.value(in).shape);
    const size_t block_bytes = sizeof(float) * kChannelBlock * out_dims[2] * out_dims[3];
    forced_slots_[in] = Slot{whole.buffer, static_cast<size_t>(channel / kChannelBlock) * block_bytes,
                             channel_blocked_desc(in_dims)};
    channel += in_dims[1];
  }
}

void GraphBuilder::finish_inputs_and_outputs() {
  const auto& inputs = graph_.inputs();
  for (size_t i = 0; i < inputs.size(); ++i) {
    const ir::Value& value = graph_.value(inputs[i]);
    const Slot slot = read(inputs[i]);  // an input nobody chose a layout for is plain
    const dnnl::memory::desc user_md = plain_desc(to_dims(value.shape));
    user_inputs.push_back(dnnl::memory(user_md, engine_, nullptr));
    dnnl::reorder::primitive_desc pd(engine_, user_md, engine_, slot.md, attr());
    Step step;
    step.primitive = dnnl::reorder(pd);
    step.args[DNNL_ARG_FROM] = user_inputs.back();
    step.arena_args = {{DNNL_ARG_TO, slot}};
    if (pd.scratchpad_desc().get_size() > 0) step.scratchpad = pd.scratchpad_desc();
    step.info = LayerInfo{"input:" + value.name, "Reorder", onednn_kernel_name(pd), Precision::fp32,
                          describe_layout(slot.md), "graph input from nchw"};
    touch(slot, static_cast<int>(i));
    steps_[i] = std::move(step);
  }
  for (ir::ValueId v : graph_.outputs()) {
    const ir::Value& value = graph_.value(v);
    const Slot slot = read(v);
    const dnnl::memory::desc user_md = plain_desc(to_dims(value.shape));
    user_outputs.push_back(dnnl::memory(user_md, engine_, nullptr));
    dnnl::reorder::primitive_desc pd(engine_, slot.md, engine_, user_md, attr());
    Step step;
    step.primitive = dnnl::reorder(pd);
    step.arena_args = {{DNNL_ARG_FROM, slot}};
    step.args[DNNL_ARG_TO] = user_outputs.back();
    if (pd.scratchpad_desc().get_size() > 0) step.scratchpad = pd.scratchpad_desc();
    step.info = LayerInfo{"output:" + value.name, "Reorder", onednn_kernel_name(pd), Precision::fp32, "nchw",
                          "graph output to nchw"};
    add_step(std::move(step));
  }
}

}  // namespace crowdrt::cpu
