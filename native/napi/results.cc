// Results and progress events out, in the order of the core's options headers.
#include "napi/convert.h"

#include "napi/values.h"

namespace tn::napi {

Napi::Value eventToJs(Napi::Env env, const tn::Event& event) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("kind", event.kind);
  for (const auto& [key, value] : event.fields) o.Set(key, numberOrNull(env, value));
  return o;
}

Napi::Object modelInfoToJs(Napi::Env env, const tn::ModelInfo& info) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", info.name);
  o.Set("displayName", info.displayName);
  o.Set("family", info.family);
  o.Set("description", info.description);
  o.Set("padding", info.padding);
  o.Set("device", info.device);
  o.Set("numClasses", info.numClasses);
  o.Set("stages", stringsToJs(env, info.stages));
  o.Set("layers", stringsToJs(env, info.layers));
  Napi::Object params = Napi::Object::New(env);
  params.Set("numel", static_cast<double>(info.numel));
  params.Set("paper", static_cast<double>(info.paperParams));
  o.Set("params", params);
  o.Set("minInputSize", info.minInputSize);
  o.Set("inputConv", info.inputConv);
  return o;
}

Napi::Object loadReportToJs(Napi::Env env, const tn::LoadReport& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("loaded", stringsToJs(env, r.loaded));
  o.Set("missing", stringsToJs(env, r.missing));
  o.Set("unexpected", stringsToJs(env, r.unexpected));
  o.Set("mismatched", stringsToJs(env, r.mismatched));
  o.Set("reinitialised", stringsToJs(env, r.reinitialised));
  o.Set("kept", stringsToJs(env, r.kept));
  return o;
}

Napi::Object datasetInfoToJs(Napi::Env env, const tn::DatasetInfo& info) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("source", info.source);
  o.Set("task", info.task);
  o.Set("count", static_cast<double>(info.count));
  o.Set("channels", info.channels);
  o.Set("height", info.height);
  o.Set("width", info.width);
  o.Set("outputs", info.outputs);
  return o;
}

Napi::Object metricsToJs(Napi::Env env, const tn::Metrics& m) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("task", m.task);
  o.Set("count", static_cast<double>(m.count));
  o.Set("loss", numberOrNull(env, m.loss));
  if (m.task == "multiclass") {
    o.Set("top1", m.top1);
    o.Set("top5", m.top5);
    if (m.classAuc) o.Set("classAuc", true);
    else o.Set("kappa", numberOrNull(env, m.kappa));
  }
  // binary / multilabel, a multiclass set on ordered grades (its derived referable output), and one of unordered
  // classes scored one against the rest (an output per class)
  if (m.task != "multiclass" || !m.auc.empty()) {
    Napi::Array aucs = Napi::Array::New(env, m.auc.size());
    for (uint32_t i = 0; i < m.auc.size(); ++i) aucs.Set(i, numberOrNull(env, m.auc[i]));
    o.Set("auc", aucs);
    o.Set("meanAuc", numberOrNull(env, m.meanAuc));
    Napi::Array precisions = Napi::Array::New(env, m.auprc.size());
    for (uint32_t i = 0; i < m.auprc.size(); ++i) precisions.Set(i, numberOrNull(env, m.auprc[i]));
    o.Set("auprc", precisions);
    o.Set("meanAuprc", numberOrNull(env, m.meanAuprc));
    if (m.aucResamples > 0) {
      Napi::Array ci = Napi::Array::New(env, 2);
      ci.Set(0u, numberOrNull(env, m.aucLow));
      ci.Set(1u, numberOrNull(env, m.aucHigh));
      o.Set("aucCi", ci);
      o.Set("aucCiResamples", static_cast<double>(m.aucResamples));
    }
  }
  return o;
}

Napi::Object trainResultToJs(Napi::Env env, const tn::TrainResult& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("steps", static_cast<double>(r.steps));
  Napi::Float64Array losses = Napi::Float64Array::New(env, r.losses.size());
  std::copy(r.losses.begin(), r.losses.end(), losses.Data());
  o.Set("losses", losses);
  Napi::Array curve = Napi::Array::New(env, r.curve.size());
  for (uint32_t i = 0; i < r.curve.size(); ++i) {
    Napi::Object point = metricsToJs(env, r.curve[i].metrics);
    point.Set("step", static_cast<double>(r.curve[i].step));
    curve.Set(i, point);
  }
  o.Set("curve", curve);
  o.Set("final", metricsToJs(env, r.final));
  o.Set("wallSeconds", r.wallSeconds);
  o.Set("imagesPerSecond", r.imagesPerSecond);
  o.Set("resumedFrom", static_cast<double>(r.resumedFrom));
  o.Set("hostReads", static_cast<double>(r.hostReads));
  o.Set("resident", r.resident);
  o.Set("prefetched", static_cast<double>(r.prefetched));
  o.Set("graphed", static_cast<double>(r.graphed));
  o.Set("stopped", r.stopped);
  o.Set("bestStep", static_cast<double>(r.bestStep));
  return o;
}

