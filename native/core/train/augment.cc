#include "core/train/augment.h"

#include <cmath>

#include "core/compat.h"
#include "core/error.h"
#include "core/limits.h"

namespace tn {

void validateAugment(const AugmentOptions& o) {
  auto check = [](double v, limits::Range range, const char* name) {
    if (!range.holds(v))
      throw invalidArg(std::string("Expected `augment.") + name + "` to be a number in [" + c10::str(range.min) + ", " + c10::str(range.max) + "] but received " + c10::str(v));
  };
  check(o.rotate, limits::rotate, "rotate");
  check(o.translate, limits::translate, "translate");
  check(o.scale, limits::scale, "scale");
}

torch::Tensor augmentBatch(const torch::Tensor& x, const AugmentOptions& o, uint64_t seed, int64_t step) {
  if (o.rotate == 0 && o.translate == 0 && o.scale == 0 && !o.flip) return x;
  namespace F = torch::nn::functional;
  const int64_t b = x.size(0);
  auto gen = compat::cpuGenerator(seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(step) + 0xA0C0);
  auto uniform = [&](double half) { return (torch::rand({b}, gen, torch::kFloat64) * 2 - 1) * half; };
  const auto angle = uniform(o.rotate * 3.14159265358979323846 / 180.0), zoom = 1 + uniform(o.scale);
  const auto tx = uniform(2 * o.translate), ty = uniform(2 * o.translate);  // affine_grid's units: half the side
  const auto flip = o.flip ? torch::where(torch::rand({b}, gen, torch::kFloat64) < 0.5, -1.0, 1.0) : torch::ones({b}, torch::kFloat64);
  // Output pixel -> input pixel: rotate and scale about the centre, flip x, shift.
  const auto c = torch::cos(angle) / zoom, s = torch::sin(angle) / zoom;
  // Drawn on the host (the same numbers on every device), then copied without blocking the host.
  auto theta = torch::stack({torch::stack({c * flip, -s, tx}, 1), torch::stack({s * flip, c, ty}, 1)}, 1).to(x.scalar_type());
  if (x.is_cuda()) theta = theta.pin_memory().to(x.device(), x.scalar_type(), /*non_blocking=*/true);
  const auto grid = F::affine_grid(theta, x.sizes().vec(), /*align_corners=*/false);
  return F::grid_sample(x, grid, F::GridSampleFuncOptions().mode(torch::kBilinear).padding_mode(torch::kBorder).align_corners(false));
}

}  // namespace tn
