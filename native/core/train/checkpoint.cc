// Checkpoints are verified before they are parsed (issue 16: a checkpoint with one changed byte in its embedded
// TorchScript crashed the process inside LibTorch's InputArchive::load_from, which checks no zip CRC and compiles the
// archive's code). Of the two remedies, this file takes the checksum: the archive LibTorch writes is sealed
// with a CRC-32 trailer (sealed.h), and on resume the whole file is read by us, the trailer and the CRC-32 over every
// byte are checked, and only verified bytes reach load_from. CRC-32 catches every
// single changed byte (and every burst up to 32 bits), so damage gives ERR_BAD_DATA naming the file, never a crash.
// Why not the other remedy (a format of ours that runs no compiler, e.g. safetensors): the optimizer's state is
// written by torch::optim's own serialize(), whose per-parameter state classes differ between LibTorch 1.13 and 2.x;
// re-implementing it for both is a larger change than this scope. What the checksum does not do: it guards
// against damage (bit flips, torn or truncated files), not against a deliberately crafted checkpoint with a
// recomputed CRC; a checkpoint is a file this program wrote into its own run directory, and it is trusted as such.
// A checkpoint written before the trailer existed is refused by name (resume then asks to remove it).
#include "core/train/checkpoint.h"

#include <ATen/Context.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sstream>

#include <unistd.h>

#include "core/error.h"
#include "core/files.h"
#include "core/train/sealed.h"

namespace tn {
namespace {

// Format of the file; a checkpoint of another format is refused rather than misread.
constexpr int64_t kFormat = 1;

// Archive keys may not contain '.', the separator of parameter names.
std::string keyOf(const std::string& prefix, const std::string& name) {
  std::string k = prefix + name;
  for (char& c : k)
    if (c == '.') c = '/';
  return k;
}

torch::Tensor int64s(const std::vector<int64_t>& v) { return torch::tensor(v, torch::kInt64); }
torch::Tensor doubles(const std::vector<double>& v) {
  return torch::from_blob(const_cast<double*>(v.data()), {static_cast<int64_t>(v.size())}, torch::kFloat64).clone();
}
int64_t bitsOf(uint64_t u) {
  int64_t i;
  std::memcpy(&i, &u, sizeof i);
  return i;
}
uint64_t unsignedOf(int64_t i) {
  uint64_t u;
  std::memcpy(&u, &i, sizeof u);
  return u;
}

// What makes a checkpoint belong to a run: the same model, seed, batch size, schedule and optimizer.
torch::Tensor identity(const Model& model, const TrainOptions& o) {
  return torch::tensor({static_cast<double>(kFormat), static_cast<double>(o.seed % (1ull << 52)), static_cast<double>(o.batchSize),
                        static_cast<double>(o.learningRates.size()), o.optimizer == "adam" ? 1.0 : 0.0,
                        static_cast<double>(model.net->parameters().size())},
                       torch::kFloat64);
}

at::Generator generatorOf(const Model& model) { return at::globalContext().defaultGenerator(model.device); }

// A fresh tensor per key: reading into a defined tensor would alias it to the archive's storage.
torch::Tensor get(torch::serialize::InputArchive& archive, const std::string& key) {
  torch::Tensor t;
  archive.read(key, t);
  return t;
}

// Writes `data` to path + ".tmp", flushes it to the device, then renames it over `path`.
void writeFileAtomically(const std::string& path, const std::string& data) {
  const std::string tmp = path + ".tmp";
  const auto fail = [&](const std::string& what, int err) {
    std::remove(tmp.c_str());
    return Error("ERR_IO", "Cannot " + what + ": " + std::strerror(err) + (err == ENOSPC ? " (no space left on the device)" : "") +
                               "; the previous checkpoint, if any, is intact");
  };
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw fail("write the checkpoint " + tmp, errno);
  const bool written = std::fwrite(data.data(), 1, data.size(), f) == data.size() && std::fflush(f) == 0 && fsync(fileno(f)) == 0;
  const int err = errno;
  if (std::fclose(f) != 0 || !written) throw fail("write the checkpoint " + tmp, written ? errno : err);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) throw fail("move the checkpoint into place at " + path, errno);
}

}  // namespace

bool checkpointExists(const std::string& path) { return pathExists(path); }

