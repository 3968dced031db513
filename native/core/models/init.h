// The library's "random" initialisation, drawn from a private generator (never the global RNG):
//   Conv2d weights: Kaiming normal, fan_out, ReLU gain: N(0, 2 / (out_channels * k * k)); conv biases 0.
//   BatchNorm: weight 1, bias 0, running mean 0, running var 1.
//   Linear: weight and bias U(-1/sqrt(in), 1/sqrt(in)) (PyTorch's default for nn.Linear).
#pragma once
#include <torch/torch.h>

namespace tn {

void initialiseModule(torch::nn::Module& module, at::Generator& gen);
// A new classifier in place of `head`: a Linear of head's inputs and `numClasses` outputs, initialised from gen, on
// head's device (what every model's replaceHead does to each of its classifiers).
torch::nn::Linear freshHead(const torch::nn::Linear& head, int numClasses, at::Generator& gen);

}  // namespace tn
