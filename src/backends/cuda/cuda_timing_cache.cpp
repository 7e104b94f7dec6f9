#include "backends/cuda/cuda_timing_cache.h"

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/file.h"
#include "core/log.h"

namespace crowdrt::cuda {

TimingCache::TimingCache(std::string path, std::string device) : path_(std::move(path)), device_(std::move(device)) {
  if (path_.empty() || !file_exists(path_)) return;
  const std::vector<std::byte> bytes = read_file(path_);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(reinterpret_cast<const char*>(bytes.data()),
                              reinterpret_cast<const char*>(bytes.data()) + bytes.size());
  } catch (const nlohmann::json::exception& e) {
    throw Error(cat(path_, ": not a crowdrt timing cache (", e.what(), "); delete it or pass another --timing-cache"));
  }
  if (!j.is_object() || j.value("format", "") != "crowdrt-timing-cache" || !j.contains("tactics") ||
      !j["tactics"].is_object())
    throw Error(cat(path_, ": not a crowdrt timing cache; delete it or pass another --timing-cache"));
  const std::string made_on = j.value("device", "");
  if (made_on != device_) {
    log_warn(cat(path_, ": timing cache made on '", made_on, "', not this device; timing again and replacing it"));
    changed_ = true;
    return;
  }
  for (const auto& [key, tactic] : j["tactics"].items())
    if (tactic.is_string()) tactics_[key] = tactic.get<std::string>();
}

const std::string* TimingCache::find(const std::string& key) const {
  const auto it = tactics_.find(key);
  return it == tactics_.end() ? nullptr : &it->second;
}

void TimingCache::put(const std::string& key, const std::string& tactic) {
  tactics_[key] = tactic;
  changed_ = true;
}

void TimingCache::save() const {
  if (path_.empty() || !changed_) return;
  nlohmann::json j = {{"format", "crowdrt-timing-cache"}, {"device", device_}, {"tactics", tactics_}};
  const std::string text = j.dump(1);
  write_file_atomic(path_, std::as_bytes(std::span(text.data(), text.size())));
}

}  // namespace crowdrt::cuda
