// Above 350 lines by design: the pickle reader and writer share one opcode table and one value model, and keeping
// them together keeps the two sides of the format in step (the reader is ours because LibTorch 1.13's unpickler fails
// on torchvision's OrderedDict files; see pickle.h).
// The reader treats its input as untrusted (issue 16): values live in one arena and refer to each other by plain
// pointers, so nothing recurses (no nesting depth can overflow the stack, in reading or in freeing, and a list that
// holds itself is harmless), and every byte it allocates is charged to a budget proportional to the input's size.
#include "core/weights/pickle.h"

#include <cstring>
#include <deque>
#include <map>
#include <memory>

#include "core/error.h"

namespace tn {
namespace {

struct Value;
using Ptr = Value*;  // owned by the Unpickler's arena

struct Value {
  enum Kind { None, Bool, Int, Float, Str, Tuple, List, Dict, Global, Storage, Tensor, Mark } kind = None;
  int64_t i = 0;
  double f = 0;
  std::string s;  // Str; Global "module.name"; Storage dtype
  std::vector<Ptr> items;                     // Tuple, List
  std::vector<std::pair<Ptr, Ptr>> entries;   // Dict (insertion order)
  std::unique_ptr<TensorRecord> tensor;        // Tensor; Storage uses tensor->storage
};

// Memory the reader may take: kBudgetFactor bytes per input byte, plus kBudgetBase. A torch.save pickle is charged
// 20-27 bytes per byte (measured on torchvision's resnet50, densenet121, mobilenet_v2 state dicts), so the factor
// leaves a margin of 3.5x; one of 4 MB built of 1-byte opcodes took 1.1 GB before this budget and stops at 400 MiB now.
constexpr uint64_t kBudgetFactor = 96, kBudgetBase = uint64_t{16} << 20;
constexpr uint64_t kValueBytes = sizeof(Value);  // the arena (a deque) holds values with no per-value overhead

// At most 100 characters of a name from the file, for messages.
std::string shown(const std::string& s) { return s.size() <= 100 ? s : s.substr(0, 100) + "..."; }

const std::map<std::string, std::string>& storageDtypes() {
  static const std::map<std::string, std::string> m = {
      {"torch.FloatStorage", "float32"}, {"torch.DoubleStorage", "float64"}, {"torch.HalfStorage", "float16"},
      {"torch.BFloat16Storage", "bfloat16"}, {"torch.LongStorage", "int64"}, {"torch.IntStorage", "int32"},
      {"torch.ShortStorage", "int16"}, {"torch.CharStorage", "int8"}, {"torch.ByteStorage", "uint8"},
      {"torch.BoolStorage", "bool"}};
  return m;
}

class Unpickler {
 public:
  Unpickler(std::string_view data, const std::string& file)
      : d_(data), file_(file), budget_(kBudgetBase + kBudgetFactor * static_cast<uint64_t>(data.size())) {}

  // Counts `bytes` against the budget; fails naming the file once it is spent.
  void charge(uint64_t bytes) {
    if (bytes > budget_ - used_)
      fail("reading the pickle would take more than " + std::to_string(budget_ >> 20) + " MiB (" +
           std::to_string(kBudgetFactor) + " times its size): a crafted or corrupt file");
    used_ += bytes;
  }

