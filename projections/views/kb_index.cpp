#include "projections/views/kb_index.h"

#include <fmt/format.h>
#include <xapian.h>

#include <cctype>
#include <charconv>
#include <filesystem>
#include <nlohmann/json.hpp>

namespace procedo::projections {

using nlohmann::json;

namespace {

constexpr const char* kCheckpointKey = "procedo.checkpoint";
constexpr const char* kTenantPrefix = "XT";
constexpr const char* kStreamPrefix = "Q";

Status FromXapian(const Xapian::Error& e, const std::string& doing) {
  return Status::IoError(fmt::format(
      "knowledge base: {} failed ({}: {}); if the index under <data_dir>/kb is damaged, stop the "
      "server and run `procedo rebuild knowledge_base`",
      doing, e.get_type(), e.get_msg()));
}

const Xapian::Stem& Italian() {
  static const Xapian::Stem stem("italian");
  return stem;
}

const Xapian::Stopper& Stopper() {
  static const Xapian::SimpleStopper stopper(KbStopWords().begin(), KbStopWords().end());
  return stopper;
}

json ToJson(const KbDocument& d) {
  return {{"tenant", d.tenant},     {"stream", d.stream},       {"number", d.number},
          {"subject", d.subject},   {"category", d.category},   {"solution", d.solution},
          {"keywords", d.keywords}, {"closed_at", d.closed_at}, {"archived_at", d.archived_at}};
}

KbDocument FromJson(const json& j) {
  KbDocument d;
  d.tenant = j.value("tenant", "");
  d.stream = j.value("stream", "");
  d.number = j.value("number", "");
  d.subject = j.value("subject", "");
  d.category = j.value("category", "");
  d.solution = j.value("solution", "");
  d.keywords = j.value("keywords", std::vector<std::string>{});
  d.closed_at = j.value("closed_at", "");
  d.archived_at = j.value("archived_at", "");
  return d;
}

// Xapian escapes its snippets for HTML; the API answers plain text and every page escapes what
// it shows, so the escaping is undone here rather than done twice.
std::string Unescape(std::string s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    bool replaced = false;
    for (auto [entity, ch] : {std::pair{"&amp;", '&'},
                              {"&lt;", '<'},
                              {"&gt;", '>'},
                              {"&quot;", '"'},
                              {"&#39;", '\''}}) {
      std::string_view e(entity);
      if (s.compare(i, e.size(), e) == 0) {
        out.push_back(ch);
        i += e.size();
        replaced = true;
        break;
      }
    }
    if (!replaced) out.push_back(s[i++]);
  }
  return out;
}

// Digits with the separators people write phone numbers with; nullopt for any other word.
std::optional<size_t> NumberDigits(std::string_view w) {
  size_t digits = 0;
  for (char c : w) {
    if (std::isdigit(static_cast<unsigned char>(c))) {
      ++digits;
    } else if (c != '+' && c != '.' && c != '-' && c != '/' && c != '(' && c != ')') {
      return std::nullopt;
    }
  }
  if (digits == 0) return std::nullopt;
  return digits;
}

// Italian elides articles and prepositions with an apostrophe ("l'utenza", "dell'allegato"),
// which Xapian keeps inside one word as it does for English "don't": "utenza" would then never
// match. Apostrophes (ASCII and typographic) become spaces in what is indexed and searched.
std::string SplitElisions(std::string text) {
  static const std::string kTypographic = "\xE2\x80\x99";  // U+2019
  for (size_t i = text.find(kTypographic); i != std::string::npos;
       i = text.find(kTypographic, i)) {
    text.replace(i, kTypographic.size(), " ");
  }
  for (char& c : text) {
    if (c == '\'') c = ' ';
  }
  return text;
}

struct Word {
  size_t begin, end;  // the word in the text
  size_t core;        // its length without trailing punctuation
};

}  // namespace

