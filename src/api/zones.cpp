// Public zones (include/crowdrt/zones.h) over serve's: read from a file, or checked by serve's own parser (the same
// one-line errors naming the zone) after writing them in the file's JSON form.
#include "serve/zones.h"

#include <nlohmann/json.hpp>

#include "api/internal.h"

namespace crowdrt::internal {

std::vector<serve::Zone> checked_zones(const std::vector<v0::Zone>& zones, std::string* key) {
  nlohmann::json list = nlohmann::json::array();
  for (const v0::Zone& zone : zones) {
    nlohmann::json polygon = nlohmann::json::array();
    for (const v0::ZonePoint& p : zone.polygon) polygon.push_back({p.x, p.y});
    nlohmann::json entry = {
        {"name", zone.name}, {"polygon", polygon}, {"normalized", zone.normalized}, {"frames", zone.frames}};
    if (zone.limit) entry["limit"] = *zone.limit;
    if (zone.margin) entry["margin"] = *zone.margin;
    list.push_back(std::move(entry));
  }
  const std::string text = nlohmann::json{{"zones", list}}.dump();
  std::vector<serve::Zone> checked = serve::parse_zones(text, "zones");
  if (key) *key = text;
  return checked;
}

}  // namespace crowdrt::internal

namespace crowdrt::v0 {

std::vector<Zone> read_zones(const std::string& path) {
  std::vector<Zone> zones;
  for (const serve::Zone& z : serve::read_zones(path)) {
    Zone zone;
    zone.name = z.name;
    for (const serve::Point& p : z.polygon) zone.polygon.push_back({p.x, p.y});
    zone.normalized = z.normalized;
    zone.limit = z.limit;
    if (z.limit) zone.margin = z.margin;
    zone.frames = z.frames;
    zones.push_back(std::move(zone));
  }
  return zones;
}

}  // namespace crowdrt::v0
