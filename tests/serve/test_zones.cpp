#include <gtest/gtest.h>

#include <random>

#include "core/error.h"
#include "serve/zones.h"
#include "serve/zones_json.h"

using namespace crowdrt;
using namespace crowdrt::serve;

namespace {

Zone polygon_zone(const std::string& name, std::vector<Point> points, bool normalized = false) {
  Zone zone;
  zone.name = name;
  zone.polygon = std::move(points);
  zone.normalized = normalized;
  return zone;
}

std::string error_of(std::string_view text) {
  try {
    parse_zones(text, "z.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "(accepted)";
}

}  // namespace

TEST(ZonesParse, ReadsZonesWithDefaults) {
  const std::vector<Zone> zones = parse_zones(R"({"zones": [
      {"name": "gate", "polygon": [[0.1, 0.2], [0.5, 0.2], [0.5, 0.9]], "normalized": true, "limit": 40},
      {"name": "hall", "polygon": [[0, 0], [10, 0], [10, 5], [0, 0]]},
      {"name": "exit", "polygon": [[0, 0], [10, 0], [10, 5]], "limit": 8, "margin": 0.5, "frames": 1}]})",
                                              "z.json");
  ASSERT_EQ(zones.size(), 3u);
  EXPECT_EQ(zones[0].name, "gate");
  EXPECT_TRUE(zones[0].normalized);
  ASSERT_EQ(zones[0].polygon.size(), 3u);
  EXPECT_DOUBLE_EQ(zones[0].polygon[2].y, 0.9);
  EXPECT_EQ(zones[0].limit, 40.0);
  EXPECT_DOUBLE_EQ(zones[0].margin, 4.0);  // 10 % of the limit
  EXPECT_EQ(zones[0].frames, 3);
  EXPECT_FALSE(zones[1].normalized);
  EXPECT_FALSE(zones[1].limit.has_value());
  EXPECT_EQ(zones[1].polygon.size(), 3u);  // the closing repeat of the first point is dropped
  EXPECT_DOUBLE_EQ(zones[2].margin, 0.5);
  EXPECT_EQ(zones[2].frames, 1);
}

