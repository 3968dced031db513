#include "core/data/chest.h"

#include <algorithm>
#include <cmath>

#include "core/data/raster.h"

namespace tn {

const std::array<const char*, kChestFindings> kChestFindingNames = {"Atelectasis", "Cardiomegaly", "Consolidation", "Edema",
                                                                    "Pleural Effusion"};

namespace {

using raster::kPi;
using raster::Rng;

enum Finding { kAtelectasis = 0, kCardiomegaly, kConsolidation, kEdema, kEffusion };

// A grey film: density in [0, 1] (bright = dense), painted by blending toward a level with a coverage weight.
class Film {
 public:
  explicit Film(int size) : size_(size), v_(static_cast<size_t>(size) * size, 0.f) {}
  int size() const { return size_; }
  float& at(int x, int y) { return v_[static_cast<size_t>(y) * size_ + x]; }
  bool inside(int x, int y) const { return x >= 0 && y >= 0 && x < size_ && y < size_; }
  void toward(int x, int y, float level, float weight) {
    if (!inside(x, y) || weight <= 0) return;
    float& p = at(x, y);
    p += std::min(weight, 1.f) * (level - p);
  }
  // Every pixel of the rotated ellipse with its coverage (soft one-pixel edge).
  template <class Paint>
  void ellipse(double cx, double cy, double rx, double ry, double angle, Paint paint) {
    const double reach = std::max(rx, ry) + 1.5, c = std::cos(angle), s = std::sin(angle);
    for (int y = std::max(0, static_cast<int>(cy - reach)); y <= std::min(size_ - 1, static_cast<int>(cy + reach)); ++y)
      for (int x = std::max(0, static_cast<int>(cx - reach)); x <= std::min(size_ - 1, static_cast<int>(cx + reach)); ++x) {
        const double dx = x + 0.5 - cx, dy = y + 0.5 - cy, u = (c * dx + s * dy) / rx, w = (-s * dx + c * dy) / ry;
        const double d = std::sqrt(u * u + w * w);
        const double cover = std::clamp((1.0 - d) * std::min(rx, ry) + 0.5, 0.0, 1.0);
        if (cover > 0) paint(x, y, static_cast<float>(cover));
      }
  }
  template <class Paint>
  void segment(double ax, double ay, double bx, double by, double width, Paint paint) {
    const double half = width / 2, dx = bx - ax, dy = by - ay, len2 = std::max(dx * dx + dy * dy, 1e-12);
    for (int y = std::max(0, static_cast<int>(std::min(ay, by) - half - 1)); y <= std::min(size_ - 1, static_cast<int>(std::max(ay, by) + half + 1)); ++y)
      for (int x = std::max(0, static_cast<int>(std::min(ax, bx) - half - 1)); x <= std::min(size_ - 1, static_cast<int>(std::max(ax, bx) + half + 1)); ++x) {
        const double px = x + 0.5 - ax, py = y + 0.5 - ay, t = std::clamp((px * dx + py * dy) / len2, 0.0, 1.0);
        const double cover = std::clamp(half + 0.5 - std::hypot(px - t * dx, py - t * dy), 0.0, 1.0);
        if (cover > 0) paint(x, y, static_cast<float>(cover));
      }
  }
  const std::vector<float>& values() const { return v_; }

