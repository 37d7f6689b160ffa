// The yes-or-no check behind JsonSchema::Validate. Every command's payload and every appended
// event is checked, and nearly all conform: valijson, which builds a path of strings for every
// value it visits and runs std::regex for every pattern, cost more than deciding the command. This
// compiles the keywords the product's schemas use into a tree walked without allocating, its
// patterns into SchemaRegex programs. A schema with any other keyword is not compiled here, and a
// document this check refuses is checked again by valijson for the violations to report, so
// valijson remains the reference for what a schema means.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>

namespace procedo {

class SchemaCheck {
 public:
  // Null when the schema uses a keyword (or a form of one) this check does not implement.
  static std::unique_ptr<SchemaCheck> Compile(const nlohmann::json& schema);
  ~SchemaCheck();

  // Whether `document` conforms. Thread-safe.
  bool Accepts(const nlohmann::json& document) const;

 private:
  SchemaCheck();
  struct Node;
  struct Compiler;
  bool Accepts(const Node& node, const nlohmann::json& value) const;
  std::vector<Node> nodes_;  // nodes_[0] is the root
};

}  // namespace procedo
