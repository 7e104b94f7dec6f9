// Reading trained weights from PyTorch checkpoints without running anything inside them.
// A .pth is read by a restricted unpickler that knows only what torch.save writes for tensors; any
// other Python global in the file is refused by name. safetensors files are read as well.
#pragma once
#include <cstddef>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace crowdrt::checkpoint {

// Tensors by name, in the order the file holds them; every tensor contiguous and owning its bytes.
struct StateDict {
  std::vector<std::pair<std::string, Tensor>> entries;
  // nullptr when no entry has that name.
  const Tensor* find(const std::string& name) const;
};

// A torch.save zip (.pth/.pt) or a .safetensors file, told apart by content, not by extension.
// Unwraps {'state_dict': ...} / {'model': ...} wrappers and DataParallel's "module." prefix.
StateDict read_checkpoint(const std::string& path);
// `what` names the source in error messages (usually the path).
StateDict read_pytorch_zip(std::span<const std::byte> bytes, const std::string& what);
StateDict read_safetensors(std::span<const std::byte> bytes, const std::string& what);

}  // namespace crowdrt::checkpoint
