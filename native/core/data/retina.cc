#include "core/data/retina.h"

#include <cmath>

#include "core/data/raster.h"

namespace tn {
namespace {

using raster::Canvas;
using raster::Rgb;
using raster::Rng;

using raster::kPi;

struct Lesions {
  int microaneurysms = 0, haemorrhages = 0, exudateClusters = 0, neovascular = 0;
};

// Lesion counts per grade: grade 1 is a few microaneurysms only; referable grades add haemorrhages and exudates.
Lesions lesionsFor(int grade, Rng& rng) {
  Lesions l;
  switch (grade) {
    case 0: break;
    case 1: l.microaneurysms = rng.integer(1, 3); break;
    case 2:
      l.microaneurysms = rng.integer(2, 6);
      l.haemorrhages = rng.integer(1, 3);
      l.exudateClusters = rng.integer(0, 2);
      break;
    default:
      l.microaneurysms = rng.integer(4, 10);
      l.haemorrhages = rng.integer(4, 8);
      l.exudateClusters = rng.integer(2, 4);
      l.neovascular = grade >= 4 ? rng.integer(1, 2) : 0;
  }
  return l;
}

struct Fundus {
  double cx, cy, radius;  // pixels
  double discX, discY, discRadius;
};

// A point inside the fundus, away from the rim and the optic disc.
void lesionSite(const Fundus& f, Rng& rng, double& x, double& y) {
  for (int tries = 0; tries < 64; ++tries) {
    const double r = f.radius * 0.85 * std::sqrt(rng.uniform()), a = rng.uniform(0, 2 * kPi);
    x = f.cx + r * std::cos(a);
    y = f.cy + r * std::sin(a);
    if (std::hypot(x - f.discX, y - f.discY) > f.discRadius * 1.6) return;
  }
}

// A vessel: a wandering polyline from (x, y) heading `angle`, thinning as it goes, branching now and then.
void vessel(Canvas& c, Rng& rng, const Fundus& f, double x, double y, double angle, double width, int depth, Rgb colour) {
  const double stepLen = f.radius * 0.07;
  const int steps = rng.integer(8, 14);
  for (int i = 0; i < steps && width > 0.35; ++i) {
    angle += rng.uniform(-0.35, 0.35);
    const double nx = x + stepLen * std::cos(angle), ny = y + stepLen * std::sin(angle);
    if (std::hypot(nx - f.cx, ny - f.cy) > f.radius * 0.97) break;
    c.segment(x, y, nx, ny, width, [&](int px, int py, float a) { c.blend(px, py, colour, 0.75f * a); });
    x = nx;
    y = ny;
    width *= 0.93;
    if (depth < 2 && rng.uniform() < 0.18)
      vessel(c, rng, f, x, y, angle + (rng.uniform() < 0.5 ? -1 : 1) * rng.uniform(0.5, 1.0), width * 0.7, depth + 1,
             colour);
  }
}

}  // namespace

const std::vector<double>& defaultGradeWeights() {
  static const std::vector<double> w = {0.45, 0.10, 0.25, 0.12, 0.08};
  return w;
}

FundusImage drawFundus(int size, uint64_t seed, uint64_t index, const std::vector<double>& gradeWeights) {
  Rng rng = Rng::forItem(seed, index, /*stream=*/1);
  const double S = size;
  FundusImage out;
  out.grade = rng.categorical(gradeWeights.empty() ? defaultGradeWeights() : gradeWeights);

  Canvas c(size);
  c.fill({0.02f, 0.02f, 0.02f});

  // Per-image camera and pigmentation: these nuisances move the mean colour far more than any lesion does.
  const float brightness = static_cast<float>(rng.uniform(0.65, 1.15));
  const float red = static_cast<float>(rng.uniform(0.6, 0.9));
  const Rgb base{red, red * static_cast<float>(rng.uniform(0.25, 0.45)), red * static_cast<float>(rng.uniform(0.06, 0.16))};
  const double vignette = rng.uniform(0.2, 0.5);

  Fundus f{};
  f.cx = S / 2 + rng.uniform(-0.03, 0.03) * S;
  f.cy = S / 2 + rng.uniform(-0.03, 0.03) * S;
  f.radius = S * rng.uniform(0.43, 0.47);
  const double side = rng.uniform() < 0.5 ? -1 : 1;  // left or right eye
  f.discX = f.cx + side * f.radius * rng.uniform(0.3, 0.42);
  f.discY = f.cy + f.radius * rng.uniform(-0.08, 0.08);
  f.discRadius = f.radius * rng.uniform(0.11, 0.14);

  // Fundus with radial vignetting and a low-frequency choroidal texture.
  const double kx = rng.uniform(2, 5) / S, ky = rng.uniform(2, 5) / S, ph = rng.uniform(0, 2 * kPi);
  for (int y = 0; y < size; ++y)
    for (int x = 0; x < size; ++x) {
      const double d = std::hypot(x + 0.5 - f.cx, y + 0.5 - f.cy) / f.radius;
      const double cover = std::clamp((1.0 - d) * f.radius + 0.5, 0.0, 1.0);
      if (cover <= 0) continue;
      const double texture = 1 + 0.06 * std::sin(2 * kPi * (kx * x + ky * y) + ph);
      const float k = static_cast<float>(brightness * (1 - vignette * d * d) * texture);
      c.blend(x, y, base.scaled(k), static_cast<float>(cover));
    }

  // Macula: a darker patch on the other side of the optic disc.
  const double mx = f.cx - side * f.radius * rng.uniform(0.1, 0.2), my = f.cy + f.radius * rng.uniform(-0.05, 0.05);
  c.disc(mx, my, f.radius * 0.16, [&](int x, int y, float a) { c.darken(x, y, 0.18f * a); });

  // Vessels: four arcades leaving the optic disc.
  const Rgb vesselColour = Rgb{0.42f, 0.07f, 0.05f}.scaled(brightness);
  const double toward = side > 0 ? kPi : 0;  // arcades head toward the macula
  for (double spread : {-1.1, -0.5, 0.5, 1.1})
    vessel(c, rng, f, f.discX, f.discY, toward + spread + rng.uniform(-0.15, 0.15), S * rng.uniform(0.022, 0.03), 0,
           vesselColour);

  // Optic disc, on top of the vessels' roots.
  const Rgb discColour = Rgb{0.98f, 0.86f, 0.62f}.scaled(brightness);
  c.disc(f.discX, f.discY, f.discRadius, [&](int x, int y, float a) { c.blend(x, y, discColour, 0.9f * a); });

  // Light reflexes: pale, bluish-white specks at every grade (a distractor that is not an exudate).
  for (int i = rng.integer(0, 3); i > 0; --i) {
    double x, y;
    lesionSite(f, rng, x, y);
    c.disc(x, y, S * rng.uniform(0.008, 0.016), [&](int px, int py, float a) {
      c.blend(px, py, {0.85f, 0.85f, 0.9f}, 0.45f * a);
    });
  }

  const Lesions lesions = lesionsFor(out.grade, rng);
  const double minRadius = 0.6;  // pixels: below this a lesion vanishes into noise
  for (int i = 0; i < lesions.microaneurysms; ++i) {
    double x, y;
    lesionSite(f, rng, x, y);
    c.disc(x, y, std::max(minRadius, S * rng.uniform(0.008, 0.013)),
           [&](int px, int py, float a) { c.blend(px, py, Rgb{0.36f, 0.02f, 0.02f}.scaled(brightness), 0.95f * a); });
  }
  for (int i = 0; i < lesions.haemorrhages; ++i) {
    double x, y;
    lesionSite(f, rng, x, y);
    const double r = std::max(minRadius * 1.5, S * rng.uniform(0.018, 0.032));
    for (int blob = rng.integer(2, 3); blob > 0; --blob) {
      c.disc(x + rng.uniform(-r, r) * 0.6, y + rng.uniform(-r, r) * 0.6, r * rng.uniform(0.6, 1.0),
             [&](int px, int py, float a) { c.blend(px, py, Rgb{0.3f, 0.02f, 0.02f}.scaled(brightness), 0.9f * a); });
    }
  }
  for (int i = 0; i < lesions.exudateClusters; ++i) {
    double x, y;
    lesionSite(f, rng, x, y);
    for (int speck = rng.integer(2, 5); speck > 0; --speck) {
      c.disc(x + rng.uniform(-1, 1) * S * 0.03, y + rng.uniform(-1, 1) * S * 0.03,
             std::max(minRadius, S * rng.uniform(0.007, 0.013)),
             [&](int px, int py, float a) { c.blend(px, py, Rgb{0.97f, 0.88f, 0.3f}.scaled(brightness), 0.95f * a); });
    }
  }
  for (int i = 0; i < lesions.neovascular; ++i) {
    double x, y;
    lesionSite(f, rng, x, y);
    for (int twig = rng.integer(4, 7); twig > 0; --twig) {
      const double a = rng.uniform(0, 2 * kPi), len = S * rng.uniform(0.02, 0.05);
      c.segment(x, y, x + len * std::cos(a), y + len * std::sin(a), std::max(0.5, S * 0.008),
                [&](int px, int py, float al) { c.blend(px, py, vesselColour.scaled(0.8f), 0.8f * al); });
    }
  }

  c.addNoise(rng, 0.02);
  out.pixels = c.pixels();
  return out;
}

}  // namespace tn
