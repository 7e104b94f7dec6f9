// torch.save's zip format (torch >= 1.6; torch/serialization.py, _save): <prefix>/data.pkl holds the
// pickled object, whose tensors point by persistent id at raw little-endian storages
// <prefix>/data/<key>; <prefix>/byteorder (newer torch) and <prefix>/version sit beside them.
#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "checkpoint/checkpoint.h"
#include "checkpoint/strided_view.h"
#include "checkpoint/unpickler.h"
#include "checkpoint/zip_archive.h"

namespace crowdrt::checkpoint {

namespace {

using pickle::Kind;
using pickle::Object;

// The legacy (torch < 1.6 or _use_new_zipfile_serialization=False) format starts with a protocol 2
// pickle of the magic number 0x1950a86a20f9469cfc6c (torch/serialization.py, MAGIC_NUMBER).
constexpr uint8_t legacy_magic[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};

bool starts_with(std::span<const std::byte> bytes, std::span<const uint8_t> prefix) {
  return bytes.size() >= prefix.size() && std::memcmp(bytes.data(), prefix.data(), prefix.size()) == 0;
}

[[noreturn]] void refuse_legacy(const std::string& what) {
  throw Error(cat(what, ": is in PyTorch's legacy (pre-1.6) format, which crowdrt does not read; re-save it in "
                  "Python: torch.save(torch.load(p), p2, _use_new_zipfile_serialization=True) (plain torch.save "
                  "with torch >= 1.6 does the same)"));
}

// The archive's top folder is named after the file torch.save first wrote to, so find it by data.pkl.
std::string find_prefix(const ZipArchive& archive, const std::string& what) {
  for (const std::string& name : archive.names()) {
    if (name == "data.pkl") return "";
    const size_t slash = name.find('/');
    if (slash != std::string::npos && name.compare(slash, std::string::npos, "/data.pkl") == 0)
      return name.substr(0, slash + 1);
  }
  throw Error(cat(what, ": is a zip archive without <folder>/data.pkl, so not a torch.save checkpoint; "
                  "save the weights with torch.save(model.state_dict(), path)"));
}

const Object* dict_value(const Object& dict, const std::string& key) {
  const Object* found = nullptr;  // Python's dict keeps the last value set for a key
  for (size_t i = 0; i + 1 < dict.items.size(); i += 2)
    if (dict.items[i]->kind == Kind::string && dict.items[i]->text == key) found = dict.items[i + 1];
  return found;
}

// The dict a wrapper key ('state_dict', then 'model') points at, if it holds tensors or wraps further.
const Object* wrapped(const Object& dict, int depth) {
  if (depth > 4) return nullptr;
  for (const char* wrapper : {"state_dict", "model"}) {
    const Object* v = dict_value(dict, wrapper);
    if (!v || v->kind != Kind::dict) continue;
    for (size_t i = 1; i < v->items.size(); i += 2)
      if (v->items[i]->kind == Kind::tensor) return v;
    if (wrapped(*v, depth + 1)) return v;
  }
  return nullptr;
}

// A training checkpoint often wraps the weights: {'state_dict': ..., 'epoch': ..., 'optimizer': ...}.
const Object& unwrap(const Object& root, const std::string& what) {
  const Object* object = &root;
  for (int depth = 0; depth < 4; ++depth) {
    if (object->kind != Kind::dict)
      throw Error(cat(what, ": holds a ", pickle::kind_name(object->kind), ", not a dict of tensors; save the "
                      "weights with torch.save(model.state_dict(), path)"));
    const Object* inner = wrapped(*object, 0);
    if (!inner) return *object;
    object = inner;
  }
  throw Error(cat(what, ": state_dict/model wrappers nest too deep; save model.state_dict() itself"));
}

std::string key_list(const Object& dict) {
  std::string keys;
  for (size_t i = 0; i + 1 < dict.items.size() && i < 20; i += 2)
    keys += (keys.empty() ? "" : ", ") + (dict.items[i]->kind == Kind::string ? dict.items[i]->text
                                                                              : pickle::kind_name(dict.items[i]->kind));
  return keys.empty() ? "none" : keys;
}

class StorageReader {
 public:
  StorageReader(const ZipArchive& archive, std::string prefix, const std::string& what)
      : archive_(archive), prefix_(std::move(prefix)), what_(what) {}

