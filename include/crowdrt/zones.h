// Zones: polygons of the frame whose people are counted apart (Engine::count(frame, zones), `crowdrt run --zones`).
// The zones file is JSON:
//   {"zones": [{"name": "gate", "polygon": [[x, y], ...], "normalized": true, "limit": 40}]}
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "crowdrt/export.h"

namespace crowdrt {
inline namespace v0 {

struct ZonePoint {
  double x = 0;
  double y = 0;
};

struct Zone {
  std::string name;                // unique among the zones
  std::vector<ZonePoint> polygon;  // a simple polygon: at least 3 corners in order, not crossing itself
  bool normalized = false;         // corners in fractions of the frame's width and height; else frame pixels
  std::optional<double> limit;     // people; alerts of `crowdrt run` (counting ignores it)
  std::optional<double> margin;    // an alert leaves below limit - margin (default 10 % of the limit)
  int frames = 3;                  // frames in a row before an alert enters or leaves
};

// A frame's count and each zone's, in the order the zones were given. A zone's count is the density summed over
// the part of each density pixel its polygon covers, so zones that partition the frame add up to its count.
struct ZoneCounts {
  double count = 0;
  std::vector<double> zones;
};

// The zones of a zones file. Error, one line naming the file and the zone, for anything but a well-formed file
// (not JSON, unknown keys, a polygon that crosses itself or has fewer than 3 corners, a repeated name, ...).
CROWDRT_API std::vector<Zone> read_zones(const std::string& path);

}  // namespace v0
}  // namespace crowdrt
