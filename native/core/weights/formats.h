// Weight files in and out. Reading recognises the format by content:
//   - a zip: PyTorch's torch.save format (what torchvision publishes: an OrderedDict of tensors; checkpoints wrapping
//     a state dict; also what torch::pickle_save writes), read by our own zip and pickle readers;
//   - otherwise safetensors: 8-byte little-endian header length, a JSON header, raw little-endian data.
// Writing: format "safetensors", or "pt": the zip torch.save(OrderedDict of tensors) writes, which torch.load reads
// with its defaults in PyTorch 2.6+ (weights_only=True) and with weights_only=True in 1.13.
#pragma once
#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

namespace tn {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

NamedTensors readWeightFile(const std::string& path);
void writeWeightFile(const std::string& path, const NamedTensors& tensors, const std::string& format);

}  // namespace tn
