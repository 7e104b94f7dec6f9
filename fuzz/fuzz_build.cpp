// libFuzzer target: the whole `crowdrt build` of small mutated models (fuzz/onnx_mutator.h) on the reference
// backend: import, validation, constant folding, the optimising passes, compile, the plan written and read back,
// and, when the model is small, one inference. Every step must end in a result or a crowdrt::Error.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <vector>

#include "engine/builder.h"
#include "engine/runtime.h"
#include "fuzz_seed_files.h"
#include "ir/graph_stats.h"
#include "onnx_mutator.h"

namespace {
// One inference only below this many multiply-accumulates, so that an execution stays in milliseconds.
constexpr int64_t kMaxRunMacs = 2'000'000;

crowdrt::fuzz::SeedList seeds() {
  crowdrt::fuzz::SeedList out;
  for (const auto& [name, model] : crowdrt::fuzz::onnx_seeds())
    out.emplace_back(name + ".onnx", model.SerializeAsString());
  return out;
}

const std::string& model_path() {
  static const std::string path = "/tmp/crowdrt-fuzz-build-" + std::to_string(getpid()) + ".onnx";
  return path;
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) { return crowdrt::fuzz::initialise(seeds); }

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
  return crowdrt::fuzz::OnnxMutator(seed).mutate(data, size, max_size);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  {
    std::ofstream out(model_path(), std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  try {
    crowdrt::BuildOptions options;
    options.device = "ref";
    options.threads = 1;
    options.time_tactics = false;
    const crowdrt::Plan plan = crowdrt::build_plan(model_path(), options);
    const std::vector<std::byte> bytes = crowdrt::serialize_plan(plan);
    crowdrt::Engine engine(crowdrt::parse_plan(bytes, "fuzz.plan"), crowdrt::RuntimeOptions{1}, "fuzz.plan");
    if (crowdrt::ir::graph_macs(engine.plan().graph) <= kMaxRunMacs && engine.inputs().size() == 1 &&
        engine.outputs().size() == 1) {
      engine.infer(crowdrt::Tensor(crowdrt::DType::f32, engine.inputs()[0].shape));
    }
  } catch (const crowdrt::Error&) {
  }
  return 0;
}
