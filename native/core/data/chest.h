// An embedded CheXpert-like source: frontal chest radiographs (grey; dense = bright) with the five pathologies of
// the CheXpert competition, which the paper's Table 2 reports, drawn as local findings. Torch-free.
//
// Each image: a dark surround, the body's soft tissue, two dark lung fields, the mediastinum and heart shadow, the
// domes of the diaphragm with sharp costophrenic angles, clavicles and ribs across the lungs; exposure, rotation and
// body size vary per image. Findings:
//   Atelectasis       a collapsed-lung band: a dense, plate-like streak in a lower lung with local volume loss
//   Cardiomegaly      an enlarged heart shadow (cardiothoracic ratio ~0.6 against ~0.45)
//   Consolidation     patchy, blotchy density filling part of one lung
//   Edema             a diffuse haze fanning out from both hila (perihilar, "bat wing")
//   Pleural Effusion  fluid in a costophrenic angle: the angle blunted, a dense meniscus rising laterally
// Findings co-occur as in practice through two latent causes (heart failure: cardiomegaly, edema, effusion;
// infection: consolidation, atelectasis, effusion). A reported label can be uncertain (CheXpert's -1) at a set rate:
// the finding is then drawn faint when present, or a faint mimic when absent.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

namespace tn {

constexpr int kChestFindings = 5;
// In CheXpert's column order.
extern const std::array<const char*, kChestFindings> kChestFindingNames;

struct ChestImage {
  std::vector<float> pixels;                // planar (3, size, size) in [0, 1], the three channels equal
  std::array<bool, kChestFindings> truth{};  // what is drawn
  std::array<int, kChestFindings> label{};   // what is reported: 1, 0 or -1 (uncertain)
};

ChestImage drawChest(int size, uint64_t seed, uint64_t index, double uncertainRate);

}  // namespace tn
