// One JSON Lines record per counted frame, with each zone's count and the alerts that frame raised:
//   {"frame": 1, "time": 0.04, "count": 12.3, "zones": {"gate": 4.1}, "alerts": [{"zone": "gate", "event": "enter",
//    "count": 41.2, "limit": 40}]}
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "serve/zones.h"

namespace crowdrt::serve {

// counts: one per zone, in the zones' order (Error otherwise). "alerts" is always present, empty on most frames.
nlohmann::json frame_record(int64_t frame, double time_s, double count, const std::vector<Zone>& zones,
                            const std::vector<double>& counts, const std::vector<AlertEvent>& events);

}  // namespace crowdrt::serve
