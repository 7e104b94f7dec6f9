#include "backends/cpu/cpu_backend.h"

#include <oneapi/dnnl/dnnl.hpp>
#include <algorithm>

#include "backends/cpu/cpu_graph.h"
#include "backends/cpu/cpu_layout.h"
#include "backends/cpu/cpu_support.h"

namespace crowdrt {
namespace {

const char* isa_name(dnnl::cpu_isa isa) {
  using dnnl::cpu_isa;
  switch (isa) {
    case cpu_isa::sse41: return "sse41";
    case cpu_isa::avx: return "avx";
    case cpu_isa::avx2: return "avx2";
    case cpu_isa::avx2_vnni: return "avx2_vnni";
    case cpu_isa::avx512_mic: return "avx512_mic";
    case cpu_isa::avx512_mic_4ops: return "avx512_mic_4ops";
    case cpu_isa::avx512_core: return "avx512_core";
    case cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case cpu_isa::avx512_core_amx: return "avx512_core_amx";
    default: return "generic";
  }
}

const char* architecture() {
#if defined(__x86_64__) || defined(_M_X64)
  return "x86_64";
#elif defined(__aarch64__)
  return "aarch64";
#else
  return "unknown";
#endif
}

}  // namespace

std::string CpuBackend::device_fingerprint() const {
  return cat("cpu:", architecture(), ":", isa_name(dnnl::get_effective_cpu_isa()));
}

bool CpuBackend::supports(const ir::Graph& graph, const ir::Node& node, Precision precision) const {
  return cpu::node_supported(graph, node, precision);
}

bool CpuBackend::concat_in_place(const ir::Graph& graph, const ir::Node& concat) const {
  return cpu::concat_can_be_in_place(graph, concat);
}

std::unique_ptr<CompiledGraph> CpuBackend::compile(const ir::Graph& graph, const CompileOptions& options) const {
  return cpu::compile_graph(graph, options);
}

}  // namespace crowdrt
