#include "napi/values.h"

#include <cmath>
#include <limits>

#include "napi/errors.h"

namespace tn::napi {

std::string describe(Napi::Value v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsString()) {
    // Appended, not "\"" + string: g++ 12's -Wrestrict misfires on that under C++20 (GCC bug 105651).
    std::string quoted = "\"";
    quoted += v.As<Napi::String>().Utf8Value();
    quoted += '"';
    return quoted;
  }
  if (v.IsNumber()) return v.ToString().Utf8Value();  // as JavaScript writes it: 0.5, not to_string's 0.500000
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value() ? "true" : "false";
  if (v.IsArray()) return "an array";
  if (v.IsFunction()) return "a function";
  return "an object";
}

Napi::Object objectOf(Napi::Value value, const char* what) {
  if (value.IsUndefined() || value.IsNull()) return Napi::Object::New(value.Env());
  if (!value.IsObject()) throw tn::invalidArg(std::string("Expected ") + what + " to be an object but received " + describe(value));
  return value.As<Napi::Object>();
}

double number(Napi::Object o, const char* key, double fallback, double min, double max, bool integer) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return fallback;
  const bool ok = v.IsNumber() && std::isfinite(v.As<Napi::Number>().DoubleValue()) &&
                  v.As<Napi::Number>().DoubleValue() >= min && v.As<Napi::Number>().DoubleValue() <= max &&
                  (!integer || std::floor(v.As<Napi::Number>().DoubleValue()) == v.As<Napi::Number>().DoubleValue());
  if (!ok) {
    std::string range = (integer ? "an integer" : "a number") + std::string(" in [") +
                        (min == -std::numeric_limits<double>::max() ? "-inf" : describe(Napi::Number::New(o.Env(), min))) +
                        ", " + describe(Napi::Number::New(o.Env(), max)) + "]";
    throw tn::invalidArg(std::string("Expected `") + key + "` to be " + range + " but received " + describe(v));
  }
  return v.As<Napi::Number>().DoubleValue();
}

int integer(Napi::Object o, const char* key, int fallback, int min, int max) {
  return static_cast<int>(number(o, key, fallback, min, max, true));
}

uint64_t seed(Napi::Object o, const char* key) {
  return static_cast<uint64_t>(number(o, key, 0, 0, 9007199254740991.0, true));
}

namespace {

// A JS string as C++ reads it, refused if it holds a NUL: C code (open(2) on a path) would read it cut short.
std::string withoutNul(Napi::Value v, const std::string& name) {
  std::string s = v.As<Napi::String>().Utf8Value();
  if (s.find('\0') != std::string::npos)
    throw tn::invalidArg("Expected `" + name + "` to be a string without NUL bytes but received one holding a NUL at character " +
                         std::to_string(s.find('\0')));
  return s;
}

}  // namespace

std::string text(Napi::Object o, const char* key, const std::string& fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return fallback;
  if (!v.IsString()) throw tn::invalidArg(std::string("Expected `") + key + "` to be a string but received " + describe(v));
  return withoutNul(v, key);
}

bool flag(Napi::Object o, const char* key, bool fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return fallback;
  if (!v.IsBoolean()) throw tn::invalidArg(std::string("Expected `") + key + "` to be a boolean but received " + describe(v));
  return v.As<Napi::Boolean>().Value();
}

std::vector<double> numbers(Napi::Value v, const std::string& key) {
  std::vector<double> out;
  if (v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_float64_array) {
    auto a = v.As<Napi::Float64Array>();
    out.assign(a.Data(), a.Data() + a.ElementLength());
  } else if (v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_float32_array) {
    auto a = v.As<Napi::Float32Array>();
    out.assign(a.Data(), a.Data() + a.ElementLength());
  } else if (v.IsArray()) {
    auto a = v.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); ++i) {
      Napi::Value e = a.Get(i);
      if (!e.IsNumber())
        throw tn::invalidArg("Expected `" + key + "[" + std::to_string(i) + "]` to be a number but received " + describe(e));
      out.push_back(e.As<Napi::Number>().DoubleValue());
    }
  } else {
    throw tn::invalidArg("Expected `" + key + "` to be an array of numbers or a Float64Array but received " + describe(v));
  }
  return out;
}

