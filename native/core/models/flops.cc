#include "core/models/flops.h"

#include <ATen/record_function.h>

#include <string_view>
#include <utility>
#include <vector>

#include "core/models/mode.h"

namespace tn::impl {
namespace {

// The count of the forward pass running on this thread. The callbacks are thread-local, so only this pass's ops
// reach them. Where LibTorch carries them to an intra-op worker (ops a kernel dispatches inside its own parallel
// loop, all nested in a counted op), that thread has no tally and they are passed over.
struct Tally {
  int64_t flops = 0;
  int depth = 0;  // counted ops open on this thread
};
thread_local Tally* tally = nullptr;

// One counted op between its start and end callbacks.
struct CountedOp : at::ObserverContext {
  bool outer = false;     // inside no other counted op: conv2d -> convolution -> _convolution -> ... counts once
  int64_t perOutput = 0;  // multiply-adds per output element, counted once the output exists
};

// The ops a layer of multiply-adds ends in. nn::Conv1d/2d/3d (and their functional forms) reach
// aten::convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups) in every
// LibTorch version; nn::Linear does not reach aten::linear in the C++ API (torch::nn::functional::linear is
// addmm(bias, x, w.t()) for a 2-D input with a bias, else matmul), so the matrix products count too, each with the
// argument index of its left operand (..., n, k): every output element is k multiply-adds.
int leftOperandOf(std::string_view name) {
  if (name == "aten::linear" || name == "aten::matmul" || name == "aten::mm" || name == "aten::bmm") return 0;
  if (name == "aten::addmm" || name == "aten::baddbmm") return 1;
  return -1;
}

std::unique_ptr<at::ObserverContext> onStart(const at::RecordFunction& fn) {
  const std::string_view name = fn.name();
  const bool conv = name == "aten::convolution";
  const int left = conv ? -1 : leftOperandOf(name);
  if ((!conv && left < 0) || !tally) return nullptr;
  auto op = std::make_unique<CountedOp>();
  op->outer = tally->depth++ == 0;
  if (!op->outer) return op;
  const auto inputs = fn.inputs();
  if (!conv) {
    // Linear, x (..., in) and w (out, in): the peer's out.numel() x in_features.
    op->perOutput = inputs[left].toTensor().size(-1);
    return op;
  }
  const at::Tensor x = inputs[0].toTensor(), w = inputs[1].toTensor();
  if (inputs[6].toBool()) {
    // Transposed, w (in, out/groups, k...): every input element meets out/groups x k... weights.
    tally->flops += 2 * x.numel() * (w.numel() / w.size(0));
  } else {
    // w (out, in/groups, k...): every output element is in/groups x k... multiply-adds (the peer's out.numel() x
    // in_channels/groups x kernel area). The output's size (stride, padding, dilation) is read off the output itself.
    op->perOutput = w.numel() / w.size(0);
  }
  return op;
}

void onEnd(const at::RecordFunction& fn, at::ObserverContext* ctx) {
  if (!ctx) return;
  const auto* op = static_cast<const CountedOp*>(ctx);  // onStart makes no other kind
  --tally->depth;
  if (op->perOutput > 0) tally->flops += 2 * fn.outputs().at(0).toTensor().numel() * op->perOutput;
}

// Counting on this thread for the scope's lifetime.
class Counting {
 public:
  explicit Counting(Tally& t) {
    tally = &t;
    handle_ = at::addThreadLocalCallback(at::RecordFunctionCallback(onStart, onEnd)
                                             .needsInputs(true)
                                             .needsOutputs(true)
                                             .scopes({at::RecordScope::FUNCTION}));
  }
  ~Counting() {
    at::removeCallback(handle_);
    tally = nullptr;
  }
  Counting(const Counting&) = delete;
  Counting& operator=(const Counting&) = delete;

 private:
  at::RecordFunctionGuard enabled_{true};
  at::CallbackHandle handle_ = at::INVALID_CALLBACK_HANDLE;
};

}  // namespace

int64_t forwardFlops(Model& model, int height, int width) {
  checkInputSize(model, height, width);
  torch::NoGradGuard noGrad;
  const ModeScope eval(*model.net, /*training=*/false);
  const auto x = torch::zeros({1, 3, height, width}, torch::TensorOptions().device(model.device));  // (1, 3, H, W)
  Tally t;
  {
    const Counting counting(t);
    model.net->forward(x);
  }
  return t.flops;
}

}  // namespace tn::impl
