// An embedded natural-image stand-in for ImageNet pretraining: one clear global subject per image (a shape with a
// fill pattern, at a random position, scale, rotation and colour) on a cluttered, textured background. The class is
// (shape, fill): 10 shapes x {solid, striped, checked}, so up to 30 classes; colour never identifies the class.
// Torch-free.
#pragma once
#include <cstdint>
#include <vector>

namespace tn {

constexpr int kNaturalMaxClasses = 30;

struct NaturalImage {
  std::vector<float> pixels;  // planar (3, size, size) in [0, 1]
  int label = 0;
};

NaturalImage drawNatural(int size, int classes, uint64_t seed, uint64_t index);

}  // namespace tn