  Ptr run() {
    for (;;) {
      const unsigned char op = byte();
      switch (op) {
        case 0x80: byte(); break;                       // PROTO
        case 0x95: take(8); break;                      // FRAME
        case '.': return pop();                         // STOP
        case '(': push(make(Value::Mark)); break;       // MARK
        case 'N': push(make(Value::None)); break;
        case 0x88: push(boolean(true)); break;          // NEWTRUE
        case 0x89: push(boolean(false)); break;         // NEWFALSE
        case 'K': push(integer(byte())); break;         // BININT1
        case 'M': push(integer(le(2))); break;          // BININT2
        case 'J': push(integer(static_cast<int32_t>(le(4)))); break;  // BININT
        case 0x8a: push(long1()); break;                // LONG1
        case 'G': push(float64()); break;               // BINFLOAT
        case 'X': push(str(le(4))); break;              // BINUNICODE
        case 0x8c: push(str(byte())); break;            // SHORT_BINUNICODE
        case 'T': push(str(le(4))); break;              // BINSTRING
        case 'U': push(str(byte())); break;             // SHORT_BINSTRING
        case ')': push(make(Value::Tuple)); break;      // EMPTY_TUPLE
        case ']': push(make(Value::List)); break;       // EMPTY_LIST
        case '}': push(make(Value::Dict)); break;       // EMPTY_DICT
        case 0x85: push(tuple(1)); break;               // TUPLE1
        case 0x86: push(tuple(2)); break;               // TUPLE2
        case 0x87: push(tuple(3)); break;               // TUPLE3
        case 't': push(tupleFromMark()); break;         // TUPLE
        case 'l': { auto l = make(Value::List); l->items = popToMark(); push(l); break; }  // LIST
        case 'a': { auto v = pop(); charge(sizeof(Ptr)); expect(top(), Value::List, "APPEND")->items.push_back(v); break; }
        case 'e': {                                     // APPENDS
          auto items = popToMark();
          charge(items.size() * sizeof(Ptr));
          auto& l = expect(top(), Value::List, "APPENDS")->items;
          l.insert(l.end(), items.begin(), items.end());
          break;
        }
        case 's': { auto v = pop(), k = pop(); charge(2 * sizeof(Ptr)); expect(top(), Value::Dict, "SETITEM")->entries.emplace_back(k, v); break; }
        case 'u': {                                     // SETITEMS
          auto items = popToMark();
          charge(items.size() * sizeof(Ptr));
          auto dict = expect(top(), Value::Dict, "SETITEMS");
          for (size_t i = 0; i + 1 < items.size(); i += 2) dict->entries.emplace_back(items[i], items[i + 1]);
          break;
        }
        case 'q': remember(byte()); break;              // BINPUT
        case 'r': remember(le(4)); break;               // LONG_BINPUT
        case 0x94: remember(memo_.size()); break;       // MEMOIZE
        case 'h': push(memo(byte())); break;            // BINGET
        case 'j': push(memo(le(4))); break;             // LONG_BINGET
        case 'c': {                                     // GLOBAL
          auto g = make(Value::Global);
          const std::string module = line();  // two statements: operand order of + is unspecified
          g->s = module + "." + line();
          charge(g->s.size());
          push(g);
          break;
        }
        case 0x93: {                                    // STACK_GLOBAL
          auto name = pop(), module = pop();
          auto g = make(Value::Global);
          charge(module->s.size() + name->s.size() + 1);  // names from the memo can be reused without end
          g->s = module->s + "." + name->s;
          push(g);
          break;
        }
        case 'Q': push(persistent(pop())); break;       // BINPERSID
        case 'R': { auto args = pop(), fn = pop(); push(call(fn, args)); break; }  // REDUCE
        case 0x81: { auto args = pop(), cls = pop(); push(call(cls, args)); break; }  // NEWOBJ
        case 'b': pop(); break;                         // BUILD: state of an OrderedDict/tensor (_metadata): unused
        case '0': pop(); break;                         // POP
        case '1': popToMark(); break;                   // POP_MARK
        case '2': push(top()); break;                   // DUP
        default: fail("unsupported pickle opcode 0x" + hex(op) + " at byte " + std::to_string(pos_ - 1));
      }
    }
  }

