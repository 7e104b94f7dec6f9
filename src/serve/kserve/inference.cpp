#include "serve/kserve/inference.h"

#include <chrono>
#include <optional>
#include <opencv2/core.hpp>

#include "eval/metrics.h"

namespace crowdrt::serve::kserve {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }
constexpr int64_t kMaxFrameSide = 16384;

struct DensityNetwork {
  int width, height, channels;
  Shape map;  // one frame's density map: 1x1xhxw
};

// The counting model needs a density network: one BxCxHxW input (C = 3 or 5) and one Bx1xhxw output, B the plan's
// batch (1, or B > 1 for frames of different sequences batched together).
DensityNetwork density_network(const Model& model, const ModelVersion& version) {
  const auto fail = [&](const std::string& why) -> DensityNetwork {
    throw ProtocolError(400, cat("model '", model.name, "' has no counting model: its plan ", why,
                                 "; infer on '", model.name, "' itself"));
  };
  if (version.inputs.size() != 1 || version.outputs.size() != 1) return fail("has not one input and one output");
  const Shape& in = version.inputs[0].shape;
  const Shape& out = version.outputs[0].shape;
  const int64_t b = version.batch;
  if (in.size() != 4 || in[0] != b || (in[1] != 3 && in[1] != 5))
    return fail(cat("takes ", shape_str(in), ", not Bx5xHxW or Bx3xHxW"));
  if (out.size() != 4 || out[0] != b || out[1] != 1)
    return fail(cat("gives ", shape_str(out), ", not a Bx1xHxW density map"));
  return {static_cast<int>(in[3]), static_cast<int>(in[2]), static_cast<int>(in[1]), Shape{1, 1, out[2], out[3]}};
}

// A batched plan's tensor as the protocol shows it: any batch (-1) up front; others as they are.
Shape shown_shape(const ModelVersion& version, Shape shape) {
  if (version.batcher) shape[0] = -1;
  return shape;
}

nlohmann::json tensor_metadata(const std::string& name, const std::string& datatype, const Shape& shape) {
  return {{"name", name}, {"datatype", datatype}, {"shape", shape}};
}

// sequence_id as text: a positive integer or a non-empty string (Triton's correlation ids take either).
std::string sequence_id_of(const nlohmann::json& parameters, const std::string& model) {
  if (parameters.contains("sequence_id")) {
    const nlohmann::json& id = parameters["sequence_id"];
    if (id.is_number_unsigned() && id.get<uint64_t>() > 0) return std::to_string(id.get<uint64_t>());
    if (id.is_string() && !id.get<std::string>().empty() && id.get<std::string>().size() <= 256)
      return id.get<std::string>();
  }
  throw ProtocolError(
      400, cat("model '", model,
               "' counts streams: give the parameter sequence_id (a positive integer or a "
               "string), with sequence_start: true on a stream's first frame and sequence_end: true on its last"));
}

}  // namespace

nlohmann::json model_metadata(const Model& model, const ModelVersion& version, bool counting) {
  nlohmann::json versions = nlohmann::json::array();
  for (const auto& [v, _] : model.versions) versions.push_back(std::to_string(v));
  nlohmann::json j = {{"name", counting ? model.name + kCountingSuffix : model.name},
                      {"versions", versions},
                      {"platform", counting ? "crowdrt_counting" : "crowdrt_plan"},
                      {"inputs", nlohmann::json::array()},
                      {"outputs", nlohmann::json::array()}};
  if (!counting) {
    for (const TensorInfo& t : version.inputs)
      j["inputs"].push_back(tensor_metadata(t.name, "FP32", shown_shape(version, t.shape)));
    for (const TensorInfo& t : version.outputs)
      j["outputs"].push_back(tensor_metadata(t.name, "FP32", shown_shape(version, t.shape)));
    if (version.batcher) j["parameters"] = {{"max_batch_size", version.batch}};
    return j;
  }
  const DensityNetwork net = density_network(model, version);
  j["inputs"].push_back(tensor_metadata("frame", "UINT8", {-1, -1, 3}));
  j["outputs"] = {tensor_metadata("count", "FP64", {1}), tensor_metadata("density", "FP32", net.map),
                  tensor_metadata("zone_names", "BYTES", {-1}), tensor_metadata("zone_counts", "FP64", {-1}),
                  tensor_metadata("zone_alerts", "BYTES", {-1})};
  j["parameters"] = {{"sequence", true}};
  if (version.batcher) j["parameters"]["max_batch_size"] = version.batch;
  return j;
}