 private:
  int size_;
  std::vector<float> v_;
};

struct Lung {
  double cx, cy, rx, ry;
  bool contains(double x, double y) const {
    const double u = (x - cx) / rx, w = (y - cy) / ry;
    return u * u + w * w <= 1.0;
  }
  double bottom() const { return cy + ry; }
  double lateral(bool right) const { return right ? cx - rx : cx + rx; }  // image left is the patient's right
};

// Which findings are present: two latent causes make them co-occur.
std::array<bool, kChestFindings> drawTruth(Rng& rng) {
  const bool heartFailure = rng.uniform() < 0.3, infection = rng.uniform() < 0.3;
  std::array<bool, kChestFindings> t{};
  t[kCardiomegaly] = rng.uniform() < (heartFailure ? 0.7 : 0.08);
  t[kEdema] = rng.uniform() < (heartFailure ? 0.6 : 0.05);
  t[kEffusion] = rng.uniform() < (heartFailure ? 0.55 : infection ? 0.35 : 0.08);
  t[kConsolidation] = rng.uniform() < (infection ? 0.6 : 0.05);
  t[kAtelectasis] = rng.uniform() < (infection ? 0.5 : 0.12);
  return t;
}

}  // namespace

ChestImage drawChest(int size, uint64_t seed, uint64_t index, double uncertainRate) {
  Rng rng = Rng::forItem(seed, index, /*stream=*/3);
  ChestImage out;
  out.truth = drawTruth(rng);
  // How strongly each finding is drawn: 1 when reported, faint (present or a mimic) when uncertain, 0 when absent.
  std::array<double, kChestFindings> strength{};
  for (int f = 0; f < kChestFindings; ++f) {
    const bool uncertain = rng.uniform() < uncertainRate;
    out.label[f] = uncertain ? -1 : out.truth[f] ? 1 : 0;
    strength[f] = uncertain ? 0.35 : out.truth[f] ? 1.0 : 0.0;
  }

  const double S = size;
  Film film(size);
  // Patient and exposure nuisances: position, body size, exposure and contrast vary far more than the findings do.
  const double shiftX = rng.uniform(-0.03, 0.03) * S, shiftY = rng.uniform(-0.03, 0.03) * S, scale = rng.uniform(0.92, 1.06);
  const double midX = S / 2 + shiftX, midY = 0.47 * S + shiftY;
  const float tissue = static_cast<float>(rng.uniform(0.38, 0.5)), air = static_cast<float>(rng.uniform(0.08, 0.16));

  for (int y = 0; y < size; ++y)
    for (int x = 0; x < size; ++x) film.at(x, y) = 0.04f;
  film.ellipse(midX, midY + 0.12 * S, 0.47 * S * scale, 0.6 * S * scale, 0, [&](int x, int y, float a) { film.toward(x, y, tissue, a); });

  // Lungs: the patient's right (image left) is a little larger; the left is cut by the heart.
  const Lung lungs[2] = {
      {midX - 0.17 * S * scale, midY, 0.135 * S * scale * rng.uniform(0.95, 1.05), 0.25 * S * scale * rng.uniform(0.95, 1.05)},
      {midX + 0.17 * S * scale, midY + 0.01 * S, 0.125 * S * scale * rng.uniform(0.95, 1.05), 0.24 * S * scale * rng.uniform(0.95, 1.05)},
  };
  // Atelectasis pulls its hemidiaphragm up (volume loss); decide its side before drawing the lungs' bases.
  const int ateSide = rng.integer(0, 1);
  for (int side = 0; side < 2; ++side) {
    const Lung& l = lungs[side];
    film.ellipse(l.cx, l.cy, l.rx, l.ry, 0, [&](int x, int y, float a) { film.toward(x, y, air, 0.9f * a); });
  }

  // Edema: a haze fanning out from both hila, densest centrally.
  if (strength[kEdema] > 0) {
    const double sigma = 0.11 * S * scale, k = 0.32 * strength[kEdema];
    for (int side = 0; side < 2; ++side) {
      const double hx = midX + (side ? 1 : -1) * 0.08 * S * scale, hy = midY + 0.02 * S;
      for (int y = 0; y < size; ++y)
        for (int x = 0; x < size; ++x)
          if (lungs[side].contains(x + 0.5, y + 0.5)) {
            const double d2 = std::pow(x + 0.5 - hx, 2) + std::pow(y + 0.5 - hy, 2);
            film.toward(x, y, 0.75f, static_cast<float>(k * std::exp(-d2 / (2 * sigma * sigma))));
          }
    }
  }
  // Consolidation: patchy blotches filling part of one lung.
  if (strength[kConsolidation] > 0) {
    const Lung& l = lungs[rng.integer(0, 1)];
    const double px = l.cx + rng.uniform(-0.4, 0.4) * l.rx, py = l.cy + rng.uniform(-0.1, 0.6) * l.ry;
    for (int blob = rng.integer(5, 9); blob > 0; --blob) {
      const double bx = px + rng.uniform(-1, 1) * 0.06 * S, by = py + rng.uniform(-1, 1) * 0.06 * S;
      film.ellipse(bx, by, S * rng.uniform(0.025, 0.05), S * rng.uniform(0.025, 0.05), rng.uniform(0, kPi), [&](int x, int y, float a) {
        if (l.contains(x + 0.5, y + 0.5)) film.toward(x, y, 0.7f, static_cast<float>(0.35 * strength[kConsolidation]) * a);
      });
    }
  }
  // Atelectasis: a dense, plate-like band low in one lung.
  if (strength[kAtelectasis] > 0) {
    const Lung& l = lungs[ateSide];
    const double y0 = l.cy + rng.uniform(0.35, 0.65) * l.ry, tilt = rng.uniform(-0.3, 0.3), half = rng.uniform(0.45, 0.7) * l.rx;
    film.segment(l.cx - half * std::cos(tilt), y0 - half * std::sin(tilt), l.cx + half * std::cos(tilt), y0 + half * std::sin(tilt),
                 std::max(1.0, S * rng.uniform(0.018, 0.03)), [&](int x, int y, float a) {
                   film.toward(x, y, 0.8f, static_cast<float>(0.7 * strength[kAtelectasis]) * a);
                 });
  }
  // Pleural effusion: fluid in the costophrenic angle of one or both lungs, its surface a meniscus rising laterally.
  if (strength[kEffusion] > 0) {
    const int first = rng.integer(0, 1), sides = rng.uniform() < 0.35 ? 2 : 1;
    for (int k = 0; k < sides; ++k) {
      const int side = (first + k) % 2;
      const Lung& l = lungs[side];
      const double depth = rng.uniform(0.18, 0.35) * l.ry, rise = rng.uniform(0.15, 0.3) * l.ry, lat = l.lateral(side == 0);
      for (int y = 0; y < size; ++y)
        for (int x = 0; x < size; ++x) {
          if (!l.contains(x + 0.5, y + 0.5)) continue;
          const double t = std::clamp(std::abs(x + 0.5 - l.cx) / l.rx, 0.0, 1.0) * ((x + 0.5 - l.cx) * (lat - l.cx) > 0 ? 1 : 0);
          const double surface = l.bottom() - depth - rise * t * t;
          if (y + 0.5 > surface)
            film.toward(x, y, 0.72f, static_cast<float>(0.85 * strength[kEffusion] * std::clamp(y + 0.5 - surface, 0.0, 1.0)));
        }
    }
  }

  // Mediastinum and heart: cardiothoracic ratio ~0.45 normally, ~0.6 enlarged.
  const double thorax = lungs[1].cx + lungs[1].rx - (lungs[0].cx - lungs[0].rx);
  const double ratio = rng.uniform(0.4, 0.48) + strength[kCardiomegaly] * rng.uniform(0.14, 0.2);
  const float dense = static_cast<float>(rng.uniform(0.6, 0.7));
  film.ellipse(midX, midY - 0.14 * S, 0.055 * S * scale, 0.2 * S * scale, 0, [&](int x, int y, float a) { film.toward(x, y, dense, a); });
  film.ellipse(midX + 0.035 * S, midY + 0.11 * S, ratio * thorax / 2, 0.115 * S * scale, rng.uniform(-0.15, 0.05),
               [&](int x, int y, float a) { film.toward(x, y, dense, a); });

  // Diaphragm domes below each lung (higher on the collapsed side), leaving sharp costophrenic angles.
  for (int side = 0; side < 2; ++side) {
    const Lung& l = lungs[side];
    const double lift = strength[kAtelectasis] > 0 && side == ateSide ? 0.04 * S * strength[kAtelectasis] : 0;
    film.ellipse(l.cx, l.bottom() + 0.02 * S - lift, l.rx * 1.05, 0.07 * S * scale, 0, [&](int x, int y, float a) { film.toward(x, y, dense, a); });
    for (int y = static_cast<int>(l.bottom() + 0.02 * S - lift); y < size; ++y)
      for (int x = static_cast<int>(l.cx - l.rx * 1.05); x <= static_cast<int>(l.cx + l.rx * 1.05); ++x) film.toward(x, y, dense, 1.f);
  }
  // The abdomen below both domes, continuous across the midline.
  const double base = std::max(lungs[0].bottom(), lungs[1].bottom());
  film.ellipse(midX, base + 0.18 * S, thorax * 0.55, 0.2 * S, 0, [&](int x, int y, float a) { film.toward(x, y, dense, a); });

  // Clavicles and ribs: faint bright arcs across the lungs.
  for (int side = 0; side < 2; ++side) {
    const double dir = side ? 1 : -1;
    film.segment(midX + dir * 0.04 * S, midY - 0.3 * S, midX + dir * 0.3 * S, midY - 0.34 * S, std::max(1.0, 0.022 * S),
                 [&](int x, int y, float a) { film.toward(x, y, 0.8f, 0.5f * a); });
    for (int rib = 0; rib < 7; ++rib) {
      const double y0 = midY - 0.22 * S + rib * 0.07 * S * scale;
      double px = midX + dir * 0.03 * S, py = y0;
      for (int step = 1; step <= 6; ++step) {
        const double t = step / 6.0, nx = midX + dir * (0.03 + 0.27 * t) * S * scale, ny = y0 - 0.05 * S * std::sin(kPi * t) + 0.04 * S * t;
        film.segment(px, py, nx, ny, std::max(0.8, 0.012 * S), [&](int x, int y, float a) { film.toward(x, y, 0.7f, 0.18f * a); });
        px = nx;
        py = ny;
      }
    }
  }

  // Exposure (gain and gamma) and quantum noise.
  const double gain = rng.uniform(0.85, 1.15), gamma = rng.uniform(0.8, 1.25);
  out.pixels.resize(3 * static_cast<size_t>(size) * size);
  const size_t plane = static_cast<size_t>(size) * size;
  for (size_t i = 0; i < plane; ++i) {
    const double v = std::clamp(gain * std::pow(std::max(0.f, film.values()[i]), gamma) + 0.02 * rng.normal(), 0.0, 1.0);
    out.pixels[i] = out.pixels[plane + i] = out.pixels[2 * plane + i] = static_cast<float>(v);
  }
  return out;
}

}  // namespace tn