 private:
  [[noreturn]] void fail(const std::string& why) const { throw Error("ERR_BAD_WEIGHTS", "\"" + file_ + "\": " + why); }
  static std::string hex(unsigned v) {
    const char* digits = "0123456789abcdef";
    return std::string{digits[(v >> 4) & 15], digits[v & 15]};
  }
  unsigned char byte() {
    if (pos_ >= d_.size()) fail("the pickle ends early (truncated file?)");
    return static_cast<unsigned char>(d_[pos_++]);
  }
  std::string_view take(size_t n) {
    if (pos_ + n > d_.size()) fail("the pickle ends early (truncated file?)");
    auto s = d_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  uint64_t le(int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= static_cast<uint64_t>(byte()) << (8 * i);
    return v;
  }
  std::string line() {
    const size_t end = d_.find('\n', pos_);
    if (end == std::string_view::npos) fail("the pickle ends early (truncated file?)");
    std::string s(d_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return s;
  }
  Ptr integer(int64_t v) { auto p = make(Value::Int); p->i = v; return p; }
  Ptr boolean(bool v) { auto p = make(Value::Bool); p->i = v; return p; }
  Ptr str(uint64_t n) {
    auto p = make(Value::Str);
    p->s = std::string(take(n));
    charge(n);
    return p;
  }
  Ptr make(Value::Kind k) {
    charge(kValueBytes);
    arena_.emplace_back();
    arena_.back().kind = k;
    return &arena_.back();
  }
  std::unique_ptr<TensorRecord> record() {
    charge(sizeof(TensorRecord));
    return std::make_unique<TensorRecord>();
  }
  void remember(uint64_t key) {
    charge(64);  // a map node
    memo_[key] = top();
  }
  Ptr float64() {
    uint64_t bits = 0;
    for (int i = 0; i < 8; ++i) bits = bits << 8 | byte();  // big-endian
    auto p = make(Value::Float);
    std::memcpy(&p->f, &bits, 8);
    return p;
  }
  Ptr long1() {
    const unsigned n = byte();
    if (n > 8) fail("an integer too large for 64 bits");
    uint64_t v = 0;
    for (unsigned i = 0; i < n; ++i) v |= static_cast<uint64_t>(byte()) << (8 * i);
    if (n > 0 && n < 8 && (v >> (8 * n - 1)) & 1) v |= ~uint64_t{0} << (8 * n);  // sign-extend
    return integer(static_cast<int64_t>(v));
  }
  void push(Ptr v) {
    charge(sizeof(Ptr));
    stack_.push_back(v);
  }
  Ptr pop() {
    if (stack_.empty()) fail("malformed pickle (stack underflow)");
    auto v = stack_.back();
    stack_.pop_back();
    return v;
  }
  Ptr top() {
    if (stack_.empty()) fail("malformed pickle (stack underflow)");
    return stack_.back();
  }
  Ptr expect(Ptr v, Value::Kind kind, const char* op) {
    if (v->kind != kind) fail(std::string("malformed pickle (") + op + " on the wrong kind of object)");
    return v;
  }
  Ptr memo(uint64_t key) {
    auto it = memo_.find(key);
    if (it == memo_.end()) fail("malformed pickle (unknown memo " + std::to_string(key) + ")");
    return it->second;
  }
  std::vector<Ptr> popToMark() {
    size_t mark = stack_.size();
    while (mark > 0 && stack_[mark - 1]->kind != Value::Mark) --mark;
    if (mark == 0) fail("malformed pickle (no MARK on the stack)");
    std::vector<Ptr> items(stack_.begin() + static_cast<std::ptrdiff_t>(mark), stack_.end());
    stack_.resize(mark - 1);
    return items;
  }
  Ptr tuple(int n) {
    auto t = make(Value::Tuple);
    t->items.resize(n);
    for (int i = n - 1; i >= 0; --i) t->items[i] = pop();
    return t;
  }
  Ptr tupleFromMark() {
    auto t = make(Value::Tuple);
    t->items = popToMark();
    return t;
  }
  std::vector<int64_t> ints(const Ptr& t, const char* what) {
    if (t->kind != Value::Tuple && t->kind != Value::List) fail(std::string("malformed tensor ") + what);
    std::vector<int64_t> out;
    charge(t->items.size() * sizeof(int64_t));
    for (const auto& v : t->items) {
      if (v->kind != Value::Int) fail(std::string("malformed tensor ") + what);
      out.push_back(v->i);
    }
    return out;
  }
  // ('storage', torch.FloatStorage, key, location, numel) -> a storage reference.
  Ptr persistent(const Ptr& pid) {
    if (pid->kind != Value::Tuple || pid->items.size() < 3 || pid->items[0]->s != "storage")
      fail("unsupported persistent id in the pickle");
    const auto& type = pid->items[1]->s;
    auto dt = storageDtypes().find(type);
    if (dt == storageDtypes().end()) fail("unsupported storage type " + shown(type));
    auto s = make(Value::Storage);
    s->s = dt->second;
    s->tensor = record();
    s->tensor->storage = pid->items[2]->kind == Value::Str ? pid->items[2]->s : std::to_string(pid->items[2]->i);
    charge(s->tensor->storage.size());
    return s;
  }
  Ptr call(const Ptr& fn, const Ptr& args) {
    if (fn->kind != Value::Global) fail("malformed pickle (call of a non-global)");
    const std::string& name = fn->s;
    const auto& a = args->items;
    if (name == "collections.OrderedDict" || name == "builtins.dict" || name == "__builtin__.dict") return make(Value::Dict);
    if (name == "torch._utils._rebuild_tensor_v2" || name == "torch._utils._rebuild_tensor") {
      if (a.size() < 4 || a[0]->kind != Value::Storage || a[1]->kind != Value::Int) fail("malformed " + name + " call");
      auto t = make(Value::Tensor);
      charge(a[0]->tensor->storage.size());
      t->tensor = record();
      t->tensor->storage = a[0]->tensor->storage;
      t->tensor->dtype = a[0]->s;
      t->tensor->offset = a[1]->i;
      t->tensor->sizes = ints(a[2], "sizes");
      t->tensor->strides = ints(a[3], "strides");
      if (t->tensor->sizes.size() != t->tensor->strides.size()) fail("malformed tensor (sizes and strides differ in length)");
      return t;
    }
    if (name == "torch.jit._pickle.restore_type_tag") {  // torch::pickle_save tags typed containers: keep the value
      if (a.empty()) fail("malformed " + name + " call");
      return a[0];
    }
    if (name == "torch._utils._rebuild_parameter" || name == "torch._utils._rebuild_parameter_with_state") {
      if (a.empty() || a[0]->kind != Value::Tensor) fail("malformed " + name + " call");
      return a[0];
    }
    fail("unsupported object " + shown(name) + " in the pickle (expected a state dict of tensors)");
  }

  std::string_view d_;
  std::string file_;
  size_t pos_ = 0;
  std::deque<Value> arena_;  // every value, at a stable address; freed flat, whatever points at what
  std::vector<Ptr> stack_;
  std::map<uint64_t, Ptr> memo_;
  uint64_t budget_, used_ = 0;
};

bool allTensors(const Value& dict) {
  for (const auto& [k, v] : dict.entries)
    if (k->kind != Value::Str || v->kind != Value::Tensor) return false;
  return !dict.entries.empty();
}

// Opcodes of protocol 2, as pickle.py names them, for the writer.
class Pickler {
 public:
  std::string take() { return std::move(out_); }
  void op(char c) { out_.push_back(c); }
  void proto() { out_ += "\x80\x02"; }
  void global(const std::string& module, const std::string& name) { out_ += "c" + module + "\n" + name + "\n"; }
  void str(const std::string& s) {  // BINUNICODE: 4-byte length, UTF-8
    op('X');
    le(s.size(), 4);
    out_ += s;
  }
  void integer(int64_t v) {
    if (v >= 0 && v < 0x100) op('K'), le(v, 1);
    else if (v >= 0 && v < 0x10000) op('M'), le(v, 2);
    else if (v >= INT32_MIN && v <= INT32_MAX) op('J'), le(static_cast<uint32_t>(v), 4);
    else op('\x8a'), op(8), le(static_cast<uint64_t>(v), 8);  // LONG1: 8 bytes, two's complement
  }
  void ints(const std::vector<int64_t>& v) {  // a tuple of ints
    op('(');
    for (int64_t x : v) integer(x);
    op('t');
  }
  void emptyOrderedDict() {
    global("collections", "OrderedDict");
    op(')');  // EMPTY_TUPLE
    op('R');  // REDUCE
  }

 private:
  void le(uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  }
  std::string out_;
};

std::string storageClass(const std::string& dtype) {
  for (const auto& [cls, name] : storageDtypes())
    if (name == dtype) return cls.substr(std::string("torch.").size());
  throw invalidArg("No torch storage type for dtype \"" + dtype + "\"");
}

}  // namespace

std::string writeStateDict(const std::vector<std::pair<std::string, TensorRecord>>& tensors) {
  Pickler p;
  p.proto();
  p.emptyOrderedDict();
  p.op('(');  // MARK: the items, set by one SETITEMS
  for (const auto& [key, t] : tensors) {
    p.str(key);
    p.global("torch._utils", "_rebuild_tensor_v2");
    p.op('(');
    p.op('(');  // the storage's persistent id
    p.str("storage");
    p.global("torch", storageClass(t.dtype));
    p.str(t.storage);
    p.str("cpu");
    p.integer(storageExtent(t));
    p.op('t');
    p.op('Q');  // BINPERSID
    p.integer(t.offset);
    p.ints(t.sizes);
    p.ints(t.strides);
    p.op('\x89');  // NEWFALSE: requires_grad
    p.emptyOrderedDict();  // backward hooks
    p.op('t');
    p.op('R');
  }
  p.op('u');  // SETITEMS
  p.op('.');  // STOP
  return p.take();
}

int64_t storageExtent(const TensorRecord& t) {
  int64_t last = t.offset;
  for (size_t i = 0; i < t.sizes.size(); ++i) {
    if (t.sizes[i] == 0) return 0;
    last += (t.sizes[i] - 1) * t.strides[i];
  }
  return last + 1;
}

int64_t dtypeSize(const std::string& dtype) {
  if (dtype == "float64" || dtype == "int64") return 8;
  if (dtype == "float32" || dtype == "int32") return 4;
  if (dtype == "float16" || dtype == "bfloat16" || dtype == "int16") return 2;
  return 1;
}

std::vector<std::pair<std::string, TensorRecord>> readStateDict(std::string_view pickle, const std::string& file) {
  // A checkpoint that wraps the state dict ({"state_dict": {...}, "epoch": ...}) is unwrapped.
  auto unwrap = [](const Ptr& root) -> Ptr {
    if (root->kind != Value::Dict || allTensors(*root)) return root;
    for (const char* wrapper : {"state_dict", "model", "model_state_dict"})
      for (const auto& [k, v] : root->entries)
        if (k->kind == Value::Str && k->s == wrapper && v->kind == Value::Dict && allTensors(*v)) return v;
    return root;
  };
  Unpickler unpickler(pickle, file);  // owns every value `root` reaches
  const Ptr root = unwrap(unpickler.run());
  if (root->kind != Value::Dict)
    throw Error("ERR_BAD_WEIGHTS", "\"" + file + "\" does not hold a state dict (a dict of name -> tensor)");
  std::vector<std::pair<std::string, TensorRecord>> out;
  for (const auto& [k, v] : root->entries) {
    if (k->kind != Value::Str) throw Error("ERR_BAD_WEIGHTS", "\"" + file + "\": a state-dict key is not a string");
    if (v->kind != Value::Tensor)
      throw Error("ERR_BAD_WEIGHTS", "\"" + file + "\": entry \"" + shown(k->s) + "\" is not a tensor");
    // Keys and tensors from the memo can repeat without end: the copies count against the same budget.
    unpickler.charge(sizeof(out[0]) + k->s.size() + v->tensor->storage.size() + 16 * v->tensor->sizes.size());
    out.emplace_back(k->s, *v->tensor);
  }
  return out;
}

}  // namespace tn