// A shape: non-negative integers, from an array or typed array.
std::vector<int64_t> shapeOf(Napi::Value value, const std::string& name) {
  std::vector<int64_t> shape;
  for (double d : numbers(value, name)) {
    if (d < 0 || d != std::floor(d)) throw tn::invalidArg("Expected `" + name + "` to hold non-negative integers");
    shape.push_back(static_cast<int64_t>(d));
  }
  return shape;
}

Napi::Value numberOrNull(Napi::Env env, double v) { return std::isfinite(v) ? Napi::Number::New(env, v) : env.Null(); }

std::string stringArg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  if (!info[index].IsString())
    throw tn::invalidArg(std::string("Expected `") + name + "` to be a string but received " + describe(info[index]));
  return withoutNul(info[index], name);
}

double numberArg(const Napi::CallbackInfo& info, size_t index, const char* name, double min, double max, bool integer) {
  Napi::Object holder = Napi::Object::New(info.Env());
  holder.Set(name, info[index]);
  if (info[index].IsUndefined()) throw tn::invalidArg(std::string("Expected `") + name + "` but received undefined");
  return number(holder, name, 0, min, max, integer);
}

int intArg(const Napi::CallbackInfo& info, size_t index, const char* name, int min, int max) {
  return static_cast<int>(numberArg(info, index, name, min, max, true));
}

std::vector<double> numbersArg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  return numbers(info[index], name);
}

Napi::Array integersToJs(Napi::Env env, const std::vector<int64_t>& values) {
  Napi::Array a = Napi::Array::New(env, values.size());
  for (uint32_t i = 0; i < values.size(); ++i) a.Set(i, static_cast<double>(values[i]));
  return a;
}

Napi::Array stringsToJs(Napi::Env env, const std::vector<std::string>& items) {
  Napi::Array a = Napi::Array::New(env, items.size());
  for (uint32_t i = 0; i < items.size(); ++i) a.Set(i, items[i]);
  return a;
}

Napi::Float32Array float32ArrayOf(Napi::Env env, const std::vector<float>& values) {
  Napi::Float32Array a = Napi::Float32Array::New(env, values.size());
  std::copy(values.begin(), values.end(), a.Data());
  return a;
}

tn::TensorData tensorData(Napi::Value value, const char* name) {
  if (!value.IsObject()) throw tn::invalidArg(std::string("Expected `") + name + "` to be { data: Float32Array, shape } but received " + describe(value));
  Napi::Object o = value.As<Napi::Object>();
  Napi::Value data = o.Get("data");
  if (!data.IsTypedArray() || data.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw tn::invalidArg(std::string("Expected `") + name + ".data` to be a Float32Array but received " + describe(data));
  tn::TensorData t;
  auto a = data.As<Napi::Float32Array>();
  t.data.assign(a.Data(), a.Data() + a.ElementLength());
  t.shape = shapeOf(o.Get("shape"), std::string(name) + ".shape");
  return t;
}

Napi::Object tensorDataToJs(Napi::Env env, const tn::TensorData& t) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("data", float32ArrayOf(env, t.data));
  o.Set("shape", integersToJs(env, t.shape));
  return o;
}

tn::ArrayData arrayData(Napi::Value value, const std::string& name) {
  if (!value.IsObject()) throw tn::invalidArg("Expected `" + name + "` to be { data: Float32Array | Float64Array, shape } but received " + describe(value));
  Napi::Object o = value.As<Napi::Object>();
  Napi::Value data = o.Get("data");
  tn::ArrayData a;
  const auto type = data.IsTypedArray() ? data.As<Napi::TypedArray>().TypedArrayType() : napi_int8_array;
  if (type == napi_float32_array) {
    auto f = data.As<Napi::Float32Array>();
    a.f32.assign(f.Data(), f.Data() + f.ElementLength());
  } else if (type == napi_float64_array) {
    auto f = data.As<Napi::Float64Array>();
    a.f64.assign(f.Data(), f.Data() + f.ElementLength());
  } else {
    throw tn::invalidArg("Expected `" + name + ".data` to be a Float32Array or Float64Array but received " + describe(data));
  }
  a.shape = shapeOf(o.Get("shape"), name + ".shape");
  return a;
}

}  // namespace tn::napi
