// Zone polygons as area weights over the density map. Each density pixel's weight is the exact area of the polygon
// clipped to the pixel's square (Sutherland-Hodgman against the square's four sides, then the shoelace formula), so
// a boundary pixel is shared between neighbouring zones in proportion and a partition of the frame loses nothing.
#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "serve/zones.h"

namespace crowdrt::serve {
namespace {

// Keeps the part of `polygon` on one side of the line x = bound (axis 0) or y = bound (axis 1).
std::vector<Point> clip(const std::vector<Point>& polygon, int axis, double bound, bool keep_greater) {
  std::vector<Point> out;
  const auto coordinate = [axis](Point p) { return axis == 0 ? p.x : p.y; };
  const auto inside = [&](Point p) { return keep_greater ? coordinate(p) >= bound : coordinate(p) <= bound; };
  const size_t n = polygon.size();
  for (size_t i = 0; i < n; ++i) {
    const Point a = polygon[i], b = polygon[(i + 1) % n];
    const bool a_in = inside(a), b_in = inside(b);
    if (a_in) out.push_back(a);
    if (a_in != b_in) {
      const double t = (bound - coordinate(a)) / (coordinate(b) - coordinate(a));
      Point crossing{a.x + t * (b.x - a.x), a.y + t * (b.y - a.y)};
      (axis == 0 ? crossing.x : crossing.y) = bound;
      out.push_back(crossing);
    }
  }
  return out;
}

double area(const std::vector<Point>& polygon) {
  double twice = 0;
  const size_t n = polygon.size();
  for (size_t i = 0; i < n; ++i) {
    const Point a = polygon[i], b = polygon[(i + 1) % n];
    twice += a.x * b.y - b.x * a.y;
  }
  return std::abs(twice) / 2;
}

std::string shown_name(const std::string& name) {
  std::string s = name.substr(0, 60);
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return s;
}

}  // namespace

ZoneMasks::ZoneMasks(const std::vector<Zone>& zones, int frame_width, int frame_height, int map_width, int map_height)
    : map_width_(map_width), map_height_(map_height) {
  if (frame_width < 1 || frame_height < 1 || map_width < 1 || map_height < 1)
    throw Error(cat("zones: frame ", frame_width, "x", frame_height, " and density map ", map_width, "x", map_height,
                    " must both be at least 1x1"));
  for (size_t z = 0; z < zones.size(); ++z) {
    const Zone& zone = zones[z];
    // Polygon in density-map pixels: map pixel (i, j) is the square [i, i+1] x [j, j+1].
    std::vector<Point> polygon;
    if (zone.polygon.size() < 3)
      throw Error(cat("zone \"", shown_name(zone.name), "\" (zones[", z, "]): polygon has ", zone.polygon.size(),
                      " points; a zone needs at least 3 (parse_zones checks this)"));
    for (size_t i = 0; i < zone.polygon.size(); ++i) {
      const Point p = zone.polygon[i];
      if (!std::isfinite(p.x) || !std::isfinite(p.y) || (zone.normalized && (p.x < 0 || p.x > 1 || p.y < 0 || p.y > 1)))
        throw Error(cat("zone \"", shown_name(zone.name), "\" (zones[", z, "]): polygon point ", i, " (", p.x, ", ",
                        p.y, ") is not finite or, normalized, outside 0..1 (parse_zones checks this)"));
      if (!zone.normalized && (p.x < 0 || p.x > frame_width || p.y < 0 || p.y > frame_height))
        throw Error(cat("zone \"", shown_name(zone.name), "\" (zones[", z, "]): polygon point ", i, " (", p.x, ", ",
                        p.y, ") is outside the ", frame_width, "x", frame_height,
                        " frame; give pixel coordinates within 0..", frame_width, " x 0..", frame_height,
                        " or normalized ones"));
      polygon.push_back(zone.normalized ? Point{p.x * map_width, p.y * map_height}
                                        : Point{p.x * map_width / frame_width, p.y * map_height / frame_height});
    }
    double min_x = polygon[0].x, max_x = min_x, min_y = polygon[0].y, max_y = min_y;
    for (const Point p : polygon) {
      min_x = std::min(min_x, p.x), max_x = std::max(max_x, p.x);
      min_y = std::min(min_y, p.y), max_y = std::max(max_y, p.y);
    }
    Mask mask;
    mask.x0 = std::clamp(static_cast<int>(std::floor(min_x)), 0, map_width - 1);
    mask.y0 = std::clamp(static_cast<int>(std::floor(min_y)), 0, map_height - 1);
    mask.width = std::clamp(static_cast<int>(std::ceil(max_x)), mask.x0 + 1, map_width) - mask.x0;
    mask.height = std::clamp(static_cast<int>(std::ceil(max_y)), mask.y0 + 1, map_height) - mask.y0;
    mask.weights.assign(static_cast<size_t>(mask.width) * mask.height, 0.0);
    for (int row = 0; row < mask.height; ++row) {
      const int y = mask.y0 + row;
      const std::vector<Point> band = clip(clip(polygon, 1, y, true), 1, y + 1, false);
      if (band.size() < 3) continue;
      for (int column = 0; column < mask.width; ++column) {
        const int x = mask.x0 + column;
        const std::vector<Point> cell = clip(clip(band, 0, x, true), 0, x + 1, false);
        if (cell.size() >= 3) mask.weights[static_cast<size_t>(row) * mask.width + column] = std::min(1.0, area(cell));
      }
    }
    masks_.push_back(std::move(mask));
  }
}

std::vector<double> ZoneMasks::counts(const float* density, int w, int h) const {
  if (w != map_width_ || h != map_height_)
    throw Error(cat("zones: the density map is ", w, "x", h, " but the zones were laid over a ", map_width_, "x",
                    map_height_, " map; build ZoneMasks for this map size"));
  std::vector<double> counts;
  counts.reserve(masks_.size());
  for (const Mask& mask : masks_) {
    double sum = 0;
    for (int row = 0; row < mask.height; ++row) {
      const float* line = density + static_cast<size_t>(mask.y0 + row) * w + mask.x0;
      const double* weights = mask.weights.data() + static_cast<size_t>(row) * mask.width;
      for (int column = 0; column < mask.width; ++column) sum += weights[column] * line[column];
    }
    counts.push_back(sum / 100);
  }
  return counts;
}

double ZoneMasks::weight(size_t zone, int x, int y) const {
  const Mask& mask = masks_.at(zone);
  if (x < mask.x0 || x >= mask.x0 + mask.width || y < mask.y0 || y >= mask.y0 + mask.height) return 0;
  return mask.weights[static_cast<size_t>(y - mask.y0) * mask.width + (x - mask.x0)];
}

}  // namespace crowdrt::serve
