// An embedded RETINA-like source: fundus-like photographs with diabetic-retinopathy lesions. Torch-free.
//
// Each image: a dark surround, a red-orange fundus disc whose hue, brightness and vignetting vary per image, an optic
// disc on a random side, a macula, and vessels branching from the optic disc. Lesions are small and local:
// microaneurysms (red dots about 1% of the image wide), haemorrhages (dark red blotches), hard exudates (yellow
// specks in clusters) and, at grade 4, neovascular tufts. Light reflexes (pale, not yellow) appear at every grade.
// The grade fixes the lesion counts; label "referable" = grade >= 2, as on the EyePACS 0-4 scale.
#pragma once
#include <cstdint>
#include <vector>

namespace tn {

// Default grade distribution: balanced for short runs (EyePACS itself is ~73% grade 0 and ~20% referable).
const std::vector<double>& defaultGradeWeights();

struct FundusImage {
  std::vector<float> pixels;  // planar (3, size, size) in [0, 1]
  int grade = 0;
};

FundusImage drawFundus(int size, uint64_t seed, uint64_t index, const std::vector<double>& gradeWeights);

}  // namespace tn