InferResponse infer_raw(const Model& model, const ModelVersion& version, const InferRequest& request,
                        Metrics& metrics) {
  // A batched plan takes its whole batch, or one item (leading dimension 1) batched with other requests.
  bool one_item = version.batcher != nullptr;
  for (const WireTensor& w : request.inputs) one_item = one_item && !w.shape.empty() && w.shape[0] == 1;
  const auto expected = [&](const TensorInfo& t) {
    Shape s = t.shape;
    if (one_item) s[0] = 1;
    return s;
  };
  std::vector<const float*> inputs;
  std::string names;
  for (const TensorInfo& t : version.inputs)
    names += cat(names.empty() ? "" : ", ", t.name, " (FP32 ", shape_str(shown_shape(version, t.shape)), ")");
  for (const TensorInfo& info : version.inputs) {
    const WireTensor* given = nullptr;
    for (const WireTensor& w : request.inputs)
      if (w.name == info.name) given = &w;
    if (!given)
      throw ProtocolError(400, cat("model '", model.name, "' needs input '", info.name, "'; its inputs: ", names));
    if (given->datatype != "FP32")
      throw ProtocolError(400, cat("input '", info.name, "' is FP32, not ", given->datatype));
    if (given->shape != expected(info)) {
      if (!version.batcher)
        throw ProtocolError(400, cat("input '", info.name, "' has shape ", nlohmann::json(info.shape).dump(), ", not ",
                                     nlohmann::json(given->shape).dump()));
      Shape one = info.shape;
      one[0] = 1;
      throw ProtocolError(400, cat("input '", info.name, "' has shape ", nlohmann::json(one).dump(),
                                   " (one item, batched with other requests) or ", nlohmann::json(info.shape).dump(),
                                   " (the plan's whole batch), not ", nlohmann::json(given->shape).dump(),
                                   "; every input takes the same batch"));
    }
    inputs.push_back(reinterpret_cast<const float*>(given->bytes.data()));
  }
  for (const WireTensor& w : request.inputs) {
    bool known = false;
    for (const TensorInfo& info : version.inputs) known = known || info.name == w.name;
    if (!known)
      throw ProtocolError(400, cat("model '", model.name, "' has no input '", w.name, "'; its inputs: ", names));
  }
  std::vector<Tensor> outputs;
  std::vector<float*> out_ptrs;
  for (const TensorInfo& t : version.outputs) {
    outputs.emplace_back(DType::f32, expected(t));
    out_ptrs.push_back(outputs.back().data<float>());
  }
  if (one_item) {
    const Batcher::Result r = version.batcher->run(inputs, out_ptrs);
    metrics.stage(model.name, "queue", r.queued_seconds);
    metrics.stage(model.name, "infer", r.compute_seconds);
    if (r.leader) metrics.batch(model.name, r.batch_items);
  } else {
    EnginePool::Lease lease = version.engines->acquire();
    metrics.stage(model.name, "queue", lease.waited_seconds());
    const auto t = Clock::now();
    lease.engine().infer(inputs, out_ptrs);
    metrics.stage(model.name, "infer", seconds_since(t));
  }
  InferResponse response;
  response.model_name = model.name;
  response.model_version = std::to_string(version.version);
  response.id = request.id;
  for (size_t i = 0; i < outputs.size(); ++i)
    response.outputs.push_back(float_tensor(version.outputs[i].name, outputs[i].shape(), outputs[i].data<float>()));
  return response;
}

