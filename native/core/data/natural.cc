#include "core/data/natural.h"

#include <cmath>

#include "core/data/raster.h"

namespace tn {
namespace {

using raster::Canvas;
using raster::Rgb;
using raster::Rng;

using raster::kPi;
constexpr int kShapes = 10;

// Inside test for shape `kind` in its own frame: (u, v) scaled so the shape spans about [-1, 1].
bool insideShape(int kind, double u, double v) {
  const double r = std::hypot(u, v), a = std::atan2(v, u);
  switch (kind) {
    case 0: return r <= 1.0;                                             // disc
    case 1: return std::abs(u) <= 0.8 && std::abs(v) <= 0.8;             // square
    case 2: return v <= 0.7 && v >= -0.9 + 1.6 * std::abs(u) / 0.95;     // triangle, apex at v = -0.9
    case 3: return r <= 0.45 + 0.55 * std::pow(std::abs(std::cos(2.5 * a)), 2.0);  // five-pointed star
    case 4: return (std::abs(u) <= 0.28 && std::abs(v) <= 0.95) || (std::abs(v) <= 0.28 && std::abs(u) <= 0.95);  // cross
    case 5: return r <= 1.0 && r >= 0.55;                                // ring
    case 6: return std::abs(u) + std::abs(v) <= 1.0;                     // diamond
    case 7: {                                                            // hexagon
      const double x = std::abs(u), y = std::abs(v);
      return y <= 0.85 && 0.5 * y + 0.866 * x <= 0.85;
    }
    case 8: return r <= 1.0 && std::hypot(u - 0.45, v) > 0.75;          // crescent
    default: return (u * u) / 1.0 + (v * v) / 0.16 <= 1.0;             // elongated ellipse
  }
}

// Fill pattern in the shape's frame: 0 solid, 1 stripes, 2 checks. Returns true where the second colour shows.
bool patternAt(int fill, double u, double v) {
  switch (fill) {
    case 0: return false;
    case 1: return std::fmod(std::abs(u) * 3.0, 1.0) < 0.5;
    default: return (static_cast<int>(std::floor(u * 2.5)) + static_cast<int>(std::floor(v * 2.5))) % 2 == 0;
  }
}

Rgb randomColour(Rng& rng) {
  return {static_cast<float>(rng.uniform()), static_cast<float>(rng.uniform()), static_cast<float>(rng.uniform())};
}
float luminance(Rgb c) { return 0.299f * c.r + 0.587f * c.g + 0.114f * c.b; }

}  // namespace

NaturalImage drawNatural(int size, int classes, uint64_t seed, uint64_t index) {
  Rng rng = Rng::forItem(seed, index, /*stream=*/2);
  const double S = size;
  NaturalImage out;
  out.label = rng.integer(0, classes - 1);
  const int kind = out.label % kShapes, fill = out.label / kShapes;

  // Background: a two-colour gradient with clutter (small random discs and strokes).
  Canvas c(size);
  const Rgb bgA = randomColour(rng), bgB = randomColour(rng);
  const double ga = rng.uniform(0, 2 * kPi);
  for (int y = 0; y < size; ++y)
    for (int x = 0; x < size; ++x) {
      const double t = 0.5 + 0.5 * std::sin((std::cos(ga) * x + std::sin(ga) * y) / S * kPi);
      c.set(x, y, {static_cast<float>(bgA.r + (bgB.r - bgA.r) * t), static_cast<float>(bgA.g + (bgB.g - bgA.g) * t),
                   static_cast<float>(bgA.b + (bgB.b - bgA.b) * t)});
    }
  for (int i = rng.integer(4, 9); i > 0; --i) {
    const Rgb col = randomColour(rng);
    if (rng.uniform() < 0.5) {
      c.disc(rng.uniform(0, S), rng.uniform(0, S), S * rng.uniform(0.02, 0.06),
             [&](int x, int y, float a) { c.blend(x, y, col, 0.8f * a); });
    } else {
      c.segment(rng.uniform(0, S), rng.uniform(0, S), rng.uniform(0, S), rng.uniform(0, S), S * rng.uniform(0.01, 0.03),
                [&](int x, int y, float a) { c.blend(x, y, col, 0.7f * a); });
    }
  }

  // The subject: large, roughly central, in a colour that stands out from the background's mean luminance.
  const double scale = S * rng.uniform(0.22, 0.34), rot = rng.uniform(0, 2 * kPi);
  const double ox = S / 2 + rng.uniform(-0.12, 0.12) * S, oy = S / 2 + rng.uniform(-0.12, 0.12) * S;
  const float bgLum = 0.5f * (luminance(bgA) + luminance(bgB));
  Rgb fg = randomColour(rng);
  if (std::abs(luminance(fg) - bgLum) < 0.3f) fg = bgLum > 0.5f ? fg.scaled(0.3f) : Rgb{0.7f + 0.3f * fg.r, 0.7f + 0.3f * fg.g, 0.7f + 0.3f * fg.b};
  const Rgb second = Rgb{1.f - fg.r, 1.f - fg.g, 1.f - fg.b};
  const double cr = std::cos(rot), sr = std::sin(rot);
  for (int y = 0; y < size; ++y)
    for (int x = 0; x < size; ++x) {
      // 2x2 supersampling for anti-aliased edges.
      int hits = 0, patterned = 0;
      for (int sy = 0; sy < 2; ++sy)
        for (int sx = 0; sx < 2; ++sx) {
          const double dx = (x + 0.25 + 0.5 * sx - ox) / scale, dy = (y + 0.25 + 0.5 * sy - oy) / scale;
          const double u = cr * dx + sr * dy, v = -sr * dx + cr * dy;
          if (insideShape(kind, u, v)) {
            ++hits;
            patterned += patternAt(fill, u, v);
          }
        }
      if (!hits) continue;
      const float p = static_cast<float>(patterned) / hits;
      const Rgb col{fg.r + (second.r - fg.r) * p, fg.g + (second.g - fg.g) * p, fg.b + (second.b - fg.b) * p};
      c.blend(x, y, col, hits / 4.f);
    }

  c.addNoise(rng, 0.03);
  out.pixels = c.pixels();
  return out;
}

}  // namespace tn