TEST(ZonesParse, MalformedFilesAreOneLineErrorsNamingFileAndZone) {
  const std::pair<const char*, const char*> cases[] = {
      {"{zones: 1", "z.json: not JSON"},
      {"[1, 2]", "z.json: no \"zones\" array"},
      {R"({"zone": []})", "z.json: no \"zones\" array"},
      {R"({"zones": {}})", "z.json: no \"zones\" array"},
      {R"({"zones": []})", "z.json: the \"zones\" list is empty"},
      {R"({"zones": [], "extra": 1})", "z.json: unknown key \"extra\""},
      {R"({"zones": [3]})", "(zones[0]) is number"},
      {R"({"zones": [{"name": "a", "polygon": [[0,0],[1,0],[0,1]], "colour": "red"}]})",
       "(zones[0]) unknown key \"colour\""},
      {R"({"zones": [{"polygon": [[0,0],[1,0],[0,1]]}]})", "(zones[0]) has no name"},
      {R"({"zones": [{"name": "", "polygon": [[0,0],[1,0],[0,1]]}]})", "(zones[0]) has no name"},
      {R"({"zones": [{"name": 7, "polygon": [[0,0],[1,0],[0,1]]}]})", "(zones[0]) has no name"},
      {R"({"zones": [{"name": "a", "polygon": [[0,0],[1,0],[0,1]]}, {"name": "a", "polygon": [[0,0],[1,0],[0,1]]}]})",
       "zone \"a\" (zones[1]) repeats the name"},
      {R"({"zones": [{"name": "a"}]})", "zone \"a\" (zones[0]) has no \"polygon\""},
      {R"({"zones": [{"name": "a", "polygon": [[0,0],[1,0]]}]})", "zone \"a\" (zones[0]) polygon has 2 points"},
      {R"({"zones": [{"name": "a", "polygon": [[0,0],[1,0],[0,0]]}]})", "zone \"a\" (zones[0]) polygon points 2 and 0"},
      {R"({"zones": [{"name": "a", "polygon": [[0,0],[1,0],[0,1,2]]}]})", "zone \"a\" (zones[0]) polygon point 2"},
      {R"({"zones": [{"name": "a", "polygon": [[0,0],[1,0],["0",1]]}]})", "zone \"a\" (zones[0]) polygon point 2"},
      {R"({"zones": [{"name": "a", "polygon": [[0,0],[1e999,0],[0,1]]}]})",
       "z.json: not JSON (number overflow parsing '1e999')"},
      {R"({"zones": [{"name": "a", "polygon": [[0,0],[1.5,0],[0,1]], "normalized": true}]})",
       "zone \"a\" (zones[0]) polygon point 1 (1.5, 0.0) is outside 0..1"},
      {R"({"zones": [{"name": "a", "polygon": [[0,0],[0.5,-0.1],[0,1]], "normalized": true}]})",
       "zone \"a\" (zones[0]) polygon point 1"},
      {R"({"zones": [{"name": "a", "polygon": [[0,0],[1,0],[0,1]], "normalized": 1}]})",
       "zone \"a\" (zones[0]) \"normalized\""},
      {R"({"zones": [{"name": "bow", "polygon": [[0,0],[2,2],[2,0],[0,2]]}]})",
       "zone \"bow\" (zones[0]) polygon crosses itself: edge 0-1 meets edge 2-3"},
      {R"({"zones": [{"name": "pinch", "polygon": [[0,0],[4,0],[2,2],[4,4],[0,4],[2,2]]}]})",
       "zone \"pinch\" (zones[0]) polygon crosses itself"},
      {R"({"zones": [{"name": "touch", "polygon": [[0,0],[4,0],[4,4],[2,0],[0,4]]}]})",
       "zone \"touch\" (zones[0]) polygon crosses itself"},
      {R"({"zones": [{"name": "flat", "polygon": [[0,0],[1,0],[2,0]]}]})",
       "zone \"flat\" (zones[0]) polygon edges at point"},
      {R"({"zones": [{"name": "a", "polygon": [[0,0],[1,0],[0,1]], "limit": -1}]})",
       "zone \"a\" (zones[0]) \"limit\" is -1"},
      {R"({"zones": [{"name": "a", "polygon": [[0,0],[1,0],[0,1]], "limit": "40"}]})",
       "zone \"a\" (zones[0]) \"limit\""},
      {R"({"zones": [{"name": "a", "polygon": [[0,0],[1,0],[0,1]], "limit": 4, "margin": -0.5}]})",
       "zone \"a\" (zones[0]) \"margin\" is -0.5"},
      {R"({"zones": [{"name": "a", "polygon": [[0,0],[1,0],[0,1]], "limit": 4, "margin": 5}]})",
       "zone \"a\" (zones[0]) margin 5.0 is larger than its limit"},
      {R"({"zones": [{"name": "a", "polygon": [[0,0],[1,0],[0,1]], "frames": 0}]})",
       "zone \"a\" (zones[0]) \"frames\" is 0"},
      {R"({"zones": [{"name": "a", "polygon": [[0,0],[1,0],[0,1]], "frames": 2.5}]})",
       "zone \"a\" (zones[0]) \"frames\""},
      {R"({"zones": [{"name": "a\nb", "polygon": [[0,0],[1,0]]}]})", "zone \"a?b\" (zones[0]) polygon has 2 points"},
  };
  for (const auto& [text, expected] : cases) {
    const std::string message = error_of(text);
    EXPECT_NE(message.find(expected), std::string::npos) << "for " << text << "\n got: " << message;
    EXPECT_EQ(message.rfind("z.json: ", 0), 0u) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

TEST(ZoneMasks, DiagonalTriangleHalvesTheDiagonalPixels) {
  // Frame and map 2x2; the triangle below the diagonal from (0,0) to (2,2) holds pixel (1,0) and half of (0,0), (1,1).
  const ZoneMasks masks({polygon_zone("t", {{0, 0}, {2, 0}, {2, 2}})}, 2, 2, 2, 2);
  EXPECT_DOUBLE_EQ(masks.weight(0, 0, 0), 0.5);
  EXPECT_DOUBLE_EQ(masks.weight(0, 1, 0), 1.0);
  EXPECT_DOUBLE_EQ(masks.weight(0, 0, 1), 0.0);
  EXPECT_DOUBLE_EQ(masks.weight(0, 1, 1), 0.5);
  const float density[] = {100, 200, 400, 800};  // row-major: (0,0) (1,0) (0,1) (1,1)
  EXPECT_DOUBLE_EQ(masks.counts(density, 2, 2)[0], 0.5 * 1 + 2 + 0.5 * 8);
}

TEST(ZoneMasks, FractionalRectangleEdgesGiveFractionalWeightsOnASmallerMap) {
  // Frame 8x8 over a 4x4 map: the rectangle (1,2)-(5.5,4) is (0.5,1)-(2.75,2) in map pixels.
  const ZoneMasks masks({polygon_zone("r", {{1, 2}, {5.5, 2}, {5.5, 4}, {1, 4}})}, 8, 8, 4, 4);
  const double row1[] = {0.5, 1.0, 0.75, 0.0};
  for (int x = 0; x < 4; ++x) {
    EXPECT_DOUBLE_EQ(masks.weight(0, x, 0), 0.0);
    EXPECT_DOUBLE_EQ(masks.weight(0, x, 1), row1[x]) << x;
    EXPECT_DOUBLE_EQ(masks.weight(0, x, 2), 0.0);
  }
  std::vector<float> density(16, 100.0f);
  EXPECT_DOUBLE_EQ(masks.counts(density.data(), 4, 4)[0], 2.25);
}

TEST(ZoneMasks, NormalizedCoordinatesAreFractionsOfTheFrame) {
  const ZoneMasks masks({polygon_zone("r", {{0.125, 0.25}, {0.6875, 0.25}, {0.6875, 0.5}, {0.125, 0.5}}, true)}, 640,
                        480, 4, 4);
  EXPECT_DOUBLE_EQ(masks.weight(0, 0, 1), 0.5);
  EXPECT_DOUBLE_EQ(masks.weight(0, 2, 1), 0.75);
}

class ZonePartition : public testing::TestWithParam<std::pair<int, int>> {};

// Frame 1920x1080 cut into a non-convex zone (a notch at (500,540)), a triangle below the diagonal from (800,0) to
// (1920,1080), and two triangles between them.
std::vector<Zone> partition_zones(bool normalized) {
  const std::vector<std::pair<std::string, std::vector<Point>>> pieces = {
      {"notched", {{0, 0}, {800, 0}, {500, 540}, {800, 1080}, {0, 1080}}},
      {"diagonal", {{800, 0}, {1920, 0}, {1920, 1080}}},
      {"upper", {{800, 0}, {1920, 1080}, {500, 540}}},
      {"lower", {{500, 540}, {1920, 1080}, {800, 1080}}}};
  std::vector<Zone> zones;
  for (auto [name, points] : pieces) {
    if (normalized)
      for (Point& p : points) p = {p.x / 1920, p.y / 1080};
    zones.push_back(polygon_zone(name, points, normalized));
  }
  return zones;
}

TEST_P(ZonePartition, ZonesOfAPartitionAddUpToTheFrameCount) {
  const auto [w, h] = GetParam();
  std::mt19937 random(7);
  std::uniform_real_distribution<float> uniform(0.0f, 2.0f);
  std::vector<float> density(static_cast<size_t>(w) * h);
  double total = 0;
  for (float& d : density) total += d = uniform(random);
  total /= 100;
  for (const bool normalized : {false, true}) {
    const ZoneMasks masks(partition_zones(normalized), 1920, 1080, w, h);
    const std::vector<double> counts = masks.counts(density.data(), w, h);
    ASSERT_EQ(counts.size(), 4u);
    double sum = 0;
    for (const double c : counts) {
      EXPECT_GT(c, 0.0);
      sum += c;
    }
    EXPECT_NEAR(sum, total, 1e-5) << (normalized ? "normalized" : "pixels");
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        double covered = 0;
        for (size_t z = 0; z < masks.size(); ++z) covered += masks.weight(z, x, y);
        ASSERT_NEAR(covered, 1.0, 1e-9) << x << "," << y;
      }
  }
}

INSTANTIATE_TEST_SUITE_P(MapSizes, ZonePartition,
                         testing::Values(std::pair{608, 342}, std::pair{97, 61}, std::pair{1, 1}, std::pair{240, 135}));

TEST(ZoneMasks, PixelPointsOutsideTheFrameAreAnErrorNamingTheZone) {
  try {
    ZoneMasks({polygon_zone("far", {{0, 0}, {2000, 0}, {0, 100}})}, 1920, 1080, 608, 342);
    FAIL() << "accepted";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("zone \"far\" (zones[0]): polygon point 1 (2000, 0) is outside the 1920x1080 frame"),
              std::string::npos)
        << message;
    EXPECT_EQ(message.find('\n'), std::string::npos);
  }
}

