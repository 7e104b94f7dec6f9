// Zone alerts with hysteresis: a count must stay past the threshold for `frames` frames in a row before the alert
// changes, and leaving needs the count to fall `margin` below the limit, so a count hovering at the limit or a
// one-frame spike raises no stream of enter / leave events.
#include "core/error.h"
#include "serve/zones.h"

namespace crowdrt::serve {

const char* alert_kind_name(AlertKind kind) { return kind == AlertKind::enter ? "enter" : "leave"; }

ZoneAlerts::ZoneAlerts(const std::vector<Zone>& zones) {
  for (const Zone& zone : zones)
    states_.push_back({.name = zone.name, .limit = zone.limit, .margin = zone.margin, .frames = zone.frames});
}

std::vector<AlertEvent> ZoneAlerts::update(int64_t frame, const std::vector<double>& counts) {
  if (counts.size() != states_.size())
    throw Error(cat("zone alerts: frame ", frame, " has ", counts.size(), " zone counts for ", states_.size(),
                    " zones; give one count per zone, in the zones' order"));
  std::vector<AlertEvent> events;
  for (size_t z = 0; z < states_.size(); ++z) {
    State& state = states_[z];
    if (!state.limit) continue;
    const double count = counts[z];
    const bool past = state.alerting ? count < *state.limit - state.margin : count > *state.limit;
    state.run = past ? state.run + 1 : 0;
    if (state.run < state.frames) continue;
    state.alerting = !state.alerting;
    state.run = 0;
    events.push_back({.zone = state.name,
                      .kind = state.alerting ? AlertKind::enter : AlertKind::leave,
                      .frame = frame,
                      .count = count,
                      .limit = *state.limit});
  }
  return events;
}

}  // namespace crowdrt::serve
