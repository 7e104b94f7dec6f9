// Choosing the reader by a file's first bytes: the extension (.pth, .pt, .bin, .ckpt) says little.
#include <cstring>

#include "checkpoint/checkpoint.h"
#include "core/file.h"

namespace crowdrt::checkpoint {

const Tensor* StateDict::find(const std::string& name) const {
  for (const auto& [key, tensor] : entries)
    if (key == name) return &tensor;
  return nullptr;
}

StateDict read_checkpoint(const std::string& path) {
  const std::vector<std::byte> bytes = read_file(path);
  auto starts_with = [&](const char* magic, size_t n) {
    return bytes.size() >= n && std::memcmp(bytes.data(), magic, n) == 0;
  };
  // Zip local file header or (empty archive) end of central directory; legacy torch files start with a
  // protocol 2 pickle, which read_pytorch_zip recognises and explains.
  if (starts_with("PK\x03\x04", 4) || starts_with("PK\x05\x06", 4) || starts_with("\x80\x02\x8a\x0a", 4))
    return read_pytorch_zip(bytes, path);
  // safetensors: a little-endian header length, then a JSON object.
  if (bytes.size() >= 9 && bytes[8] == std::byte{'{'}) return read_safetensors(bytes, path);
  if (!bytes.empty() && bytes[0] == std::byte{0x80})
    throw Error(cat(path, ": is a plain pickle, not a torch.save checkpoint; save the weights with "
                    "torch.save(model.state_dict(), path)"));
  throw Error(cat(path, ": is neither a PyTorch checkpoint (torch.save zip) nor a safetensors file"));
}

}  // namespace crowdrt::checkpoint
