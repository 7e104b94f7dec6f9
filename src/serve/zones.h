// Zones of live crowd counting: polygons of the frame in which the density map is counted, each with an optional
// limit that raises and clears an alert with hysteresis. A zones file is JSON:
//   {"zones": [{"name": "gate", "polygon": [[x, y], ...], "normalized": true, "limit": 40, "margin": 4, "frames": 3}]}
// Coordinates are frame pixels (the frame spans 0..width x 0..height), or fractions of the frame's width and
// height when "normalized" is true.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crowdrt::serve {

struct Point {
  double x = 0, y = 0;
};

struct Zone {
  std::string name;
  std::vector<Point> polygon;  // a simple polygon, at least 3 points, not closed (no repeated first point)
  bool normalized = false;
  std::optional<double> limit;  // people; no limit: the zone is counted and never alerts
  double margin = 0;            // the alert leaves below limit - margin; default 10 % of the limit
  int frames = 3;               // frames in a row above (below) before an alert enters (leaves)
};

// Throws Error, one line naming the file, the zone (by name and index) and what to do, on anything but a
// well-formed zones file. A ring closed by repeating its first point is accepted and opened.
std::vector<Zone> parse_zones(std::string_view json_text, const std::string& file);
std::vector<Zone> read_zones(const std::string& file);

// Each zone as weights over the density map: a density pixel's weight is the fraction of its area that the
// polygon covers, so zones that partition the frame add up to the frame's count.
class ZoneMasks {
 public:
  // Throws Error when a zone in pixel coordinates leaves the frame_width x frame_height frame.
  ZoneMasks(const std::vector<Zone>& zones, int frame_width, int frame_height, int map_width, int map_height);

  // Each zone's count: sum of weight * density / 100. Throws Error when w x h is not the map size given above.
  std::vector<double> counts(const float* density, int w, int h) const;
  // The fraction of density pixel (x, y) inside zone `zone`.
  double weight(size_t zone, int x, int y) const;
  size_t size() const { return masks_.size(); }

 private:
  struct Mask {  // dense weights over the polygon's bounding box in the density map
    int x0 = 0, y0 = 0, width = 0, height = 0;
    std::vector<double> weights;
  };
  int map_width_, map_height_;
  std::vector<Mask> masks_;
};

enum class AlertKind { enter, leave };
const char* alert_kind_name(AlertKind kind);  // "enter", "leave"

struct AlertEvent {
  std::string zone;
  AlertKind kind = AlertKind::enter;
  int64_t frame = 0;
  double count = 0;
  double limit = 0;
};

// Per zone: "enter" once the count has been above the limit for `frames` frames in a row, "leave" once it has
// been below limit - margin for `frames` frames in a row. Zones without a limit never alert.
class ZoneAlerts {
 public:
  explicit ZoneAlerts(const std::vector<Zone>& zones);
  // counts: one per zone, in the zones' order. Throws Error on another number of counts.
  std::vector<AlertEvent> update(int64_t frame, const std::vector<double>& counts);
  bool alerting(size_t zone) const { return states_.at(zone).alerting; }

 private:
  struct State {
    std::string name;
    std::optional<double> limit;
    double margin = 0;
    int frames = 1;
    bool alerting = false;
    int run = 0;  // frames in a row on the far side of the threshold that would change `alerting`
  };
  std::vector<State> states_;
};

}  // namespace crowdrt::serve
