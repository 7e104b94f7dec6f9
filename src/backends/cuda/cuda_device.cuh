// Device-side helpers our kernels share: shared-memory addresses and cp.async copies (cuda_conv_tf32x3.cu,
// cuda_conv_stem.cu, cuda_conv_chain.cu), and the store of one value in a View's storage type (int8: saturate(
// round(v / scale)), the rounding every int8 store of the backend uses).
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#include "backends/cuda/cuda_kernels.h"

namespace crowdrt::cuda::device {

__device__ __forceinline__ uint32_t shared_address(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// 16 bytes from global to shared memory without passing through registers; zeros where `valid` is false (nothing
// is read then).
__device__ __forceinline__ void copy16(void* dst, const void* src, bool valid) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(shared_address(dst)), "l"(src),
               "r"(valid ? 16 : 0));
}
__device__ __forceinline__ void commit() { asm volatile("cp.async.commit_group;\n" ::); }

__device__ __forceinline__ void store(const View& v, int64_t at, float x) {
  switch (v.type) {
    case StorageType::f16: static_cast<__half*>(v.data)[at] = __float2half_rn(x); break;
    case StorageType::bf16: static_cast<__nv_bfloat16*>(v.data)[at] = __float2bfloat16_rn(x); break;
    case StorageType::i8:
      static_cast<int8_t*>(v.data)[at] = static_cast<int8_t>(min(max(__float2int_rn(x / v.scale), -128), 127));
      break;
    default: static_cast<float*>(v.data)[at] = x;
  }
}

}  // namespace crowdrt::cuda::device