InferResponse infer_counting(const Model& model, const ModelVersion& version, const InferRequest& request,
                             SequenceTable& sequences, Metrics& metrics) {
  const std::string name = model.name + kCountingSuffix;
  const DensityNetwork net = density_network(model, version);
  if (request.inputs.size() != 1 || request.inputs[0].name != "frame")
    throw ProtocolError(400, cat("model '", name, "' takes one input, 'frame' (UINT8, shape [height, width, 3], BGR)"));
  const WireTensor& frame = request.inputs[0];
  if (frame.datatype != "UINT8" || frame.shape.size() != 3 || frame.shape[2] != 3 || frame.shape[0] < 1 ||
      frame.shape[1] < 1 || frame.shape[0] > kMaxFrameSide || frame.shape[1] > kMaxFrameSide)
    throw ProtocolError(400, cat("input 'frame' must be UINT8 with shape [height, width, 3] (BGR, sides 1 to ",
                                 kMaxFrameSide, "), not ", frame.datatype, " ", nlohmann::json(frame.shape).dump()));
  const std::string id = sequence_id_of(request.parameters, name);
  const bool start = bool_parameter(request.parameters, "sequence_start", false);
  const bool end = bool_parameter(request.parameters, "sequence_end", false);
  std::vector<Zone> zones = model.config.zones;
  if (request.parameters.contains("zones")) {
    if (!start)
      throw ProtocolError(400, "the parameter zones is given with a sequence's first frame (sequence_start: true)");
    if (!request.parameters["zones"].is_string())
      throw ProtocolError(400, "the parameter zones is a string holding a zones file's JSON ({\"zones\": [...]})");
    try {
      zones = parse_zones(request.parameters["zones"].get<std::string>(), "parameter zones");
    } catch (const ProtocolError&) {
      throw;
    } catch (const Error& e) {
      throw ProtocolError(400, e.what());
    }
  }

  const auto queued = Clock::now();
  SequenceTable::Handle handle;
  if (start) {
    vision::NetworkInputOptions options;
    options.size = cv::Size(net.width, net.height);
    options.channels = net.channels;
    options.flow = model.config.flow;
    handle = sequences.start(name, id, [&] {
      auto s = std::make_shared<Sequence>(options);
      if (version.device_frames)
        s->device_input = std::make_unique<eval::DeviceStreamInput>(version.inputs[0].shape, options.flow);
      s->zones = zones;
      return s;
    });
  } else {
    handle = sequences.find(name, id);
  }
  const std::shared_ptr<Sequence>& sequence = handle.sequence;
  std::optional<Turn> turn(std::in_place, *sequence,
                           handle.ticket);  // this frame's turn: the frames before it are done
  if (sequence->ended)
    throw ProtocolError(
        400, cat("sequence ", id, " of model '", name, "' has ended: start it again with sequence_start: true"));
  const int width = static_cast<int>(frame.shape[1]), height = static_cast<int>(frame.shape[0]);
  const Shape& map = net.map;
  const int map_w = static_cast<int>(map[3]), map_h = static_cast<int>(map[2]);
  try {
    if (!sequence->zones.empty() && !sequence->masks) {
      sequence->masks.emplace(sequence->zones, width, height, map_w, map_h);
      sequence->alerts.emplace(sequence->zones);
      sequence->frame_width = width;
      sequence->frame_height = height;
    }
  } catch (const Error& e) {
    sequences.end(name, id, sequence);
    throw ProtocolError(400, e.what());
  }
  if (sequence->masks && (width != sequence->frame_width || height != sequence->frame_height))
    throw ProtocolError(400,
                        cat("sequence ", id, " has zones bound to ", sequence->frame_width, "x", sequence->frame_height,
                            " frames; this frame is ", width, "x", height, ": keep one frame size per sequence"));

  // The frame's bytes are the request's; cv::Mat only looks at them.
  const cv::Mat bgr(height, width, CV_8UC3, const_cast<std::byte*>(frame.bytes.data()));
  bool density_asked = false;
  for (const RequestedOutput& r : request.outputs) density_asked = density_asked || r.name == "density";
  Tensor density(DType::f32, map);
  double count = 0;
  auto t = Clock::now();
  if (sequence->device_input) {
    // On the GPU: with an engine held, the frame's preparation is queued on the sequence's own CUDA stream
    // (preprocess is its host part) and the engine's stream waits for it (infer includes what of the preparation is
    // still running). Preparing only while holding an engine keeps one host thread per engine, as eval's lanes do:
    // with preparations queued from more threads than engines, the lent H100 gave counts that differed from the
    // in-process ones by up to 0.3 (cause not found; bench/serve_gpu.sh checks every count).
    EnginePool::Lease lease = version.engines->acquire();
    metrics.stage(name, "queue", seconds_since(queued));
    t = Clock::now();
    sequence->device_input->submit(bgr);
    const double preprocess_s = seconds_since(t);
    t = Clock::now();
    count = sequence->device_input->count_on(lease.engine(), density_asked || sequence->masks ? &density : nullptr);
    metrics.stage(name, "infer", seconds_since(t));
    metrics.stage(name, "preprocess", preprocess_s);
  } else {
    const Tensor input = sequence->input.next(bgr);
    const double preprocess_s = seconds_since(t);
    if (version.batcher) {  // frames of other sequences may join this one's batch
      const Batcher::Result r = version.batcher->run({input.data<float>()}, {density.data<float>()});
      metrics.stage(name, "queue", seconds_since(queued) - preprocess_s - r.compute_seconds);
      metrics.stage(name, "infer", r.compute_seconds);
      if (r.leader) metrics.batch(model.name, r.batch_items);
    } else {
      EnginePool::Lease lease = version.engines->acquire();
      metrics.stage(name, "queue", seconds_since(queued) - preprocess_s);
      const float* in[] = {input.data<float>()};
      float* out[] = {density.data<float>()};
      t = Clock::now();
      lease.engine().infer(in, out);
      metrics.stage(name, "infer", seconds_since(t));
    }
    metrics.stage(name, "preprocess", preprocess_s);
    count = eval::count_of_density(density.span<float>());
  }
  ++sequence->frames;
  std::vector<std::string> alert_texts;
  std::vector<double> zone_counts;
  if (sequence->masks) {
    zone_counts = sequence->masks->counts(density.data<float>(), map_w, map_h);
    for (const AlertEvent& e : sequence->alerts->update(sequence->frames, zone_counts))
      alert_texts.push_back(cat(e.zone, ":", alert_kind_name(e.kind)));
  }
  const int64_t frame_number = sequence->frames;
  if (end) {
    sequence->ended = true;
    sequences.end(name, id, sequence);
  }
  turn.reset();
  metrics.frame(name);

  InferResponse response;
  response.model_name = name;
  response.model_version = std::to_string(version.version);
  response.id = request.id;
  response.parameters = {{"sequence_id", request.parameters["sequence_id"]}, {"sequence_frame", frame_number}};
  if (end) response.parameters["sequence_end"] = true;
  response.outputs.push_back(double_tensor("count", {count}));
  if (density_asked) response.outputs.push_back(float_tensor("density", map, density.data<float>()));
  if (!sequence->zones.empty() || request.outputs_given) {
    std::vector<std::string> names;
    for (const Zone& z : sequence->zones) names.push_back(z.name);
    response.outputs.push_back(string_tensor("zone_names", names));
    response.outputs.push_back(double_tensor("zone_counts", zone_counts));
    response.outputs.push_back(string_tensor("zone_alerts", alert_texts));
  }
  return response;
}

}  // namespace crowdrt::serve::kserve
