// libFuzzer target: the zones parser must answer any bytes with zones or a crowdrt::Error, and the zones it accepts
// must rasterise, count and alert without a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "serve/zones.h"
#include "serve/zones_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const std::vector<crowdrt::serve::Zone> zones =
        crowdrt::serve::parse_zones(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.json");
    const crowdrt::serve::ZoneMasks masks(zones, 64, 48, 16, 12);
    const std::vector<float> density(16 * 12, 100.0f);
    const std::vector<double> counts = masks.counts(density.data(), 16, 12);
    crowdrt::serve::ZoneAlerts alerts(zones);
    for (int64_t frame = 1; frame <= 4; ++frame) {
      const std::vector<crowdrt::serve::AlertEvent> events = alerts.update(frame, counts);
      crowdrt::serve::frame_record(frame, frame * 0.04, 1.0, zones, counts, events).dump();
    }
  } catch (const crowdrt::Error&) {
  }
  return 0;
}
