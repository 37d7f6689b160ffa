// The knowledge base's storage (seed 004: resolved requests archived so that operators answer
// future ones): a Xapian database of archived tickets, searched with the Italian stemmer and
// filtered by tenant. Xapian's exceptions stop here and come out as Status values.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/base/status.h"

namespace procedo::projections {

// One archived ticket as the knowledge base keeps it. Only what helps answer the next request
// of the same kind: never the requester's contact, name or identity, nor the description (which
// requesters fill with their own details); and the texts kept are scrubbed of anything that
// reads as an e-mail address or a phone number (ScrubPersonalData).
struct KbDocument {
  std::string tenant;
  std::string stream;
  std::string number;  // TCK-<year>-<nnnnnn>, or "" for tickets older than numbers
  std::string subject;
  std::string category;
  std::string solution;
  std::vector<std::string> keywords;  // given when archiving
  std::string closed_at;              // RFC 3339, UTC; "" when never closed
  std::string archived_at;
};

struct KbHit {
  KbDocument doc;
  int percent = 0;  // Xapian's relevance, 0..100
  double weight = 0;
  std::string snippet;  // plain text of the solution around the matching words
};

struct KbQuery {
  std::string tenant;  // required: results never cross tenants
  std::string text;    // free text, Italian
  size_t limit = 10;
  std::string exclude_stream;  // e.g. the ticket whose similar tickets are asked for
};

// Replaces every word that reads as an e-mail address or a phone number with a placeholder,
// so that a requester's contact typed into a solution is not kept nor made searchable.
std::string ScrubPersonalData(const std::string& text);

// Not thread-safe by itself; KnowledgeBase serialises writers and readers.
class KbIndex {
 public:
  // Opens (or creates) the database in `dir`. A database that cannot be opened is reported,
  // never thrown; Reset() removes it so that it is rebuilt from the log.
  static Result<std::unique_ptr<KbIndex>> Open(const std::string& dir);
  static Status Remove(const std::string& dir);
  ~KbIndex();

  // Adds or replaces the ticket's document (one per stream); visible to Search at once,
  // durable at the next Commit.
  Status Put(const KbDocument& doc);
  // Makes everything Put so far durable together with `checkpoint` (the last log position
  // folded), in one Xapian transaction: after a crash the index is exactly at its checkpoint.
  Status Commit(uint64_t checkpoint);
  // nullopt when the database has never committed a checkpoint (new, or not built by us).
  Result<std::optional<uint64_t>> Checkpoint() const;
  Result<uint64_t> DocumentCount() const;
  // Ranked by relevance (BM25 over subject, category, keywords and solution).
  Result<std::vector<KbHit>> Search(const KbQuery& q) const;

 private:
  struct Impl;
  explicit KbIndex(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The Italian words left out of indexes and queries (Xapian ships no Italian list).
const std::vector<std::string>& KbStopWords();

// Bytes on disk under `dir`.
uint64_t DirectorySize(const std::string& dir);

}  // namespace procedo::projections
