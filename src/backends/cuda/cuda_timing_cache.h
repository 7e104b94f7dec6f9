// The timing cache: the tactic the builder timed fastest for each convolution problem on one device, kept in a
// JSON file so that rebuilding a model (or another model with the same layers) skips the timing, as
// TensorRT's timing cache does. A cache made on another device is ignored with a warning.
#pragma once
#include <map>
#include <string>

namespace crowdrt::cuda {

class TimingCache {
 public:
  // An empty path: no file (nothing read or written). Error when the file exists but is not a timing cache.
  TimingCache(std::string path, std::string device);
  const std::string* find(const std::string& key) const;
  void put(const std::string& key, const std::string& tactic);
  // Writes the file when entries were added (atomically); no-op without a path.
  void save() const;
  size_t size() const { return tactics_.size(); }

 private:
  std::string path_, device_;
  std::map<std::string, std::string> tactics_;
  bool changed_ = false;
};

}  // namespace crowdrt::cuda
