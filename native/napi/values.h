// Values across the boundary, field by field: the readers every option reader is made of (each names the field it
// refuses and what it received) and the writers of plain values (numbers, arrays, tensors) into JS.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/job.h"
#include "core/limits.h"
#include "core/similarity/options.h"

namespace tn::napi {

std::string describe(Napi::Value v);
Napi::Object objectOf(Napi::Value value, const char* what);
double number(Napi::Object o, const char* key, double fallback, double min, double max, bool integer);
int integer(Napi::Object o, const char* key, int fallback, int min, int max);
// The same, bounded by a range of native/limits.json (core/limits.h).
inline double number(Napi::Object o, const char* key, double fallback, tn::limits::Range range) { return number(o, key, fallback, range.min, range.max, false); }
inline int integer(Napi::Object o, const char* key, int fallback, tn::limits::Range range) {
  return integer(o, key, fallback, static_cast<int>(range.min), static_cast<int>(range.max));
}
uint64_t seed(Napi::Object o, const char* key);
std::string text(Napi::Object o, const char* key, const std::string& fallback);
bool flag(Napi::Object o, const char* key, bool fallback);
std::vector<double> numbers(Napi::Value v, const std::string& key);
// A shape: non-negative integers, from an array or typed array.
std::vector<int64_t> shapeOf(Napi::Value value, const std::string& name);
Napi::Value numberOrNull(Napi::Env env, double v);
std::string stringArg(const Napi::CallbackInfo& info, size_t index, const char* name);
// Argument `index` as a number in [min, max] (an integer where `integer`), refused by `name` otherwise.
double numberArg(const Napi::CallbackInfo& info, size_t index, const char* name, double min, double max, bool integer);
int intArg(const Napi::CallbackInfo& info, size_t index, const char* name, int min, int max);
std::vector<double> numbersArg(const Napi::CallbackInfo& info, size_t index, const char* name);
Napi::Array integersToJs(Napi::Env env, const std::vector<int64_t>& values);
Napi::Array stringsToJs(Napi::Env env, const std::vector<std::string>& items);
Napi::Float32Array float32ArrayOf(Napi::Env env, const std::vector<float>& values);
tn::TensorData tensorData(Napi::Value value, const char* name);
Napi::Object tensorDataToJs(Napi::Env env, const tn::TensorData& t);
tn::ArrayData arrayData(Napi::Value value, const std::string& name);

}  // namespace tn::napi
