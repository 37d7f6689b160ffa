#include "engine/workflow/schema_regex.h"

#include <string>

namespace procedo {

namespace {

using Set = std::bitset<256>;

struct Node {
  enum Kind { kSet, kCat, kAlt, kRepeat, kBegin, kEnd } kind;
  uint32_t set = 0;
  std::vector<Node> kids;
  int min = 0, max = 0;  // kRepeat; max -1: unbounded
};

constexpr int kMaxCount = 1000;
constexpr size_t kMaxProgram = 20'000;

Set Range(unsigned char lo, unsigned char hi) {
  Set s;
  for (unsigned c = lo; c <= hi; ++c) s.set(c);
  return s;
}

// The classes std::regex's ECMAScript grammar gives \d, \w and \s in the classic locale.
Set Digits() {
  return Range('0', '9');
}
Set Word() {
  return Range('a', 'z') | Range('A', 'Z') | Digits() | Range('_', '_');
}
Set Space() {
  Set s;
  for (char c : std::string(" \t\n\v\f\r")) s.set(static_cast<unsigned char>(c));
  return s;
}

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

class RegexCompiler {
 public:
  explicit RegexCompiler(std::string_view p) : p_(p) {}

  std::unique_ptr<SchemaRegex> Run() {
    for (char c : p_) {
      if (static_cast<unsigned char>(c) >= 0x80) return nullptr;
    }
    Node root = Alternation();
    if (!ok_ || i_ != p_.size()) return nullptr;
    out_ = std::make_unique<SchemaRegex>();
    out_->sets_ = std::move(sets_);
    Emit(root);
    Push({SchemaRegex::Inst::kMatch});
    if (!ok_ || out_->prog_.size() > kMaxProgram) return nullptr;
    return std::move(out_);
  }

 private:
  bool More() const { return ok_ && i_ < p_.size(); }
  char Peek() const { return p_[i_]; }
  bool Fail() { return ok_ = false; }

  Node SetNode(const Set& s) {
    sets_.push_back(s);
    return Node{Node::kSet, static_cast<uint32_t>(sets_.size() - 1), {}, 0, 0};
  }

  Node Alternation() {
    Node alt{Node::kAlt, 0, {}, 0, 0};
    alt.kids.push_back(Sequence());
    while (More() && Peek() == '|') {
      ++i_;
      alt.kids.push_back(Sequence());
    }
    return alt.kids.size() == 1 ? std::move(alt.kids.front()) : alt;
  }

  Node Sequence() {
    Node cat{Node::kCat, 0, {}, 0, 0};
    while (More() && Peek() != '|' && Peek() != ')') {
      char c = p_[i_];
      if (c == '^' || c == '$') {
        ++i_;
        cat.kids.push_back(Node{c == '^' ? Node::kBegin : Node::kEnd, 0, {}, 0, 0});
        continue;
      }
      Node atom = Atom();
      if (!ok_) return cat;
      cat.kids.push_back(Quantified(std::move(atom)));
    }
    return cat;
  }

  Node Atom() {
    char c = p_[i_++];
    if (c == '(') {
      if (More() && Peek() == '?') {
        if (i_ + 1 >= p_.size() || p_[i_ + 1] != ':') return Fail(), Node{};
        i_ += 2;
      }
      Node inner = Alternation();
      if (!More() || Peek() != ')') return Fail(), Node{};
      ++i_;
      return inner;
    }
    if (c == '[') return Class();
    if (c == '\\') {
      Set s;
      if (!Escape(&s, nullptr)) return Fail(), Node{};
      return SetNode(s);
    }
    if (std::string_view(".*+?{}])").find(c) != std::string_view::npos) return Fail(), Node{};
    Set s;
    s.set(static_cast<unsigned char>(c));
    return SetNode(s);
  }

  // After a backslash: a class escape, or one character (`*single` set when given).
  bool Escape(Set* s, int* single) {
    if (!More()) return Fail();
    char c = p_[i_++];
    auto one = [&](int v) {
      if (v < 0 || v >= 0x80) return Fail();
      s->set(static_cast<unsigned char>(v));
      if (single != nullptr) *single = v;
      return true;
    };
    const char lower = static_cast<char>(c | 0x20);
    if (lower == 'd' || lower == 'w' || lower == 's') {
      const Set cls = lower == 'd' ? Digits() : lower == 'w' ? Word() : Space();
      *s |= c == lower ? cls : ~cls;
      return true;
    }
    static constexpr std::string_view kControls = "t\tn\nr\rf\fv\v";  // letter, character
    for (size_t k = 0; k < kControls.size(); k += 2) {
      if (c == kControls[k]) return one(kControls[k + 1]);
    }
    switch (c) {
      case 'u':
      case 'x': {
        const size_t digits = c == 'u' ? 4 : 2;
        if (i_ + digits > p_.size()) return Fail();
        int v = 0;
        for (size_t k = 0; k < digits; ++k) {
          int h = Hex(p_[i_++]);
          if (h < 0) return Fail();
          v = v * 16 + h;
        }
        return one(v);
      }
      default:
        // Only punctuation stands for itself: letters and digits are other escapes (\b, \1,
        // \0, \c...) this subset leaves to std::regex.
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
          return Fail();
        }
        return one(static_cast<unsigned char>(c));
    }
  }