// Words so frequent in Italian that they only blur the ranking of short requests.
const std::vector<std::string>& KbStopWords() {
  static const std::vector<std::string> words = {
      "a",   "ad", "al",   "alla",  "alle", "allo",  "anche", "che",   "chi",   "ci",
      "con", "da", "dal",  "dalla", "dei",  "del",   "della", "delle", "dello", "di",
      "e",   "è",  "gli",  "ha",    "ho",   "i",     "il",    "in",    "io",    "la",
      "le",  "lo", "ma",   "mi",    "mio",  "ne",    "nel",   "nella", "o",     "per",
      "più", "si", "sono", "su",    "sul",  "sulla", "tra",   "un",    "una",   "uno"};
  return words;
}

std::string ScrubPersonalData(const std::string& text) {
  std::vector<Word> words;
  for (size_t i = 0; i < text.size();) {
    if (std::isspace(static_cast<unsigned char>(text[i]))) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < text.size() && !std::isspace(static_cast<unsigned char>(text[j]))) ++j;
    // Trailing punctuation stays: "scrivere a mario@example.it." keeps its full stop.
    size_t end = j;
    while (end > i && std::ispunct(static_cast<unsigned char>(text[end - 1])) &&
           text[end - 1] != ')') {
      --end;
    }
    words.push_back({i, j, end - i});
    i = j;
  }
  std::string out;
  out.reserve(text.size());
  size_t copied = 0;  // text before this offset is in `out`
  for (size_t k = 0; k < words.size(); ++k) {
    const Word& w = words[k];
    std::string_view core(text.data() + w.begin, w.core);
    if (core.find('@') != std::string_view::npos) {
      out.append(text, copied, w.begin - copied);
      out += "[e-mail]";
      copied = w.begin + w.core;
      continue;
    }
    // A phone number is often written in groups ("333 1234567", "+39 0165 123456"): a run of
    // number-like words with at least nine digits in all (a date has eight).
    size_t digits = 0, m = k;
    while (m < words.size()) {
      auto d = NumberDigits(std::string_view(text.data() + words[m].begin, words[m].core));
      if (!d) break;
      digits += *d;
      if (words[m].core != words[m].end - words[m].begin) {  // punctuation ends the run
        ++m;
        break;
      }
      ++m;
    }
    if (digits >= 9) {
      out.append(text, copied, w.begin - copied);
      out += "[telefono]";
      copied = words[m - 1].begin + words[m - 1].core;
      k = m - 1;
    }
  }
  out.append(text, copied, std::string::npos);
  return out;
}

struct KbIndex::Impl {
  Xapian::WritableDatabase db;
};

KbIndex::KbIndex(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KbIndex::~KbIndex() = default;

Result<std::unique_ptr<KbIndex>> KbIndex::Open(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(dir).parent_path(), ec);
  try {
    auto impl = std::make_unique<Impl>();
    impl->db = Xapian::WritableDatabase(dir, Xapian::DB_CREATE_OR_OPEN);
    return std::unique_ptr<KbIndex>(new KbIndex(std::move(impl)));
  } catch (const Xapian::DatabaseLockError& e) {
    return Status::Unavailable(fmt::format(
        "the knowledge base at {} is in use by another procedo process ({}); stop it first", dir,
        e.get_msg()));
  } catch (const Xapian::Error& e) {
    return FromXapian(e, fmt::format("opening {}", dir));
  }
}

Status KbIndex::Remove(const std::string& dir) {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  if (ec) {
    return Status::IoError(
        fmt::format("cannot remove the knowledge base at {}: {}; remove the "
                    "directory by hand and start again",
                    dir, ec.message()));
  }
  return Status::Ok();
}

