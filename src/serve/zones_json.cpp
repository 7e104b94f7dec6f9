#include "serve/zones_json.h"

#include "core/error.h"

namespace crowdrt::serve {

nlohmann::json frame_record(int64_t frame, double time_s, double count, const std::vector<Zone>& zones,
                            const std::vector<double>& counts, const std::vector<AlertEvent>& events) {
  if (counts.size() != zones.size())
    throw Error(cat("frame record: frame ", frame, " has ", counts.size(), " zone counts for ", zones.size(),
                    " zones; give one count per zone, in the zones' order"));
  nlohmann::json by_zone = nlohmann::json::object();
  for (size_t z = 0; z < zones.size(); ++z) by_zone[zones[z].name] = counts[z];
  nlohmann::json alerts = nlohmann::json::array();
  for (const AlertEvent& event : events)
    alerts.push_back(
        {{"zone", event.zone}, {"event", alert_kind_name(event.kind)}, {"count", event.count}, {"limit", event.limit}});
  return {{"frame", frame}, {"time", time_s}, {"count", count}, {"zones", by_zone}, {"alerts", alerts}};
}

}  // namespace crowdrt::serve
