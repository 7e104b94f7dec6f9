// libFuzzer target: ONNX import, structure-aware (fuzz/onnx_mutator.h) and raw. Any bytes must give a graph or a
// crowdrt::Error; a graph the importer accepts has passed the validator (ir/validate.h), so constant folding and
// shape inference over it must end in a graph or an Error too, with no tensor over the fuzz build's size limit.
#include <cstddef>
#include <cstdint>
#include <span>

#include "fuzz_seed_files.h"
#include "ir/passes/passes.h"
#include "onnx/import.h"
#include "onnx_mutator.h"

namespace {
crowdrt::fuzz::SeedList seeds() {
  crowdrt::fuzz::SeedList out;
  for (const auto& [name, model] : crowdrt::fuzz::onnx_seeds())
    out.emplace_back(name + ".onnx", model.SerializeAsString());
  return out;
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) { return crowdrt::fuzz::initialise(seeds); }

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
  return crowdrt::fuzz::OnnxMutator(seed).mutate(data, size, max_size);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    crowdrt::ir::Graph graph = crowdrt::onnx_import::import_onnx_bytes(
        std::span<const std::byte>(reinterpret_cast<const std::byte*>(data), size), "fuzz.onnx");
    graph = crowdrt::ir::fold_constants(std::move(graph));
    graph = crowdrt::ir::remove_identity(std::move(graph));
    graph = crowdrt::ir::remove_dead(std::move(graph));
  } catch (const crowdrt::Error&) {
  }
  return 0;
}