TEST(ZoneMasks, ADensityMapOfAnotherSizeIsAnError) {
  const ZoneMasks masks({polygon_zone("t", {{0, 0}, {2, 0}, {2, 2}})}, 2, 2, 2, 2);
  const float density[6] = {};
  EXPECT_THROW(masks.counts(density, 3, 2), Error);
}

TEST(ZoneAlerts, EnterAndLeaveOnlyAfterFramesInARowPastTheThresholds) {
  Zone gate = polygon_zone("gate", {{0, 0}, {1, 0}, {0, 1}});
  gate.limit = 10;
  gate.margin = 2;
  gate.frames = 3;
  Zone hall = polygon_zone("hall", {{0, 0}, {1, 0}, {0, 1}});  // no limit: never alerts
  ZoneAlerts alerts({gate, hall});
  // Counts of frames 1 to 16.
  const double gate_counts[] = {5, 11, 5, 10, 11, 12, 13, 9, 7, 7, 9, 7, 7, 7, 30, 5};
  std::vector<AlertEvent> events;
  for (int i = 0; i < 16; ++i)
    for (const AlertEvent& e : alerts.update(i + 1, {gate_counts[i], 1000.0})) events.push_back(e);
  // A one-frame spike (2, 15) and a count equal to the limit (4) do not count; 9 is not below 10 - 2.
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].zone, "gate");
  EXPECT_EQ(events[0].kind, AlertKind::enter);
  EXPECT_EQ(events[0].frame, 7);
  EXPECT_DOUBLE_EQ(events[0].count, 13);
  EXPECT_DOUBLE_EQ(events[0].limit, 10);
  EXPECT_EQ(events[1].kind, AlertKind::leave);
  EXPECT_EQ(events[1].frame, 14);
  EXPECT_DOUBLE_EQ(events[1].count, 7);
  EXPECT_FALSE(alerts.alerting(0));
  EXPECT_FALSE(alerts.alerting(1));
}

