// The restricted unpickler behind read_pytorch_zip (private to src/checkpoint; the fuzzer uses it).
// It builds a tree of plain values from a pickle and never imports or calls Python code: the only
// globals it accepts are those torch.save writes for a state_dict, each turned into data here.
#pragma once
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace crowdrt::checkpoint::pickle {

enum class Kind : uint8_t {
  none, boolean, integer, real, string, bytes, tuple, list, dict,
  global,   // one of the allowed callables below
  storage,  // a persistent id ('storage', <type>, key, location, numel)
  tensor,   // torch._utils._rebuild_tensor_v2 (or a Parameter around it), not yet read from its storage
};
const char* kind_name(Kind kind);

// The globals a state_dict needs; anything else is refused when the pickle names it.
enum class Callable : uint8_t { ordered_dict, rebuild_tensor_v2, rebuild_parameter, rebuild_parameter_with_state,
                                torch_size, storage_type };

struct Object {
  Kind kind = Kind::none;
  bool boolean = false;
  int64_t integer = 0;  // integer; storage: element count; tensor: storage offset
  double real = 0;
  std::string text;     // string, bytes, storage key, global's dotted name
  // tuple and list items; dict: key, value, key, value, ... in insertion order (duplicates kept,
  // the reader applies Python's last-wins rule); tensor: items[0] is its storage.
  std::vector<Object*> items;
  Callable callable = Callable::ordered_dict;  // global
  DType dtype = DType::f32;                    // storage type global, storage, tensor
  std::vector<int64_t> sizes, strides;         // tensor

  size_t dict_size() const { return items.size() / 2; }
};

// Owns every object of one pickle; objects point at each other (cycles included) only inside it.
class Pickle {
 public:
  const Object& root() const { return *root_; }

 private:
  friend Pickle unpickle(std::span<const std::byte>, const std::string&);
  std::unique_ptr<std::deque<Object>> objects_ = std::make_unique<std::deque<Object>>();
  Object* root_ = nullptr;
};

// Throws Error naming `what` for a refused global, a malformed or truncated pickle, or a limit hit.
Pickle unpickle(std::span<const std::byte> bytes, const std::string& what);

}  // namespace crowdrt::checkpoint::pickle
