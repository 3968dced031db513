#include "napi/metrics.h"

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "core/train/auc.h"
#include "core/train/auprc.h"
#include "core/train/bootstrap.h"
#include "core/train/kappa.h"
#include "napi/values.h"
#include "napi/errors.h"

namespace tn::napi {
namespace {

// Scores and 0/1 labels of equal length, as auc takes them. Throws ERR_INVALID_ARG.
std::pair<std::vector<double>, std::vector<double>> scoredLabels(const Napi::CallbackInfo& info) {
  auto scores = numbersArg(info, 0, "scores");
  auto labels = numbersArg(info, 1, "labels");
  if (scores.size() != labels.size())
    throw tn::invalidArg("Expected `scores` and `labels` to have the same length but received " + std::to_string(scores.size()) +
                         " and " + std::to_string(labels.size()));
  return {std::move(scores), std::move(labels)};
}

// auc(scores, labels) -> number: AUC-ROC with ties counted one half (Mann-Whitney). Throws ERR_INVALID_ARG.
Napi::Value auc(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&] {
    const auto [scores, labels] = scoredLabels(info);
    return Napi::Number::New(env, tn::auc(scores.data(), labels.data(), scores.size()));
  });
}

// averagePrecision(scores, labels) -> number: AUC-PR as scikit-learn's average_precision_score (step-wise). Throws
// ERR_INVALID_ARG (lengths, non-finite score, label not 0/1, no positive).
Napi::Value averagePrecision(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&] {
    const auto [scores, labels] = scoredLabels(info);
    return Napi::Number::New(env, tn::averagePrecision(scores.data(), labels.data(), scores.size()));
  });
}

// bootstrapAucInterval(scores, labels, { resamples = 1000, seed = 0, level = 0.95 }) -> { low, high, resamples }: the
// percentile interval of the AUC over row resamples (core/train/bootstrap.h has the rule); low and high null when no
// resample has both classes. Throws ERR_INVALID_ARG.
Napi::Value bootstrapAucInterval(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&] {
    const auto [scores, labels] = scoredLabels(info);
    Napi::Object options = objectOf(info[2], "bootstrap options");
    const int resamples = integer(options, "resamples", 1000, 1, 1 << 20);
    const uint64_t drawSeed = seed(options, "seed");
    const double level = number(options, "level", 0.95, 0, 1, false);
    const tn::AucInterval r = tn::bootstrapAucInterval(scores.data(), labels.data(), scores.size(), resamples, drawSeed, level);
    Napi::Object o = Napi::Object::New(env);
    o.Set("low", numberOrNull(env, r.low));
    o.Set("high", numberOrNull(env, r.high));
    o.Set("resamples", static_cast<double>(r.resamples));
    return o;
  });
}

// quadraticKappa(a, b, classes) -> number (NaN when chance disagreement is 0): Cohen's kappa with quadratic weights on
// levels 0..classes-1. Throws ERR_INVALID_ARG (lengths, a rating not an integer on the scale, classes < 2).
Napi::Value quadraticKappa(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&] {
    const auto a = numbersArg(info, 0, "a"), b = numbersArg(info, 1, "b");
    if (a.size() != b.size())
      throw tn::invalidArg("Expected `a` and `b` to have the same length but received " + std::to_string(a.size()) + " and " +
                           std::to_string(b.size()));
    const int classes = intArg(info, 2, "classes", 2, 1 << 16);
    std::vector<int64_t> ia(a.size()), ib(b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      for (const double v : {a[i], b[i]})
        if (!(v >= 0 && v < classes) || v != std::floor(v))
          throw tn::invalidArg("Expected ratings to be integers 0-" + std::to_string(classes - 1) + " but rating " + std::to_string(i) +
                               " is " + std::to_string(v));
      ia[i] = static_cast<int64_t>(a[i]);
      ib[i] = static_cast<int64_t>(b[i]);
    }
    return Napi::Number::New(env, tn::quadraticKappa(ia.data(), ib.data(), ia.size(), classes));
  });
}

}  // namespace

void exportMetrics(Napi::Env env, Napi::Object exports) {
  exports.Set("auc", Napi::Function::New(env, auc, "auc"));
  exports.Set("averagePrecision", Napi::Function::New(env, averagePrecision, "averagePrecision"));
  exports.Set("bootstrapAucInterval", Napi::Function::New(env, bootstrapAucInterval, "bootstrapAucInterval"));
  exports.Set("quadraticKappa", Napi::Function::New(env, quadraticKappa, "quadraticKappa"));
}

}  // namespace tn::napi