  Node Class() {
    Set s;
    bool negate = false;
    if (More() && Peek() == '^') negate = true, ++i_;
    // `[]` and `[^]` mean other things in ECMAScript; `[` inside may start a POSIX class in
    // std::regex.
    if (More() && (Peek() == ']' || Peek() == '[')) return Fail(), Node{};
    while (More() && Peek() != ']') {
      int lo = -1;
      if (!ClassAtom(&s, &lo)) return Fail(), Node{};
      if (More() && Peek() == '-' && i_ + 1 < p_.size() && p_[i_ + 1] != ']') {
        ++i_;
        Set ignored;
        int hi = -1;
        if (!ClassAtom(&ignored, &hi) || lo < 0 || hi < 0 || lo > hi) return Fail(), Node{};
        s |= Range(static_cast<unsigned char>(lo), static_cast<unsigned char>(hi));
      }
    }
    if (!More()) return Fail(), Node{};
    ++i_;  // ]
    return SetNode(negate ? ~s : s);
  }

  bool ClassAtom(Set* s, int* single) {
    char c = p_[i_++];
    if (c == '[') return Fail();
    if (c == '\\') return Escape(s, single);
    s->set(static_cast<unsigned char>(c));
    *single = static_cast<unsigned char>(c);
    return true;
  }

  bool Number(int* v) {
    if (!More() || Peek() < '0' || Peek() > '9') return false;
    *v = 0;
    while (More() && Peek() >= '0' && Peek() <= '9') {
      *v = *v * 10 + (p_[i_++] - '0');
      if (*v > kMaxCount) return false;
    }
    return true;
  }

  Node Quantified(Node atom) {
    if (!More()) return atom;
    int min = 0, max = 0;
    switch (Peek()) {
      case '*':
        min = 0, max = -1, ++i_;
        break;
      case '+':
        min = 1, max = -1, ++i_;
        break;
      case '?':
        min = 0, max = 1, ++i_;
        break;
      case '{': {
        ++i_;
        if (!Number(&min)) return Fail(), Node{};
        max = min;
        if (More() && Peek() == ',') {
          ++i_;
          max = -1;
          if (More() && Peek() != '}' && !Number(&max)) return Fail(), Node{};
        }
        if (!More() || Peek() != '}' || (max >= 0 && max < min)) return Fail(), Node{};
        ++i_;
        break;
      }
      default:
        return atom;
    }
    if (More() && Peek() == '?') ++i_;  // lazy: another order, the same verdict
    if (More() && std::string_view("*+?{").find(Peek()) != std::string_view::npos) {
      return Fail(), Node{};
    }
    Node rep{Node::kRepeat, 0, {}, min, max};
    rep.kids.push_back(std::move(atom));
    return rep;
  }

  uint32_t Here() const { return static_cast<uint32_t>(out_->prog_.size()); }
  uint32_t Push(SchemaRegex::Inst inst) {
    out_->prog_.push_back(inst);
    if (out_->prog_.size() > kMaxProgram) ok_ = false;
    return Here() - 1;
  }

  void Emit(const Node& n) {
    if (!ok_) return;
    using I = SchemaRegex::Inst;
    switch (n.kind) {
      case Node::kSet:
        Push({I::kSet, n.set});
        return;
      case Node::kBegin:
        Push({I::kBegin});
        return;
      case Node::kEnd:
        Push({I::kEnd});
        return;
      case Node::kCat:
        for (const auto& k : n.kids) Emit(k);
        return;
      case Node::kAlt: {
        std::vector<uint32_t> jumps;
        for (size_t k = 0; k < n.kids.size(); ++k) {
          uint32_t split = 0;
          if (k + 1 < n.kids.size()) split = Push({I::kSplit, Here() + 1, 0});
          Emit(n.kids[k]);
          if (k + 1 < n.kids.size()) {
            jumps.push_back(Push({I::kJmp}));
            if (ok_) out_->prog_[split].y = Here();
          }
        }
        for (uint32_t j : jumps) {
          if (ok_) out_->prog_[j].x = Here();
        }
        return;
      }
      case Node::kRepeat: {
        for (int k = 0; k < n.min; ++k) Emit(n.kids[0]);
        if (n.max < 0) {
          uint32_t loop = Push({I::kSplit, Here() + 1, 0});
          Emit(n.kids[0]);
          Push({I::kJmp, loop});
          if (ok_) out_->prog_[loop].y = Here();
          return;
        }
        std::vector<uint32_t> splits;
        for (int k = n.min; k < n.max && ok_; ++k) {
          splits.push_back(Push({I::kSplit, Here() + 1, 0}));
          Emit(n.kids[0]);
        }
        for (uint32_t s : splits) {
          if (ok_) out_->prog_[s].y = Here();
        }
        return;
      }
    }
  }

