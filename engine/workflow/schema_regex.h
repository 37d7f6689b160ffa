// The `pattern` keyword's regular expressions, matched in linear time. std::regex, which valijson
// uses, backtracks through a fresh state machine on every call and dominated the cost of checking
// a payload; the patterns of the product's schemas are a small regular subset of ECMAScript
// (anchors, classes, groups, alternation, counted repeats), which compiles to a program run as a
// Pike machine. Anything outside that subset is not compiled here, and its caller keeps
// std::regex for it, so the verdicts are always ECMAScript's.
#pragma once

#include <bitset>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace procedo {

class SchemaRegex {
 public:
  // Null when the pattern uses syntax outside the subset (lookarounds, back references, `.`,
  // word boundaries, non-ASCII text) or compiles to an unreasonably long program.
  static std::unique_ptr<SchemaRegex> Compile(std::string_view pattern);

  // Whether some part of `text` matches, as ECMAScript's RegExp.prototype.test (and
  // std::regex_search) answers; bytes are characters, as std::regex over std::string sees them.
  // Thread-safe.
  bool Search(std::string_view text) const;

  struct Inst {
    enum Op : uint8_t { kSet, kSplit, kJmp, kBegin, kEnd, kMatch };
    Op op;
    uint32_t x = 0;  // kSet: index into sets_; kSplit, kJmp: target
    uint32_t y = 0;  // kSplit: second target
  };

 private:
  friend class RegexCompiler;
  // Recognises the shape `^` classes, then at most one class repeated, `$` (a sealed value's
  // pattern, a code's), which is matched by one pass over the text without the machine.
  void FindStraightLine();
  bool StraightSearch(std::string_view text) const;
  std::vector<Inst> prog_;
  std::vector<std::bitset<256>> sets_;
  bool straight_ = false;
  std::vector<uint32_t> fixed_;  // straight: the sets of the leading characters
  int64_t tail_ = -1;            // straight: the set repeated to the end, -1 when none
};

}  // namespace procedo