Napi::Object similarityResultToJs(Napi::Env env, const tn::SimilarityResult& r) {
  Napi::Object o = Napi::Object::New(env);
  Napi::Array cca = Napi::Array::New(env, r.cca.size());
  for (uint32_t i = 0; i < r.cca.size(); ++i) cca.Set(i, r.cca[i]);
  // Only the metrics computed (every default one unless the call named some); the canonical correlations with meanCca.
  const auto& table = tn::metricTable();
  const int meanCca = tn::metricIndex("meanCca");
  if (meanCca < 0 || (static_cast<size_t>(meanCca) < r.computed.size() && r.computed[meanCca])) o.Set("ccaCoefficients", cca);
  for (size_t k = 0; k < table.size() && k < r.values.size(); ++k)
    if (k < r.computed.size() && r.computed[k]) o.Set(table[k].name, numberOrNull(env, r.values[k]));
  o.Set("svccaKept", integersToJs(env, {r.svccaKeptA, r.svccaKeptB}));
  o.Set("deadNeurons", integersToJs(env, {r.deadA, r.deadB}));
  o.Set("neurons", integersToJs(env, {r.neuronsA, r.neuronsB}));
  o.Set("datapoints", static_cast<double>(r.datapoints));
  o.Set("datapointsPerNeuron", r.datapointsPerNeuron);
  o.Set("reliable", r.reliable);
  o.Set("route", r.route);
  Napi::Object work = Napi::Object::New(env);
  work.Set("prepared", static_cast<double>(r.work.prepared));
  work.Set("products", static_cast<double>(r.work.products));
  work.Set("gramFlops", r.work.gramFlops);
  work.Set("gramThreadSeconds", r.work.gramThreadSeconds);
  work.Set("seconds", r.work.seconds);
  work.Set("threads", r.work.threads);
  Napi::Object phases = Napi::Object::New(env);
  for (const auto& [phase, seconds] : r.work.phases) phases.Set(phase, seconds);
  work.Set("phases", phases);
  Napi::Object kernels = Napi::Object::New(env);
  for (const auto& [name, gflops] : r.work.kernels) kernels.Set(name, gflops);
  work.Set("kernels", kernels);
  o.Set("work", work);
  return o;
}

Napi::Object meanVarReportToJs(Napi::Env env, const tn::MeanVarReport& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("drawn", stringsToJs(env, r.drawn));
  o.Set("reset", stringsToJs(env, r.reset));
  o.Set("kept", stringsToJs(env, r.kept));
  return o;
}

// One pair of models at one stage: the similarity, the stage and the pair's model indices.
Napi::Object stageComparisonToJs(Napi::Env env, const tn::StageComparison& r, const std::vector<std::pair<int, int>>& pairs) {
  if (!r.skipped.empty()) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("stage", r.stage);
    o.Set("skipped", r.skipped);
    return o;
  }
  Napi::Object o = similarityResultToJs(env, r.result);
  o.Set("stage", r.stage);
  Napi::Array pair = Napi::Array::New(env, 2);
  pair.Set(0u, pairs[r.pair].first);
  pair.Set(1u, pairs[r.pair].second);
  o.Set("pair", pair);
  return o;
}

// The metric table (core/similarity/metrics.h) as similarityMetrics() returns it, in its order.
Napi::Array metricTableToJs(Napi::Env env) {
  const auto& table = tn::metricTable();
  Napi::Array out = Napi::Array::New(env, table.size());
  for (size_t k = 0; k < table.size(); ++k) {
    const auto& m = table[k];
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", m.name);
    o.Set("direction", m.direction);
    Napi::Array range = Napi::Array::New(env, 2);
    range.Set(0u, m.low);
    range.Set(1u, m.high);
    o.Set("range", range);
    o.Set("needs", m.needs);
    o.Set("computes", m.what);
    o.Set("reference", m.reference);
    o.Set("ccaFamily", m.ccaFamily);
    o.Set("nullable", m.nullable);
    o.Set("byDefault", m.byDefault);
    out.Set(static_cast<uint32_t>(k), o);
  }
  return out;
}

}  // namespace tn::napi