void saveCheckpoint(const std::string& path, const Model& model, const torch::optim::Optimizer& optimizer,
                    const TrainCheckpoint& s, const TrainOptions& o) {
  torch::serialize::OutputArchive archive;
  archive.write("identity", identity(model, o));
  archive.write("model", torch::tensor(std::vector<uint8_t>(model.name.begin(), model.name.end()), torch::kUInt8));
  archive.write("learningRates", doubles(o.learningRates));
  for (const auto& p : model.net->named_parameters()) archive.write(keyOf("p/", p.key()), p.value().detach().cpu());
  for (const auto& b : model.net->named_buffers()) archive.write(keyOf("b/", b.key()), b.value().cpu());
  torch::serialize::OutputArchive opt(archive.compilation_unit());
  optimizer.save(opt);
  archive.write("optimizer", opt);
  {
    auto gen = generatorOf(model);
    std::lock_guard<std::mutex> lock(gen.mutex());
    archive.write("generator", gen.get_state());
  }
  archive.write("step", torch::tensor({s.step}, torch::kInt64));
  archive.write("sampler/order", int64s(s.order));
  archive.write("sampler/state", torch::tensor({s.position, bitsOf(s.rngState)}, torch::kInt64));
  archive.write("sampler/next", s.next.defined() ? s.next.cpu() : torch::empty({0}, torch::kInt64));
  archive.write("losses", doubles(s.losses));
  archive.write("trainSeconds", torch::tensor({s.trainSeconds}, torch::kFloat64));
  // The curve: (P) steps, (P, 5) loss, mean AUC, top-1, top-5, count, and (P, K) AUC per output.
  const int64_t points = static_cast<int64_t>(s.curve.size());
  const int64_t outputs = points ? static_cast<int64_t>(s.curve.front().metrics.auc.size()) : 0;
  auto steps = torch::empty({points}, torch::kInt64);
  auto scalars = torch::empty({points, 5}, torch::kFloat64), aucs = torch::empty({points, outputs}, torch::kFloat64);
  for (int64_t i = 0; i < points; ++i) {
    const auto& m = s.curve[i].metrics;
    steps[i] = s.curve[i].step;
    scalars[i] = torch::tensor({m.loss, m.meanAuc, m.top1, m.top5, static_cast<double>(m.count)}, torch::kFloat64);
    for (int64_t k = 0; k < outputs; ++k) aucs[i][k] = m.auc[k];
  }
  archive.write("curve/step", steps);
  archive.write("curve/scalars", scalars);
  archive.write("curve/auc", aucs);

  // Serialised in memory first: LibTorch's file writer throws from its destructor when the disk fills up, which
  // would terminate the process. Writing the bytes ourselves turns a full disk into an error.
  std::ostringstream bytes;
  archive.save_to(bytes);
  writeFileAtomically(path, sealCheckpoint(bytes.str()));
}

TrainCheckpoint loadCheckpoint(const std::string& path, Model& model, torch::optim::Optimizer& optimizer,
                               const TrainOptions& o, const std::string& task) {
  // Read by us (a directory, device or FIFO refused by name), verified, and only then parsed by LibTorch.
  const std::string bytes = readRegularFile(path, "checkpoint", "ERR_BAD_DATA");
  const std::string_view verified = openSealedCheckpoint(bytes, path);
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(verified.data(), verified.size());
  } catch (const std::exception& e) {
    throw Error("ERR_BAD_DATA", "Cannot read the checkpoint " + path + ": " + firstLine(e.what()));
  }
  const auto refuse = [&](const std::string& why) {
    return Error("ERR_BAD_DATA", "The checkpoint " + path + " is not one of this run (" + why + "); remove it to train from the start");
  };
  torch::Tensor t;
  try {
    t = get(archive, "identity");
    if (!t.equal(identity(model, o))) throw refuse("its model, seed, batch size, steps or optimizer differ");
    t = get(archive, "model");
    if (std::string(t.data_ptr<uint8_t>(), t.data_ptr<uint8_t>() + t.numel()) != model.name) throw refuse("it is a checkpoint of another model");
    t = get(archive, "learningRates");
    if (!t.equal(doubles(o.learningRates))) throw refuse("its learning-rate schedule differs");
    torch::NoGradGuard noGrad;
    for (auto& p : model.net->named_parameters()) {
      t = get(archive, keyOf("p/", p.key()));
      if (!t.sizes().equals(p.value().sizes())) throw refuse("parameter " + p.key() + " has another shape");
      p.value().copy_(t);
    }
    for (auto& b : model.net->named_buffers()) {
      t = get(archive, keyOf("b/", b.key()));
      b.value().copy_(t);
    }
    torch::serialize::InputArchive opt;
    archive.read("optimizer", opt);
    optimizer.load(opt);
    t = get(archive, "generator");
    {
      auto gen = generatorOf(model);
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_state(t);
    }
    TrainCheckpoint s;
    t = get(archive, "step");
    s.step = t.item<int64_t>();
    t = get(archive, "sampler/order");
    s.order.assign(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + t.numel());
    t = get(archive, "sampler/state");
    s.position = t[0].item<int64_t>();
    s.rngState = unsignedOf(t[1].item<int64_t>());
    t = get(archive, "sampler/next");
    if (t.numel() > 0) s.next = t.clone();
    t = get(archive, "losses");
    s.losses.assign(t.data_ptr<double>(), t.data_ptr<double>() + t.numel());
    t = get(archive, "trainSeconds");
    s.trainSeconds = t.item<double>();
    const auto steps = get(archive, "curve/step"), scalars = get(archive, "curve/scalars"), aucs = get(archive, "curve/auc");
    for (int64_t i = 0; i < steps.size(0); ++i) {
      CurvePoint point;
      point.step = steps[i].item<int64_t>();
      auto& m = point.metrics;
      m.task = task;
      m.loss = scalars[i][0].item<double>();
      m.meanAuc = scalars[i][1].item<double>();
      m.top1 = scalars[i][2].item<double>();
      m.top5 = scalars[i][3].item<double>();
      m.count = static_cast<int64_t>(scalars[i][4].item<double>());
      for (int64_t k = 0; k < aucs.size(1); ++k) m.auc.push_back(aucs[i][k].item<double>());
      s.curve.push_back(std::move(point));
    }
    if (s.step < 0 || s.step >= static_cast<int64_t>(o.learningRates.size()) || static_cast<int64_t>(s.losses.size()) != s.step)
      throw refuse("its step count is out of range");
    return s;
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error("ERR_BAD_DATA", "The checkpoint " + path + " is incomplete or damaged: " + firstLine(e.what()));
  }
}

}  // namespace tn
