// Tiny anti-aliased drawing on a planar RGB canvas in [0, 1], for the embedded image generators. Torch-free.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace tn::raster {

constexpr double kPi = 3.14159265358979323846;

// splitmix64: one stream per image, seeded from (dataset seed, image index), so images are independent of
// thread count and generation order.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  // The whole state: Rng(r.state()) continues r's stream exactly (checkpoints).
  uint64_t state() const { return state_; }
  static Rng forItem(uint64_t seed, uint64_t index, uint64_t stream) {
    Rng r(seed ^ (0x9E3779B97F4A7C15ull * (index + 1)) ^ (0xD1B54A32D192ED03ull * (stream + 1)));
    r.next();
    return r;
  }
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  int integer(int lo, int hi) { return lo + static_cast<int>(uniform() * (hi - lo + 1)); }  // inclusive
  double normal() {
    const double u1 = std::max(uniform(), 1e-300), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  // An index drawn with the given (unnormalised) weights.
  int categorical(const std::vector<double>& weights) {
    double total = 0;
    for (double w : weights) total += w;
    double u = uniform() * total;
    for (size_t i = 0; i < weights.size(); ++i) {
      if (u < weights[i]) return static_cast<int>(i);
      u -= weights[i];
    }
    return static_cast<int>(weights.size()) - 1;
  }

 private:
  uint64_t state_;
};

struct Rgb {
  float r, g, b;
  Rgb scaled(float k) const { return {r * k, g * k, b * k}; }
};

// Planar (3, size, size) image.
class Canvas {
 public:
  explicit Canvas(int size) : size_(size), px_(3 * static_cast<size_t>(size) * size, 0.f) {}
  int size() const { return size_; }
  float* channel(int c) { return px_.data() + static_cast<size_t>(c) * size_ * size_; }
  const std::vector<float>& pixels() const { return px_; }

  void fill(Rgb c) {
    for (int y = 0; y < size_; ++y)
      for (int x = 0; x < size_; ++x) set(x, y, c);
  }
  Rgb get(int x, int y) const {
    const size_t i = static_cast<size_t>(y) * size_ + x, n = static_cast<size_t>(size_) * size_;
    return {px_[i], px_[n + i], px_[2 * n + i]};
  }
  void set(int x, int y, Rgb c) {
    const size_t i = static_cast<size_t>(y) * size_ + x, n = static_cast<size_t>(size_) * size_;
    px_[i] = c.r;
    px_[n + i] = c.g;
    px_[2 * n + i] = c.b;
  }
  void blend(int x, int y, Rgb c, float alpha) {
    if (x < 0 || y < 0 || x >= size_ || y >= size_ || alpha <= 0.f) return;
    const Rgb o = get(x, y);
    set(x, y, {o.r + (c.r - o.r) * alpha, o.g + (c.g - o.g) * alpha, o.b + (c.b - o.b) * alpha});
  }
  // Multiplies pixels by (1 - amount * coverage): darkening that keeps the underlying texture.
  void darken(int x, int y, float amount) {
    if (x < 0 || y < 0 || x >= size_ || y >= size_) return;
    set(x, y, get(x, y).scaled(1.f - amount));
  }

  // Soft-edged disc: coverage falls from 1 to 0 over one pixel at the rim (sub-pixel discs stay visible, faint).
  template <class Paint>
  void disc(double cx, double cy, double radius, Paint paint) {
    const int x0 = static_cast<int>(std::floor(cx - radius - 1)), x1 = static_cast<int>(std::ceil(cx + radius + 1));
    const int y0 = static_cast<int>(std::floor(cy - radius - 1)), y1 = static_cast<int>(std::ceil(cy + radius + 1));
    for (int y = y0; y <= y1; ++y)
      for (int x = x0; x <= x1; ++x) {
        const double d = std::hypot(x + 0.5 - cx, y + 0.5 - cy);
        const double cover = std::clamp(radius + 0.5 - d, 0.0, 1.0);
        if (cover > 0) paint(x, y, static_cast<float>(cover));
      }
  }
  // Thick anti-aliased segment from (ax, ay) to (bx, by).
  template <class Paint>
  void segment(double ax, double ay, double bx, double by, double width, Paint paint) {
    const double half = width / 2;
    const int x0 = static_cast<int>(std::floor(std::min(ax, bx) - half - 1));
    const int x1 = static_cast<int>(std::ceil(std::max(ax, bx) + half + 1));
    const int y0 = static_cast<int>(std::floor(std::min(ay, by) - half - 1));
    const int y1 = static_cast<int>(std::ceil(std::max(ay, by) + half + 1));
    const double dx = bx - ax, dy = by - ay, len2 = std::max(dx * dx + dy * dy, 1e-12);
    for (int y = y0; y <= y1; ++y)
      for (int x = x0; x <= x1; ++x) {
        const double px = x + 0.5 - ax, py = y + 0.5 - ay;
        const double t = std::clamp((px * dx + py * dy) / len2, 0.0, 1.0);
        const double d = std::hypot(px - t * dx, py - t * dy);
        const double cover = std::clamp(half + 0.5 - d, 0.0, 1.0);
        if (cover > 0) paint(x, y, static_cast<float>(cover));
      }
  }

  void addNoise(Rng& rng, double sigma) {
    for (auto& v : px_) v = std::clamp(static_cast<float>(v + sigma * rng.normal()), 0.f, 1.f);
  }
  void clamp01() {
    for (auto& v : px_) v = std::clamp(v, 0.f, 1.f);
  }

 private:
  int size_;
  std::vector<float> px_;
};

}  // namespace tn::raster
