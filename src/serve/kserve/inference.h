// The two models served per plan: the raw network (the plan's FP32 inputs in, its outputs out) under the model's
// name, and the counting model <model>_counting, which takes one 8-bit BGR frame of any size per request as part of
// a sequence and returns its count (crowdrt eval's recipe: resize, DIS flow warm-started along the sequence, 5-channel
// packing, the engine, sum / 100), and on request the density map and each zone's count.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "serve/kserve/metrics.h"
#include "serve/kserve/model_repository.h"
#include "serve/kserve/protocol.h"
#include "serve/kserve/sequences.h"

namespace crowdrt::serve::kserve {

inline constexpr const char* kCountingSuffix = "_counting";

// The protocol's model metadata: name, versions, platform, inputs and outputs (name, datatype, shape; -1: any size).
nlohmann::json model_metadata(const Model& model, const ModelVersion& version, bool counting);

// ProtocolError 400 naming the input when names, datatypes or shapes differ from the plan's.
InferResponse infer_raw(const Model& model, const ModelVersion& version, const InferRequest& request, Metrics& metrics);

// Request parameters: sequence_id (a non-zero integer or a non-empty string), sequence_start, sequence_end (bools),
// zones (a zones file's JSON text, with sequence_start; default: the model config's zones). ProtocolError 400 for a
// frame that is not UINT8 [H, W, 3], a sequence that is not live, or bad zones; 429 when too many are live.
InferResponse infer_counting(const Model& model, const ModelVersion& version, const InferRequest& request,
                             SequenceTable& sequences, Metrics& metrics);

}  // namespace crowdrt::serve::kserve
