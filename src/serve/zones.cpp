// The zones file: parsing and the checks that make each polygon one simple region.
#include "serve/zones.h"

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "core/file.h"

namespace crowdrt::serve {
namespace {

const char* const zones_file_example =
    R"({"zones": [{"name": "gate", "polygon": [[x, y], ...], "normalized": true, "limit": 40, "margin": 4, )"
    R"("frames": 3}]})";

// Keeps an error on one line whatever the file holds.
std::string shown(std::string_view text, size_t max_length = 60) {
  std::string s(text.substr(0, max_length));
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return text.size() > max_length ? s + "..." : s;
}

std::string number(double v) { return nlohmann::json(v).dump(); }

int orientation(Point a, Point b, Point c) {
  const double v = (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x);
  return (v > 0) - (v < 0);
}

// p is collinear with a-b: does it lie within the segment?
bool within(Point a, Point b, Point p) {
  return std::min(a.x, b.x) <= p.x && p.x <= std::max(a.x, b.x) && std::min(a.y, b.y) <= p.y &&
         p.y <= std::max(a.y, b.y);
}

// Closed segments a-b and c-d share at least one point.
bool segments_touch(Point a, Point b, Point c, Point d) {
  const int o1 = orientation(a, b, c), o2 = orientation(a, b, d), o3 = orientation(c, d, a), o4 = orientation(c, d, b);
  if (o1 != o2 && o3 != o4) return true;
  return (o1 == 0 && within(a, b, c)) || (o2 == 0 && within(a, b, d)) || (o3 == 0 && within(c, d, a)) ||
         (o4 == 0 && within(c, d, b));
}

class ZoneReader {
 public:
  ZoneReader(const std::string& file, size_t index) : file_(file), index_(index) {}

  Zone read(const nlohmann::json& entry, std::set<std::string>& names) {
    if (!entry.is_object())
      throw fail(cat("is ", entry.type_name(), ", not an object; write each zone as ", zones_file_example));
    static const std::set<std::string> known = {"name", "polygon", "normalized", "limit", "margin", "frames"};
    for (const auto& [key, value] : entry.items())
      if (!known.contains(key))
        throw fail(
            cat("unknown key \"", shown(key), "\"; a zone has name, polygon, normalized, limit, margin, frames"));
    Zone zone;
    const auto name = entry.find("name");
    if (name == entry.end() || !name->is_string() || name->get_ref<const std::string&>().empty())
      throw fail("has no name; give it \"name\": \"...\" (a non-empty string, unique in the file)");
    zone.name = name->get<std::string>();
    zone_name_ = zone.name;
    if (!names.insert(zone.name).second) throw fail("repeats the name of an earlier zone; give each zone its own name");
    if (const auto n = entry.find("normalized"); n != entry.end()) {
      if (!n->is_boolean()) throw fail("\"normalized\" must be true or false");
      zone.normalized = n->get<bool>();
    }
    read_polygon(entry, zone);
    if (const auto l = entry.find("limit"); l != entry.end()) zone.limit = non_negative(*l, "limit");
    zone.margin = zone.limit ? *zone.limit / 10 : 0;
    if (const auto m = entry.find("margin"); m != entry.end()) {
      zone.margin = non_negative(*m, "margin");
      if (zone.limit && zone.margin > *zone.limit)
        throw fail(cat("margin ", number(zone.margin), " is larger than its limit ", number(*zone.limit),
                       "; the alert could never leave. Give a margin from 0 to the limit"));
    }
    if (const auto f = entry.find("frames"); f != entry.end()) {
      if (!f->is_number_integer() || f->get<int64_t>() < 1 || f->get<int64_t>() > std::numeric_limits<int>::max())
        throw fail(cat("\"frames\" is ", shown(f->dump()), "; give a whole number of frames from 1"));
      zone.frames = static_cast<int>(f->get<int64_t>());
    }
    return zone;
  }

 private:
  Error fail(const std::string& what) const {
    return Error(cat(file_, ": ", zone_name_.empty() ? "" : cat("zone \"", shown(zone_name_), "\" "), "(zones[", index_,
                     "]) ", what));
  }

  double non_negative(const nlohmann::json& v, const char* key) const {
    if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < 0)
      throw fail(cat("\"", key, "\" is ", shown(v.dump()), "; give a number of people from 0"));
    return v.get<double>();
  }