  std::span<const std::byte> bytes_of(const Object& storage) {
    const std::string name = prefix_ + "data/" + storage.text;
    uint64_t expected = 0;
    if (__builtin_mul_overflow(static_cast<uint64_t>(storage.integer), dtype_size(storage.dtype), &expected))
      throw Error(cat(what_, ": storage ", storage.text, " claims an impossible size; the file is damaged"));
    auto it = cache_.find(name);
    if (it == cache_.end()) {
      if (!archive_.contains(name))
        throw Error(cat(what_, ": storage ", name, " is missing from the archive; the file is damaged or truncated"));
      const uint64_t declared = archive_.declared_size(name);
      if (declared != expected)
        throw Error(cat(what_, ": storage ", name, " holds ", declared, " bytes, its tensors expect ", expected,
                        "; the file is damaged"));
      it = cache_.emplace(name, archive_.read(name, expected)).first;
    }
    if (it->second.size() != expected)
      throw Error(cat(what_, ": storage ", name, " holds ", it->second.size(), " bytes, its tensors expect ",
                      expected, "; the file is damaged"));
    return it->second;
  }

 private:
  const ZipArchive& archive_;
  std::string prefix_;
  const std::string& what_;
  std::unordered_map<std::string, std::vector<std::byte>> cache_;
};

}  // namespace

StateDict read_pytorch_zip(std::span<const std::byte> bytes, const std::string& what) {
  if (starts_with(bytes, legacy_magic)) refuse_legacy(what);
  ZipArchive archive(bytes, what);
  const std::string prefix = find_prefix(archive, what);
  if (archive.contains(prefix + "byteorder")) {
    const std::vector<std::byte> order = archive.read(prefix + "byteorder", 16);
    if (std::string(reinterpret_cast<const char*>(order.data()), order.size()) != "little")
      throw Error(cat(what, ": was saved on a big-endian machine, which crowdrt does not read; re-save it on a "
                      "little-endian (x86/ARM) machine"));
  }
  // The pickle holds names and shapes only (the storages are separate entries): a state_dict's is some kilobytes,
  // 64 MiB is far past any.
  const std::vector<std::byte> data = archive.read(prefix + "data.pkl", uint64_t{64} << 20);
  const pickle::Pickle pickled = pickle::unpickle(data, what);
  const Object& dict = unwrap(pickled.root(), what);

  StorageReader storages(archive, prefix, what);
  StateDict out;
  std::unordered_map<std::string, size_t> position;
  for (size_t i = 0; i + 1 < dict.items.size(); i += 2) {
    const Object& key = *dict.items[i];
    const Object& value = *dict.items[i + 1];
    if (value.kind != Kind::tensor) continue;  // epoch, optimizer state, _extra_state, ...
    if (key.kind != Kind::string)
      throw Error(cat(what, ": a tensor is stored under a ", pickle::kind_name(key.kind),
                      " key, not a name; save model.state_dict()"));
    const Object& storage = *value.items.at(0);
    Tensor tensor = copy_strided_view(storages.bytes_of(storage), value.dtype, value.integer, value.sizes,
                                      value.strides, cat(what, ": tensor '", key.text, "'"));
    auto [it, inserted] = position.emplace(key.text, out.entries.size());
    if (inserted)
      out.entries.emplace_back(key.text, std::move(tensor));
    else
      out.entries[it->second].second = std::move(tensor);
  }
  if (out.entries.empty())
    throw Error(cat(what, ": holds no tensors (keys: ", key_list(dict), "); save the weights with "
                    "torch.save(model.state_dict(), path)"));

  // nn.DataParallel / DistributedDataParallel name every parameter "module.<name>".
  const std::string data_parallel = "module.";
  if (std::all_of(out.entries.begin(), out.entries.end(),
                  [&](const auto& e) { return e.first.compare(0, data_parallel.size(), data_parallel) == 0; }))
    for (auto& e : out.entries) e.first.erase(0, data_parallel.size());
  return out;
}

}  // namespace crowdrt::checkpoint
