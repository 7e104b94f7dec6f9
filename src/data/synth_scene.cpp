// The synthetic scene. World coordinates are pixels of a ground texture twice the frame size; the camera
// maps world to image by a similarity (drift, rotation, zoom) that changes every frame, so optical flow
// carries the camera's motion as well as the people's. Sizes follow a head of about 0.2 m.
#include <algorithm>
#include <cmath>
#include <numbers>
#include <opencv2/imgproc.hpp>

#include "core/error.h"
#include "data/synth.h"
#include "data/synth_random.h"

namespace crowdrt::data {
namespace {
constexpr int kShift = 4;               // drawing at 1/16 pixel precision
constexpr double kSubpixel = 1 << kShift;

cv::Point fixed(cv::Point2d p) {
  return {static_cast<int>(std::lround(p.x * kSubpixel)), static_cast<int>(std::lround(p.y * kSubpixel))};
}
int fixed(double r) { return std::max(1, static_cast<int>(std::lround(r * kSubpixel))); }

cv::Scalar jitter(SynthRandom& rng, cv::Scalar c, double amount) {
  return {std::clamp(c[0] + rng.uniform(-amount, amount), 0.0, 255.0),
          std::clamp(c[1] + rng.uniform(-amount, amount), 0.0, 255.0),
          std::clamp(c[2] + rng.uniform(-amount, amount), 0.0, 255.0)};
}

// Smooth noise in [0, 1): random values on a coarse grid, bilinearly enlarged, several octaves.
cv::Mat value_noise(SynthRandom& rng, cv::Size size, double cell, int octaves) {
  cv::Mat sum(size, CV_32F, cv::Scalar(0));
  double weight = 1, total = 0;
  for (int o = 0; o < octaves; ++o, cell /= 2.5, weight *= 0.5) {
    const int gw = std::max(2, static_cast<int>(size.width / cell) + 2),
              gh = std::max(2, static_cast<int>(size.height / cell) + 2);
    cv::Mat grid(gh, gw, CV_32F);
    for (int y = 0; y < gh; ++y)
      for (int x = 0; x < gw; ++x) grid.at<float>(y, x) = static_cast<float>(rng.uniform());
    cv::Mat up;
    cv::resize(grid, up, size, 0, 0, cv::INTER_LINEAR);
    sum += up * weight;
    total += weight;
  }
  return sum / total;
}

struct Person {
  cv::Point2d offset;  // from the group centre, world pixels
  double head_radius;
  cv::Scalar clothes, hair;
  double facing;  // radians, used when the group stands
};

struct Group {
  cv::Point2d centre, velocity;
  std::vector<Person> people;
  bool standing;
};

struct Tree {
  cv::Point2d centre;
  double radius;
  std::vector<std::pair<cv::Point2d, double>> blobs;  // lighter leaf clusters
  cv::Scalar colour;
};
}  // namespace

struct SynthSequence::Scene {
  SynthRandom rng{0};
  cv::Size size;
  cv::Mat ground;  // world texture, BGR
  std::vector<Group> groups;
  std::vector<Tree> trees;
  cv::Point2d camera, camera_velocity;
  double angle, angular_velocity, zoom, zoom_rate;
  double light_gain, light_phase, light_period, gradient_angle, gradient_strength;
  cv::Point2d light_direction;  // shadows fall this way
  int frame = 0;

