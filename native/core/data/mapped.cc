// Memory-mapped datasets: a user's images decoded once into a file of uint8 RGB rows (N, 3, H, W), which the OS pages
// in as batches touch it, so a dataset larger than memory trains with memory bounded by the page cache, and a second
// run reads the file instead of decoding again.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/data/arrays.h"
#include "core/data/dataset.h"
#include "core/error.h"
#include "core/files.h"

namespace tn {

torch::Tensor normalised(const torch::Tensor& x) {
  if (x.scalar_type() != torch::kUInt8) return x;
  static const auto mean = torch::tensor({kImageMean[0], kImageMean[1], kImageMean[2]}).view({1, 3, 1, 1});
  static const auto std = torch::tensor({kImageStd[0], kImageStd[1], kImageStd[2]}).view({1, 3, 1, 1});
  return (x.to(torch::kFloat32).div_(255.f) - mean.to(x.device())).div_(std.to(x.device()));  // on the rows' device
}

torch::Tensor imageRows(const Dataset& d, const torch::Tensor& rows) { return normalised(d.images.index_select(0, rows)); }

torch::Tensor imageRange(const Dataset& d, int64_t begin, int64_t end) { return normalised(d.images.slice(0, begin, end)); }

void prefetchRows(const Dataset& d, const torch::Tensor& rows) {
  if (d.images.scalar_type() != torch::kUInt8) return;
  const int64_t rowBytes = d.images.stride(0);
  const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  auto* base = static_cast<uint8_t*>(d.images.data_ptr());
  const auto r = rows.to(torch::kInt64).contiguous();
  for (int64_t i = 0; i < r.numel(); ++i) {
    const auto start = reinterpret_cast<uintptr_t>(base + r.data_ptr<int64_t>()[i] * rowBytes);
    const uintptr_t aligned = start & ~(page - 1);
    madvise(reinterpret_cast<void*>(aligned), static_cast<size_t>(start + rowBytes - aligned), MADV_WILLNEED);
  }
}

std::shared_ptr<Dataset> impl::openMappedDataset(const MappedDatasetOptions& o) {
  if (o.count < 1 || o.size < 1) throw invalidArg("Expected a positive `count` and `size` for a mapped dataset");
  int64_t bytes = 0;
  if (__builtin_mul_overflow(o.count, int64_t{3} * o.size, &bytes) || __builtin_mul_overflow(bytes, int64_t{o.size}, &bytes))
    throw invalidArg("Expected `count` x 3 x `size`^2 bytes for a mapped dataset to fit in 64 bits");
  // A directory, a device or a FIFO is refused by name before it is mapped (a FIFO would block the open).
  struct stat st {};
  const int fd = openRegularFile(o.file, "mapped dataset", "ERR_BAD_DATA", st);
  if (st.st_size != bytes) {
    ::close(fd);
    throw invalidArg(o.file + " holds " + std::to_string(st.st_size) + " bytes, but " + std::to_string(o.count) + " RGB images of " +
                     std::to_string(o.size) + "x" + std::to_string(o.size) + " need " + std::to_string(bytes));
  }
  void* base = mmap(nullptr, static_cast<size_t>(bytes), PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  if (base == MAP_FAILED) throw Error("ERR_IO", "Cannot map " + o.file + ": " + std::strerror(errno));
  madvise(base, static_cast<size_t>(bytes), MADV_RANDOM);  // batches are random rows: no long read-ahead
  auto d = std::make_shared<Dataset>();
  d->images = torch::from_blob(base, {o.count, 3, o.size, o.size}, [base, bytes](void*) { munmap(base, static_cast<size_t>(bytes)); },
                               torch::TensorOptions(torch::kUInt8));
  attachTargets(*d, o.count, o.targets, o.mask, o.task, o.outputs);
  if (o.referableFrom != 0 && (o.task != "multiclass" || o.referableFrom < 1 || o.referableFrom >= o.outputs))
    throw invalidArg("Expected `referableFrom` to be a class 1-" + std::to_string(o.outputs - 1) + " of a multiclass set (or 0) but received " +
                     std::to_string(o.referableFrom) + " for a " + o.task + " set of " + std::to_string(o.outputs) + " output(s)");
  d->referableFrom = o.referableFrom;
  if (o.classAuc && (o.task != "multiclass" || o.referableFrom != 0 || o.outputs < 2))
    throw invalidArg("Expected `classAuc` only on a multiclass set of unordered classes (no referableFrom) but received it for a " + o.task +
                     " set of " + std::to_string(o.outputs) + " output(s)" + (o.referableFrom ? " with referableFrom " + std::to_string(o.referableFrom) : ""));
  d->classAuc = o.classAuc;
  d->source = o.source.empty() ? "mapped" : o.source;
  return d;
}

}  // namespace tn