Status KbIndex::Put(const KbDocument& doc) {
  try {
    Xapian::Document xd;
    Xapian::TermGenerator tg;
    tg.set_stemmer(Italian());
    tg.set_stemming_strategy(Xapian::TermGenerator::STEM_SOME);
    tg.set_stopper(&Stopper());
    tg.set_document(xd);
    // The subject names the problem in the requester's words: it counts twice.
    tg.index_text(SplitElisions(doc.subject), 2);
    tg.increase_termpos();
    tg.index_text(SplitElisions(doc.category));
    tg.increase_termpos();
    for (const auto& k : doc.keywords) {
      tg.index_text(SplitElisions(k), 2);
      tg.increase_termpos();
    }
    tg.index_text(SplitElisions(doc.solution));
    xd.add_boolean_term(kTenantPrefix + doc.tenant);
    const std::string id = kStreamPrefix + doc.stream;
    xd.add_boolean_term(id);
    xd.set_data(ToJson(doc).dump());
    impl_->db.replace_document(id, xd);
    return Status::Ok();
  } catch (const Xapian::Error& e) {
    return FromXapian(e, fmt::format("indexing {}", doc.stream));
  }
}

Status KbIndex::Commit(uint64_t checkpoint) {
  try {
    impl_->db.set_metadata(kCheckpointKey, std::to_string(checkpoint));
    impl_->db.commit();
    return Status::Ok();
  } catch (const Xapian::Error& e) {
    return FromXapian(e, "committing");
  }
}

Result<std::optional<uint64_t>> KbIndex::Checkpoint() const {
  try {
    const std::string v = impl_->db.get_metadata(kCheckpointKey);
    if (v.empty()) return std::optional<uint64_t>();
    uint64_t n = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || p != v.data() + v.size()) {
      return Status::Corruption(fmt::format(
          "knowledge base: checkpoint '{}' is not a number; run `procedo rebuild knowledge_base`",
          v));
    }
    return std::optional<uint64_t>(n);
  } catch (const Xapian::Error& e) {
    return FromXapian(e, "reading the checkpoint");
  }
}

Result<uint64_t> KbIndex::DocumentCount() const {
  try {
    return static_cast<uint64_t>(impl_->db.get_doccount());
  } catch (const Xapian::Error& e) {
    return FromXapian(e, "counting documents");
  }
}

Result<std::vector<KbHit>> KbIndex::Search(const KbQuery& q) const {
  std::vector<KbHit> hits;
  try {
    Xapian::QueryParser qp;
    qp.set_database(impl_->db);
    qp.set_stemmer(Italian());
    qp.set_stemming_strategy(Xapian::QueryParser::STEM_SOME);
    qp.set_stopper(&Stopper());
    qp.set_default_op(Xapian::Query::OP_OR);
    // No operators: people type sentences, and a stray "AND" or quote must not be an error.
    Xapian::Query text = qp.parse_query(SplitElisions(q.text), 0);
    if (text.empty()) return hits;
    Xapian::Query query(Xapian::Query::OP_FILTER, text, Xapian::Query(kTenantPrefix + q.tenant));
    if (!q.exclude_stream.empty()) {
      query = Xapian::Query(Xapian::Query::OP_AND_NOT, query,
                            Xapian::Query(kStreamPrefix + q.exclude_stream));
    }
    Xapian::Enquire enquire(impl_->db);
    enquire.set_query(query);
    Xapian::MSet mset = enquire.get_mset(0, static_cast<Xapian::doccount>(q.limit));
    for (auto it = mset.begin(); it != mset.end(); ++it) {
      KbHit h;
      h.doc = FromJson(json::parse(it.get_document().get_data(), nullptr, false));
      h.percent = it.get_percent();
      h.weight = it.get_weight();
      h.snippet = Unescape(mset.snippet(
          h.doc.solution, 240, Italian(),
          Xapian::MSet::SNIPPET_BACKGROUND_MODEL | Xapian::MSet::SNIPPET_EXHAUSTIVE, "", "", "…"));
      hits.push_back(std::move(h));
    }
    return hits;
  } catch (const Xapian::Error& e) {
    return FromXapian(e, "searching");
  }
}

uint64_t DirectorySize(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec)) total += it->file_size(ec);
  }
  return total;
}

}  // namespace procedo::projections