  cv::Matx23d world_to_image() const {
    const double c = std::cos(angle) * zoom, s = std::sin(angle) * zoom;
    return {c, -s, size.width / 2.0 - (c * camera.x - s * camera.y),
            s, c,  size.height / 2.0 - (s * camera.x + c * camera.y)};
  }
};

namespace {
void make_ground(SynthSequence::Scene& sc, cv::Size world) {
  SynthRandom& rng = sc.rng;
  // Palettes (BGR): pavement, dirt, grass.
  const cv::Scalar pavement = jitter(rng, {150, 155, 160}, 25), dirt = jitter(rng, {95, 125, 150}, 20),
                   grass = jitter(rng, {55, 125, 80}, 20);
  const cv::Mat base = value_noise(rng, world, world.width / 6.0, 4);
  const cv::Mat grass_mask = value_noise(rng, world, world.width / 4.0, 3);
  const cv::Mat fine = value_noise(rng, world, 6.0, 2);
  const double grass_level = rng.uniform(0.35, 0.75);  // higher: less grass
  cv::Mat ground(world, CV_8UC3);
  for (int y = 0; y < world.height; ++y) {
    cv::Vec3b* g = ground.ptr<cv::Vec3b>(y);
    const float *b = base.ptr<float>(y), *m = grass_mask.ptr<float>(y), *f = fine.ptr<float>(y);
    for (int x = 0; x < world.width; ++x) {
      const double t = std::clamp((m[x] - grass_level) * 8.0, 0.0, 1.0);  // soft grass edges
      const double shade = 0.8 + 0.35 * b[x] + 0.2 * (f[x] - 0.5);
      for (int c = 0; c < 3; ++c) {
        const double v =
            ((1 - t) * (0.6 * pavement[c] + 0.4 * dirt[c] * (0.5 + b[x])) + t * grass[c] * (0.7 + 0.6 * f[x])) * shade;
        g[x][c] = cv::saturate_cast<uchar>(v);
      }
    }
  }
  // Paved paths across the scene, with faint tile seams.
  const int paths = rng.integer(2, 4);
  for (int p = 0; p < paths; ++p) {
    std::vector<cv::Point> line;
    cv::Point2d at(rng.uniform(0, world.width), rng.uniform(0, world.height));
    double heading = rng.uniform(0, 2 * std::numbers::pi);
    for (int k = 0; k < 12; ++k) {
      line.push_back(fixed(at));
      heading += rng.normal(0, 0.25);
      at += cv::Point2d(std::cos(heading), std::sin(heading)) * (world.width / 8.0);
    }
    const int width = static_cast<int>(world.width * rng.uniform(0.02, 0.06));
    cv::polylines(ground, line, false, jitter(rng, pavement, 15), width, cv::LINE_AA, kShift);
    cv::polylines(ground, line, false, jitter(rng, pavement * 0.8, 10), std::max(1, width / 12), cv::LINE_AA, kShift);
  }
  sc.ground = ground;
}

void make_trees(SynthSequence::Scene& sc, cv::Size world, double head) {
  SynthRandom& rng = sc.rng;
  const int count = rng.integer(0, 8);
  for (int i = 0; i < count; ++i) {
    Tree t;
    t.centre = {rng.uniform(0, world.width), rng.uniform(0, world.height)};
    t.radius = head * rng.uniform(6, 14);
    t.colour = jitter(rng, {40, 90, 45}, 15);
    for (int b = 0; b < 7; ++b)
      t.blobs.push_back(
          {cv::Point2d(rng.normal(0, 0.35), rng.normal(0, 0.35)) * t.radius, t.radius * rng.uniform(0.25, 0.5)});
    sc.trees.push_back(std::move(t));
  }
}

void make_people(SynthSequence::Scene& sc, cv::Size world, double head, double frame_seconds) {
  SynthRandom& rng = sc.rng;
  // A handful to several hundred, fewer when the frame is too small to hold them.
  const double frame_area = static_cast<double>(sc.size.area()) / (sc.zoom * sc.zoom);
  const double cap = frame_area / (9 * head * head * 4);
  const int wanted = static_cast<int>(std::min(rng.log_uniform(5, 450), std::max(5.0, cap)));
  const double pixels_per_metre = 2 * head / 0.2;
  // People gather where the camera looks during the sequence: around its path, with some spread.
  int placed = 0;
  while (placed < wanted) {
    Group g;
    const int size = std::min(wanted - placed, rng.chance(0.3) ? 1 : rng.integer(2, 9));
    const double spread = sc.size.width / sc.zoom * 0.6;
    g.centre = sc.camera + cv::Point2d(rng.normal(0, spread), rng.normal(0, spread * 0.6));
    g.standing = rng.chance(0.3);
    const double speed = g.standing ? 0 : rng.uniform(0.8, 1.7) * pixels_per_metre * frame_seconds;  // walking, m/s
    const double heading = rng.uniform(0, 2 * std::numbers::pi);
    g.velocity = {speed * std::cos(heading), speed * std::sin(heading)};
    const double group_radius = head * 3 * std::sqrt(size);
    static const cv::Scalar hairs[] = {{20, 20, 25}, {30, 45, 70}, {60, 80, 110}, {150, 150, 150}, {90, 160, 200}};
    for (int k = 0; k < size; ++k) {
      Person p;
      const double a = rng.uniform(0, 2 * std::numbers::pi), r = group_radius * std::sqrt(rng.uniform());
      p.offset = {r * std::cos(a), r * std::sin(a)};
      p.head_radius = head * rng.uniform(0.85, 1.15);
      p.clothes = cv::Scalar(rng.uniform(20, 235), rng.uniform(20, 235), rng.uniform(20, 235));
      p.hair = jitter(rng, hairs[rng.integer(0, 4)], 12);
      p.facing = g.standing ? rng.uniform(0, 2 * std::numbers::pi) : heading;
      g.people.push_back(p);
    }
    placed += size;
    sc.groups.push_back(std::move(g));
  }
  (void)world;
}

bool under_tree(const SynthSequence::Scene& sc, cv::Point2d p) {
  for (const Tree& t : sc.trees)
    if (std::hypot(p.x - t.centre.x, p.y - t.centre.y) < t.radius * 0.9) return true;
  return false;
}

cv::Point2d apply(const cv::Matx23d& m, cv::Point2d p) {
  return {m(0, 0) * p.x + m(0, 1) * p.y + m(0, 2), m(1, 0) * p.x + m(1, 1) * p.y + m(1, 2)};
}
}  // namespace

SynthSequence::SynthSequence(cv::Size size, uint64_t seed, uint64_t sequence_index)
    : scene_(std::make_unique<Scene>()) {
  if (size.width < 32 || size.height < 32)
    throw Error(cat("synth: frame size ", size.width, "x", size.height, " is below 32x32"));
  Scene& sc = *scene_;
  sc.rng = SynthRandom::stream(seed, sequence_index);
  sc.size = size;
  const cv::Size world(size.width * 2, size.height * 2);
  // Altitude: a head radius of 0.6 to 1.5 times width/400 pixels (heads of 6 to 14 px at 1920 wide, as in
  // VisDrone-CC), never below 1.6 px so that small test frames still show heads.
  const double head = std::max(1.6, size.width / 400.0 * sc.rng.uniform(0.6, 1.5));
  sc.camera = {world.width / 2.0 + sc.rng.normal(0, size.width * 0.1),
               world.height / 2.0 + sc.rng.normal(0, size.height * 0.1)};
  sc.camera_velocity = cv::Point2d(sc.rng.normal(0, 1), sc.rng.normal(0, 1)) * (size.width * 0.004);
  sc.angle = sc.rng.uniform(-0.3, 0.3);
  sc.angular_velocity = sc.rng.normal(0, 0.004);
  sc.zoom = sc.rng.uniform(0.9, 1.2);
  sc.zoom_rate = sc.rng.normal(0, 0.003);
  sc.light_gain = sc.rng.uniform(0.85, 1.1);
  sc.light_phase = sc.rng.uniform(0, 2 * std::numbers::pi);
  sc.light_period = sc.rng.uniform(20, 60);
  sc.gradient_angle = sc.rng.uniform(0, 2 * std::numbers::pi);
  sc.gradient_strength = sc.rng.uniform(0, 0.2);
  const double sun = sc.rng.uniform(0, 2 * std::numbers::pi);
  sc.light_direction = {std::cos(sun), std::sin(sun)};
  make_ground(sc, world);
  make_trees(sc, world, head);
  make_people(sc, world, head, sc.rng.uniform(0.25, 0.5));
}

SynthSequence::SynthSequence(SynthSequence&&) noexcept = default;
SynthSequence::~SynthSequence() = default;

SynthFrame SynthSequence::render_next() {
  Scene& sc = *scene_;
  const cv::Matx23d m = sc.world_to_image();
  SynthFrame out;
  cv::warpAffine(sc.ground, out.bgr, cv::Mat(m), sc.size, cv::INTER_LINEAR, cv::BORDER_REFLECT_101);

  // Shadows first (darken), then bodies, then heads, then tree crowns over everything.
  cv::Mat shadow(sc.size, CV_8U, cv::Scalar(0));
  const double angle_deg = sc.angle * 180 / std::numbers::pi;
  for (const Group& g : sc.groups)
    for (const Person& p : g.people) {
      const double r = p.head_radius * sc.zoom;
      const cv::Point2d at = apply(m, g.centre + p.offset + sc.light_direction * (p.head_radius * 2.5));
      const double dir = std::atan2(sc.light_direction.y, sc.light_direction.x) * 180 / std::numbers::pi + angle_deg;
      cv::ellipse(shadow, fixed(at), cv::Size(fixed(r * 2.6), fixed(r * 1.1)), dir, 0, 360, cv::Scalar(255), cv::FILLED,
                  cv::LINE_AA, kShift);
    }
  for (int y = 0; y < sc.size.height; ++y) {
    cv::Vec3b* px = out.bgr.ptr<cv::Vec3b>(y);
    const uchar* s = shadow.ptr<uchar>(y);
    for (int x = 0; x < sc.size.width; ++x)
      if (s[x])
        for (int c = 0; c < 3; ++c) px[x][c] = static_cast<uchar>(px[x][c] * (255 - s[x] * 45 / 100) / 255);
  }
  for (const Group& g : sc.groups)
    for (const Person& p : g.people) {
      const double r = p.head_radius * sc.zoom;
      // Annotations are written with two decimals: round first, so that file and image agree.
      cv::Point2d centre = apply(m, g.centre + p.offset);
      centre = {std::round(centre.x * 100) / 100, std::round(centre.y * 100) / 100};
      const double facing =
          (g.standing ? p.facing : std::atan2(g.velocity.y, g.velocity.x)) * 180 / std::numbers::pi + angle_deg;
      cv::ellipse(out.bgr, fixed(centre), cv::Size(fixed(r * 1.1), fixed(r * 2.0)), facing, 0, 360, p.clothes,
                  cv::FILLED, cv::LINE_AA, kShift);
      cv::circle(out.bgr, fixed(centre), fixed(r), p.hair, cv::FILLED, cv::LINE_AA, kShift);
      const bool inside = centre.x >= 0 && centre.y >= 0 && centre.x < sc.size.width && centre.y < sc.size.height;
      if (inside && !under_tree(sc, g.centre + p.offset)) out.heads.push_back({centre.x, centre.y});
    }
  for (const Tree& t : sc.trees) {
    cv::circle(out.bgr, fixed(apply(m, t.centre)), fixed(t.radius * sc.zoom), t.colour, cv::FILLED, cv::LINE_AA,
               kShift);
    for (const auto& [offset, radius] : t.blobs)
      cv::circle(out.bgr, fixed(apply(m, t.centre + offset)), fixed(radius * sc.zoom), t.colour * 1.3, cv::FILLED,
                 cv::LINE_AA, kShift);
  }
  // Lighting: a slow global change and a gradient across the frame (a passing cloud, the sun's angle).
  const double gain =
      sc.light_gain * (1 + 0.08 * std::sin(sc.light_phase + 2 * std::numbers::pi * sc.frame / sc.light_period));
  const double gx = std::cos(sc.gradient_angle) * sc.gradient_strength / sc.size.width,
               gy = std::sin(sc.gradient_angle) * sc.gradient_strength / sc.size.height;
  for (int y = 0; y < sc.size.height; ++y) {
    cv::Vec3b* px = out.bgr.ptr<cv::Vec3b>(y);
    for (int x = 0; x < sc.size.width; ++x) {
      const double f = gain * (1 + gx * (x - sc.size.width / 2.0) + gy * (y - sc.size.height / 2.0));
      for (int c = 0; c < 3; ++c) px[x][c] = cv::saturate_cast<uchar>(px[x][c] * f);
    }
  }

  // Advance the world one frame: groups walk (turning a little), the camera drifts, turns and zooms.
  const cv::Size world = sc.ground.size();
  for (Group& g : sc.groups) {
    if (g.standing) continue;
    const double turn = sc.rng.normal(0, 0.05), c = std::cos(turn), s = std::sin(turn);
    g.velocity = {c * g.velocity.x - s * g.velocity.y, s * g.velocity.x + c * g.velocity.y};
    g.centre += g.velocity;
    if (g.centre.x < 0 || g.centre.x > world.width) g.velocity.x = -g.velocity.x;
    if (g.centre.y < 0 || g.centre.y > world.height) g.velocity.y = -g.velocity.y;
    for (Person& p : g.people) p.offset += cv::Point2d(sc.rng.normal(0, 0.05), sc.rng.normal(0, 0.05)) * p.head_radius;
  }
  sc.camera += sc.camera_velocity + cv::Point2d(sc.rng.normal(0, 0.5), sc.rng.normal(0, 0.5));
  sc.camera.x = std::clamp(sc.camera.x, world.width * 0.3, world.width * 0.7);
  sc.camera.y = std::clamp(sc.camera.y, world.height * 0.3, world.height * 0.7);
  sc.angle += sc.angular_velocity;
  sc.zoom = std::clamp(sc.zoom * (1 + sc.zoom_rate), 0.8, 1.3);
  ++sc.frame;
  return out;
}

}  // namespace crowdrt::data