TEST(ZoneAlerts, OneFrameSettingAlertsOnTheFirstFramePastTheLimit) {
  Zone gate = polygon_zone("gate", {{0, 0}, {1, 0}, {0, 1}});
  gate.limit = 10;
  gate.frames = 1;
  ZoneAlerts alerts({gate});
  EXPECT_TRUE(alerts.update(1, {10}).empty());
  ASSERT_EQ(alerts.update(2, {10.5}).size(), 1u);
  EXPECT_TRUE(alerts.alerting(0));
  EXPECT_THROW(alerts.update(3, {1, 2}), Error);
}

TEST(ZonesJson, FrameRecordHoldsCountsByZoneAndAlerts) {
  const std::vector<Zone> zones = {polygon_zone("gate", {{0, 0}, {1, 0}, {0, 1}}),
                                   polygon_zone("hall", {{0, 0}, {1, 0}, {0, 1}})};
  const std::vector<AlertEvent> events = {
      {.zone = "gate", .kind = AlertKind::enter, .frame = 7, .count = 41.5, .limit = 40}};
  EXPECT_EQ(frame_record(7, 0.25, 44.75, zones, {41.5, 3.25}, events).dump(),
            R"({"alerts":[{"count":41.5,"event":"enter","limit":40.0,"zone":"gate"}],"count":44.75,"frame":7,)"
            R"("time":0.25,"zones":{"gate":41.5,"hall":3.25}})");
  EXPECT_EQ(frame_record(8, 0.5, 1.0, zones, {0.5, 0.5}, {}).dump(),
            R"({"alerts":[],"count":1.0,"frame":8,"time":0.5,"zones":{"gate":0.5,"hall":0.5}})");
  EXPECT_THROW(frame_record(8, 0.5, 1.0, zones, {0.5}, {}), Error);
}

TEST(ZoneMasks, HandBuiltZonesAreCheckedToo) {
  EXPECT_THROW(ZoneMasks({polygon_zone("two", {{0, 0}, {1, 1}})}, 4, 4, 4, 4), Error);
  EXPECT_THROW(ZoneMasks({polygon_zone("wide", {{0, 0}, {1.5, 0}, {0, 1}}, true)}, 4, 4, 4, 4), Error);
  EXPECT_THROW(ZoneMasks({polygon_zone("t", {{0, 0}, {1, 0}, {0, 1}})}, 4, 4, 0, 4), Error);
}

TEST(ZonesParse, ReadingAMissingFileIsAnErrorNamingIt) {
  try {
    read_zones("/nonexistent/zones.json");
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/zones.json"), std::string::npos) << e.what();
  }
}