  std::string_view p_;
  size_t i_ = 0;
  bool ok_ = true;
  std::vector<Set> sets_;
  std::unique_ptr<SchemaRegex> out_;
};

std::unique_ptr<SchemaRegex> SchemaRegex::Compile(std::string_view pattern) {
  auto out = RegexCompiler(pattern).Run();
  if (out) out->FindStraightLine();
  return out;
}

void SchemaRegex::FindStraightLine() {
  size_t pc = 0;
  if (prog_.empty() || prog_[pc++].op != Inst::kBegin) return;
  std::vector<uint32_t> fixed;
  while (pc < prog_.size() && prog_[pc].op == Inst::kSet) fixed.push_back(prog_[pc++].x);
  int64_t tail = -1;
  // X* compiles to: split(next, out); set X; jmp split.
  if (pc + 2 < prog_.size() && prog_[pc].op == Inst::kSplit && prog_[pc].x == pc + 1 &&
      prog_[pc].y == pc + 3 && prog_[pc + 1].op == Inst::kSet && prog_[pc + 2].op == Inst::kJmp &&
      prog_[pc + 2].x == pc) {
    tail = prog_[pc + 1].x;
    pc += 3;
  }
  if (pc + 2 != prog_.size() || prog_[pc].op != Inst::kEnd || prog_[pc + 1].op != Inst::kMatch) {
    return;
  }
  straight_ = true;
  fixed_ = std::move(fixed);
  tail_ = tail;
}

bool SchemaRegex::StraightSearch(std::string_view text) const {
  if (text.size() < fixed_.size() || (tail_ < 0 && text.size() != fixed_.size())) return false;
  for (size_t i = 0; i < fixed_.size(); ++i) {
    if (!sets_[fixed_[i]][static_cast<unsigned char>(text[i])]) return false;
  }
  if (tail_ >= 0) {
    const auto& set = sets_[static_cast<size_t>(tail_)];
    for (size_t i = fixed_.size(); i < text.size(); ++i) {
      if (!set[static_cast<unsigned char>(text[i])]) return false;
    }
  }
  return true;
}

bool SchemaRegex::Search(std::string_view text) const {
  if (straight_) return StraightSearch(text);
  // Scratch per thread, reused: a check runs for every string of every payload.
  thread_local std::vector<uint32_t> marks, current, next, stack;
  thread_local uint32_t gen = 0;
  if (marks.size() < prog_.size()) marks.resize(prog_.size(), 0);
  current.clear();
  const bool anchored = !prog_.empty() && prog_[0].op == Inst::kBegin;
  bool matched = false;
  // Follows the empty moves from `pc` at `pos`, collecting the threads that wait on a character.
  auto add = [&](std::vector<uint32_t>& list, uint32_t start, size_t pos) {
    stack.clear();
    stack.push_back(start);
    while (!stack.empty() && !matched) {
      uint32_t pc = stack.back();
      stack.pop_back();
      if (marks[pc] == gen) continue;
      marks[pc] = gen;
      const Inst& in = prog_[pc];
      switch (in.op) {
        case Inst::kSet:
          list.push_back(pc);
          break;
        case Inst::kJmp:
          stack.push_back(in.x);
          break;
        case Inst::kSplit:
          stack.push_back(in.y), stack.push_back(in.x);
          break;
        case Inst::kBegin:
          if (pos == 0) stack.push_back(pc + 1);
          break;
        case Inst::kEnd:
          if (pos == text.size()) stack.push_back(pc + 1);
          break;
        case Inst::kMatch:
          matched = true;
          break;
      }
    }
  };
  auto fresh = [&] {
    if (++gen == 0) {
      std::fill(marks.begin(), marks.end(), 0);
      gen = 1;
    }
  };
  fresh();
  add(current, 0, 0);
  for (size_t pos = 0; !matched && pos < text.size(); ++pos) {
    if (anchored && current.empty()) return false;
    const unsigned char c = static_cast<unsigned char>(text[pos]);
    fresh();
    next.clear();
    for (uint32_t pc : current) {
      if (sets_[prog_[pc].x][c]) add(next, pc + 1, pos + 1);
    }
    if (!anchored) add(next, 0, pos + 1);
    current.swap(next);
  }
  return matched;
}

}  // namespace procedo