  void read_polygon(const nlohmann::json& entry, Zone& zone) {
    const auto polygon = entry.find("polygon");
    if (polygon == entry.end() || !polygon->is_array())
      throw fail("has no \"polygon\" array; give its corners as [[x, y], ...]");
    for (size_t i = 0; i < polygon->size(); ++i) {
      const nlohmann::json& p = (*polygon)[i];
      if (!p.is_array() || p.size() != 2 || !p[0].is_number() || !p[1].is_number())
        throw fail(cat("polygon point ", i, " is ", shown(p.dump()), ", not [x, y]"));
      const Point point{p[0].get<double>(), p[1].get<double>()};
      if (!std::isfinite(point.x) || !std::isfinite(point.y))
        throw fail(cat("polygon point ", i, " is not finite; give finite coordinates"));
      if (zone.normalized && (point.x < 0 || point.x > 1 || point.y < 0 || point.y > 1))
        throw fail(cat("polygon point ", i, " (", number(point.x), ", ", number(point.y),
                       ") is outside 0..1; normalized coordinates are fractions of the frame's width and height"));
      zone.polygon.push_back(point);
    }
    std::vector<Point>& points = zone.polygon;
    if (points.size() > 3 && points.front().x == points.back().x && points.front().y == points.back().y)
      points.pop_back();
    const size_t n = points.size();
    if (n < 3) throw fail(cat("polygon has ", n, " point", n == 1 ? "" : "s", "; a zone needs at least 3"));
    for (size_t i = 0; i < n; ++i)
      if (points[i].x == points[(i + 1) % n].x && points[i].y == points[(i + 1) % n].y)
        throw fail(cat("polygon points ", i, " and ", (i + 1) % n, " are the same; remove one"));
    for (size_t i = 0; i < n; ++i) {
      const Point a = points[i], b = points[(i + 1) % n], c = points[(i + 2) % n];
      // The next edge folds back over this one.
      if (orientation(a, b, c) == 0 && (a.x - b.x) * (c.x - b.x) + (a.y - b.y) * (c.y - b.y) > 0)
        throw fail(cat("polygon edges at point ", (i + 1) % n, " fold back over each other; remove that point"));
    }
    for (size_t i = 0; i < n; ++i)
      for (size_t j = i + 2; j < n; ++j) {
        if (i == 0 && j == n - 1) continue;  // adjacent through the closing edge
        if (segments_touch(points[i], points[i + 1], points[j], points[(j + 1) % n]))
          throw fail(cat("polygon crosses itself: edge ", i, "-", i + 1, " meets edge ", j, "-", (j + 1) % n,
                         "; list the corners in order around the zone"));
      }
  }

  const std::string& file_;
  size_t index_;
  std::string zone_name_;
};

}  // namespace

std::vector<Zone> parse_zones(std::string_view json_text, const std::string& file) {
  nlohmann::json document;
  try {
    document = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for a number such as 1e999
    std::string why = e.what();
    if (const size_t end = why.find("] "); why.starts_with("[json.exception") && end != std::string::npos)
      why = why.substr(end + 2);
    throw Error(cat(file, ": not JSON (", shown(why, 200), "); a zones file looks like ", zones_file_example));
  }
  if (!document.is_object() || !document.contains("zones") || !document["zones"].is_array())
    throw Error(cat(file, ": no \"zones\" array; a zones file looks like ", zones_file_example));
  for (const auto& [key, value] : document.items())
    if (key != "zones") throw Error(cat(file, ": unknown key \"", shown(key), "\"; a zones file holds \"zones\" only"));
  const nlohmann::json& entries = document["zones"];
  if (entries.empty())
    throw Error(cat(file, ": the \"zones\" list is empty; give at least one zone, e.g. ", zones_file_example));
  std::vector<Zone> zones;
  std::set<std::string> names;
  for (size_t i = 0; i < entries.size(); ++i) zones.push_back(ZoneReader(file, i).read(entries[i], names));
  return zones;
}

std::vector<Zone> read_zones(const std::string& file) {
  const std::vector<std::byte> bytes = read_file(file);
  return parse_zones(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), file);
}

}  // namespace crowdrt::serve
