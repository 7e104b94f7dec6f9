#include "backends/cpu/cpu_graph_builder.h"

#include <algorithm>
#include <cmath>

#include "quant/scheme.h"

namespace crowdrt::cpu {

std::string onednn_kernel_name(const dnnl::primitive_desc_base& pd) {
  return std::string("onednn:") + pd.impl_info_str();
}

dnnl::memory::desc with_data_type(const dnnl::memory::desc& md, dnnl::memory::data_type type) {
  dnnl::memory::desc out = md;
  out.data.data_type = dnnl::memory::convert_to_c(type);
  return out;
}

GraphBuilder::GraphBuilder(const ir::Graph& graph, const dnnl::engine& engine, const CompileOptions& options)
    : graph_(graph), engine_(engine), options_(options),
      stored_types_(graph.value_count(), dnnl::memory::data_type::f32), stored_scales_(graph.value_count(), 1.f),
      compile_stream_(engine), reads_left_(graph.use_counts()), slots_(graph.value_count()),
      forced_slots_(graph.value_count()), open_(graph.value_count(), false) {
  // Steps 0..inputs-1 are the input reorders; their layouts are known only once consumers have chosen.
  for (ir::ValueId v : graph_.inputs()) {
    open_[v] = true;
    steps_.emplace_back();
  }
}

std::optional<float> GraphBuilder::amax(ir::ValueId v) const {
  const auto it = options_.activation_amax.find(graph_.value(v).name);
  if (it == options_.activation_amax.end() || !(it->second > 0.f) || !std::isfinite(it->second)) return std::nullopt;
  return it->second;
}

bool GraphBuilder::passes_bf16_through(const ir::Node& node) const {
  const OpEntry* entry = find_op(node.op);
  if (!entry || !entry->passes_bf16_through || !entry->passes_bf16_through(node)) return false;
  // A slice of an in-place concat is float32 (its producer writes into it): an in-place Concat reads them. (Its
  // inputs have no other reader, so this is only ever false for the Concat itself.)
  return !node.inputs.empty() && node.inputs[0] != ir::kNoValue && !forced_slots_.at(node.inputs[0]);
}

void GraphBuilder::set_conv_choices(std::unordered_map<std::string, ConvChoice> choices) {
  conv_choices_ = std::move(choices);
  std::vector<std::vector<std::pair<const ir::Node*, size_t>>> readers(graph_.value_count());
  for (const ir::Node& node : graph_.nodes())
    for (size_t i = 0; i < node.inputs.size(); ++i)
      if (node.inputs[i] != ir::kNoValue) readers[node.inputs[i]].emplace_back(&node, i);
  const auto& outputs = graph_.outputs();
  auto is_output = [&](ir::ValueId v) { return std::find(outputs.begin(), outputs.end(), v) != outputs.end(); };

  // bf16: produced in bf16 by a bf16 Conv, or by an op that passes bf16 through from inputs all produced so.
  std::vector<bool> bf16_produced(graph_.value_count(), false);
  for (const ir::Node& node : graph_.nodes()) {
    bool produced = node.op == ir::Op::Conv && conv_choice(node).precision == Precision::bf16;
    if (passes_bf16_through(node)) {
      produced = true;
      for (ir::ValueId v : node.inputs) produced = produced && v != ir::kNoValue && bf16_produced[v];
    }
    bf16_produced[node.outputs[0]] = produced;
  }
  // Kept bf16 when every reader takes bf16 as it is; readers come later in the graph, so decide backwards.
  const auto& nodes = graph_.nodes();
  for (auto node = nodes.rbegin(); node != nodes.rend(); ++node) {
    const ir::ValueId y = node->outputs[0];
    if (!bf16_produced[y] || forced_slots_[y] || is_output(y) || readers[y].empty()) continue;
    bool all_take_bf16 = true;
    for (const auto& [reader, index] : readers[y])
      all_take_bf16 = all_take_bf16 &&
                      ((reader->op == ir::Op::Conv && (index == 0 || index == 3) &&
                        conv_choice(*reader).precision == Precision::bf16) ||
                       (passes_bf16_through(*reader) &&
                        stored_types_[reader->outputs[0]] == dnnl::memory::data_type::bf16));
    if (all_take_bf16) stored_types_[y] = dnnl::memory::data_type::bf16;
  }

  // int8: a Conv's output stays int8 when every reader is an int8 Conv (as source or residual), its epilogue
  // commutes with the scale (none, relu, leaky_relu) and it has an amax.
  for (const ir::Node& node : graph_.nodes()) {
    if (node.op != ir::Op::Conv || conv_choice(node).precision != Precision::int8) continue;
    const ir::ValueId y = node.outputs[0];
    if (forced_slots_[y] || is_output(y) || readers[y].empty()) continue;
    const std::string activation = node.attrs.s("activation", "");
    if (!amax(y) || (activation != "" && activation != "relu" && activation != "leaky_relu")) continue;
    bool all_int8 = true;
    for (const auto& [reader, index] : readers[y])
      all_int8 = all_int8 && reader->op == ir::Op::Conv && (index == 0 || index == 3) &&
                 conv_choice(*reader).precision == Precision::int8;
    if (!all_int8) continue;
    stored_types_[y] = dnnl::memory::data_type::s8;
    stored_scales_[y] = quant::activation_scale(*amax(y));
  }
}

const ConvChoice& GraphBuilder::conv_choice(const ir::Node& node) const {
  static const ConvChoice kFp32;
  const auto it = conv_choices_.find(node.name);
  return it == conv_choices_.end() ? kFp32 : it->second;
}

dnnl::memory::data_type GraphBuilder::stored_type(ir::ValueId v) const { return stored_types_.at(v); }
float GraphBuilder::stored_scale(ir::ValueId v) const { return stored_scales_.at(v); }

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

dnnl::memory::desc GraphBuilder::layout(ir::ValueId v) {
  return with_data_type(stored(v).md, dnnl::memory::data_type::f32);
}

Slot GraphBuilder::read(ir::ValueId v) {
  const Slot slot = stored(v);
  if (slot.md.data_type() == dnnl::memory::data_type::f32) return slot;
  return read_as(v, with_data_type(slot.md, dnnl::memory::data_type::f32));
}

Slot GraphBuilder::stored(ir::ValueId v) {
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

namespace {
// A reorder converting `from_scale` units into `to_scale` units (quantise, dequantise or requantise).
dnnl::primitive_attr scaled(dnnl::primitive_attr attr, float from_scale, float to_scale) {
  if (from_scale != to_scale) attr.set_output_scales(0, {from_scale / to_scale});
  return attr;
}

std::string conversion_note(const Slot& from, const dnnl::memory::desc& md) {
  const auto from_type = from.md.data_type(), to_type = md.data_type();
  if (from_type == to_type) return cat("layout ", describe_layout(from.md), " -> ", describe_layout(md));
  const char* what = to_type == dnnl::memory::data_type::s8 || to_type == dnnl::memory::data_type::u8 ? "quantise"
                     : from_type == dnnl::memory::data_type::s8 || from_type == dnnl::memory::data_type::u8
                         ? "dequantise"
                         : "convert";
  return cat(what, " ", describe_layout(from.md), " -> ", describe_layout(md));
}
}  // namespace

Slot GraphBuilder::reorder_into_new_buffer(const Slot& from, const dnnl::memory::desc& md, float scale,
                                           const std::string& what) {
  Slot to{new_buffer(md), 0, md, scale};
  dnnl::reorder::primitive_desc pd(engine_, from.md, engine_, md, scaled(attr(), from.scale, scale));
  Step step;
  step.primitive = dnnl::reorder(pd);
  step.arena_args = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
  if (pd.scratchpad_desc().get_size() > 0) step.scratchpad = pd.scratchpad_desc();
  step.info = LayerInfo{what, "Reorder", onednn_kernel_name(pd), Precision::fp32, describe_layout(md),
                        conversion_note(from, md)};
  add_step(std::move(step));
  return to;
}

Slot GraphBuilder::read_as(ir::ValueId v, const dnnl::memory::desc& md, float scale) {
  if (layout_open(v)) {
    slots_[v] = Slot{new_buffer(md), 0, md, scale};
    return *slots_[v];
  }
  const Slot current = stored(v);
  if (current.md == md && current.scale == scale) return current;
  for (const Converted& c : converted_)
    if (c.value == v && c.md == md && c.scale == scale) return c.slot;
  const Slot converted = reorder_into_new_buffer(current, md, scale, graph_.value(v).name + ":reorder");
  converted_.push_back(Converted{v, md, scale, converted});
  return converted;
}

dnnl::memory GraphBuilder::constant(ir::ValueId v, const dnnl::memory::desc& user_md, const dnnl::memory::desc& md,
                                    int scale_mask, const std::vector<float>& scales) {
  const Tensor& tensor = graph_.constant(v);
  if (tensor.dtype() != DType::f32)
    throw Error(cat("cpu backend: constant '", graph_.value(v).name, "' holds ", dtype_name(tensor.dtype()),
                    "; only float32 constants reach compute ops (the builder converts them)"));
  if (user_md.get_size() != tensor.bytes())
    throw Error(cat("cpu backend: constant '", graph_.value(v).name, "' has ", tensor.numel(),
                    " values, which does not fit the ", describe_layout(user_md), " shape its node expects"));
  // oneDNN reads through a non-const handle; the reorder below only reads it.
  dnnl::memory user(user_md, engine_, const_cast<std::byte*>(tensor.raw()));
  return reorder_constant(user, md, scale_mask, scales);
}

dnnl::memory GraphBuilder::owned_constant(const std::vector<float>& values, const dnnl::memory::desc& user_md,
                                          const dnnl::memory::desc& md) {
  if (user_md.get_size() != values.size() * sizeof(float))
    throw Error(cat("cpu backend: ", values.size(), " values do not fit ", describe_layout(user_md), "; a bug"));
  dnnl::memory user(user_md, engine_, const_cast<float*>(values.data()));
  return reorder_constant(user, md, 0, {});
}

dnnl::memory GraphBuilder::reorder_constant(const dnnl::memory& user, const dnnl::memory::desc& md, int scale_mask,
                                            const std::vector<float>& scales) {
  dnnl::memory owned(md, engine_);
  dnnl::primitive_attr attr;
  if (!scales.empty()) attr.set_output_scales(scale_mask, scales);
  dnnl::reorder::primitive_desc pd(engine_, user.get_desc(), engine_, md, attr);
  dnnl::memory from = user;
  dnnl::reorder(pd).execute(compile_stream_, from, owned);
  compile_stream_.wait();
  return owned;
}

std::optional<dnnl::memory::desc> GraphBuilder::required_output_layout(ir::ValueId v) const {
  if (forced_slots_.at(v)) return forced_slots_[v]->md;
  return std::nullopt;
}

Slot GraphBuilder::write(ir::ValueId v, const dnnl::memory::desc& md, float scale) {
  if (forced_slots_.at(v)) {
    if (forced_slots_[v]->md != md)
      throw Error(cat("cpu backend: '", graph_.value(v).name, "' must be written as ",
                      describe_layout(forced_slots_[v]->md), " into its in-place concat, not as ",
                      describe_layout(md), "; this is a bug in the op's builder"));
    slots_[v] = forced_slots_[v];
    return *slots_[v];
  }
  slots_[v] = Slot{new_buffer(md), 0, md, scale};
  return *slots_[v];
}

bool GraphBuilder::can_overwrite(ir::ValueId v, const dnnl::memory::desc& md) {
  if (v == ir::kNoValue || graph_.value(v).is_constant() || reads_left_.at(v) != 1) return false;
  if (layout_open(v)) return true;
  return slots_.at(v) && slots_[v]->md == md;
}

Slot GraphBuilder::write_over(ir::ValueId out, ir::ValueId in, const dnnl::memory::desc& md, float scale) {
  if (layout_open(in)) slots_[in] = Slot{new_buffer(md), 0, md};
  Slot slot = stored(in);
  slot.scale = scale;
  slots_.at(out) = slot;
  return slot;
}

void GraphBuilder::copy_into(ir::ValueId v, const Slot& destination, const std::string& node_name) {
  if (layout_open(v)) slots_[v] = Slot{new_buffer(destination.md), 0, destination.md};
  const Slot from = stored(v);
  dnnl::reorder::primitive_desc pd(engine_, from.md, engine_, destination.md,
                                   scaled(attr(), from.scale, destination.scale));
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
    const Slot slot = stored(inputs[i]);  // an input nobody chose a layout for is plain
    const dnnl::memory::desc user_md = plain_desc(to_dims(value.shape));
    user_inputs.push_back(dnnl::memory(user_md, engine_, nullptr));
    dnnl::reorder::primitive_desc pd(engine_, user_md, engine_, slot.md, scaled(attr(), 1.f, slot.scale));
    Step step;
    step.primitive = dnnl::reorder(pd);
    step.args[DNNL_ARG_FROM] = user_inputs.back();
    step.arena_args = {{DNNL_ARG_TO, slot}};
    if (pd.scratchpad_desc().get_size() > 0) step.scratchpad = pd.scratchpad_desc();
    step.info = LayerInfo{"input:" + value.name, "Reorder", onednn_kernel_name(pd), Precision::fp32,
                          describe_layout(slot.md),
                          slot.md.data_type() == dnnl::memory::data_type::f32    ? "graph input from nchw"
                          : slot.md.data_type() == dnnl::memory::data_type::bf16 ? "graph input from nchw, converted"
                                                                                  : "graph input from nchw, quantised"};
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
