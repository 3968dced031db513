// The pickle inside a torch.save zip (data.pkl), read far enough to list a state dict's tensors (names, dtypes,
// shapes, strides and which storage record holds their bytes) and written as torch.save(state_dict) writes it.
// Reading: a small stack machine over the opcodes that torch.save (protocols 2-4) and torch::pickle_save emit; any
// other global or opcode fails naming it. Torch-free. Ours rather than LibTorch's own unpickler on purpose: LibTorch
// 1.13's fails on torchvision's OrderedDict state-dict files.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tn {

struct TensorRecord {
  std::string storage;  // the storage's key: its bytes are the zip entry "<archive>/data/<storage>"
  std::string dtype;    // "float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8", "bool"
  int64_t offset = 0;   // in elements
  std::vector<int64_t> sizes, strides;
};

// The state dict in `pickle` as (name, tensor) in file order. A checkpoint that wraps it ({"state_dict": ...} or
// {"model": ...}) is unwrapped. Throws tn::Error (ERR_BAD_WEIGHTS) naming `file`.
std::vector<std::pair<std::string, TensorRecord>> readStateDict(std::string_view pickle, const std::string& file);

// The pickle torch.save(OrderedDict of tensors) writes, protocol 2: collections.OrderedDict() filled with
// name -> torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict()), each storage the
// persistent id ('storage', torch.<Type>Storage, record.storage, 'cpu', numel). Only globals that
// torch.load(weights_only=True) allows, in 1.13 and 2.x alike. Throws tn::Error (ERR_INVALID_ARG) for an unknown dtype.
std::string writeStateDict(const std::vector<std::pair<std::string, TensorRecord>>& tensors);

int64_t dtypeSize(const std::string& dtype);

// Elements of its storage a strided tensor reaches: offset + sum((size - 1) * stride) + 1, or 0 when it is empty.
int64_t storageExtent(const TensorRecord& t);

}  // namespace tn
