// The help desk's knowledge base: archived tickets folded from events the real command handler
// appended, into a real Xapian index, searched as the API searches it.
#include "projections/views/knowledge_base.h"

#include <fmt/format.h>

#include "projection_fixture.h"

namespace procedo::testing {
namespace {

using nlohmann::json;
using projections::KbDocument;
using projections::KbHit;
using projections::KbIndex;
using projections::KbQuery;
using projections::KnowledgeBase;

struct KbFixture : ProjectionFixture {
  int next = 0;

  // Opens, takes in charge, resolves, closes and archives a ticket; returns its stream.
  std::string Archive(const std::string& tenant, const std::string& subject,
                      const std::string& solution, json extra = json::object(),
                      bool archive = true) {
    const auto hd = A("hd-" + tenant, "helpdesk_l1", tenant);
    const std::string stream = fmt::format("ticket-{}-{}", tenant, ++next);
    json open = TicketPayload("portal", "normal");
    open["subject"] = subject;
    open.update(extra);
    MustAt("2026-11-24T09:00:00+01:00", hd, stream, "open_ticket", open);
    MustAt("2026-11-24T09:05:00+01:00", hd, stream, "take_in_charge",
           {{"technician", "t1"}, {"technician_name", "Paola Neri"}});
    MustAt("2026-11-24T10:00:00+01:00", hd, stream, "resolve_ticket",
           {{"solution", solution}, {"answered_by", "email"}});
    MustAt("2026-11-24T10:30:00+01:00", hd, stream, "close_ticket");
    if (archive) MustAt("2026-11-25T09:00:00+01:00", hd, stream, "archive_ticket");
    return stream;
  }

  std::unique_ptr<KnowledgeBase> Open(const std::string& dir = "kb") {
    auto kb = KnowledgeBase::Open(*logf.log, logf.dir.sub(dir));
    INFO(kb.status().ToString());
    REQUIRE(kb.ok());
    REQUIRE((*kb)->CatchUp().ok());
    return std::move(kb).value();
  }
};

KbQuery Query(const std::string& text) {
  return KbQuery{.tenant = "comune-aosta", .text = text, .limit = 10, .exclude_stream = ""};
}

std::vector<std::string> Streams(const KnowledgeBase& kb, const std::string& tenant,
                                 const std::string& text, const std::string& exclude = "") {
  auto hits =
      kb.Search(KbQuery{.tenant = tenant, .text = text, .limit = 10, .exclude_stream = exclude});
  INFO(hits.status().ToString());
  REQUIRE(hits.ok());
  std::vector<std::string> out;
  for (const KbHit& h : *hits) out.push_back(h.doc.stream);
  return out;
}

TEST_CASE("the knowledge base ranks archived solutions, with the Italian stemmer",
          "[projections][kb]") {
  KbFixture f;
  const auto printer = f.Archive("comune-aosta", "La stampante non stampa la ricevuta",
                                 "Reinstallare il driver della stampante e riavviare il browser.");
  const auto password = f.Archive("comune-aosta", "Password dimenticata",
                                  "Reimpostare la password dal collegamento ricevuto per e-mail.");
  const auto upload = f.Archive("comune-aosta", "Il portale rifiuta il file allegato",
                                "Il file superava 20 MB: comprimerlo e caricarlo di nuovo.");
  const auto open = f.Archive("comune-aosta", "La stampante si blocca", "Sostituito il toner.",
                              json::object(), /*archive=*/false);
  auto kb = f.Open();
  REQUIRE(*kb->DocumentCount() == 3);  // the closed but not archived ticket is not in it

  // "stampanti" (plural) finds "stampante" through the stem; the ticket never archived does
  // not appear.
  CHECK(Streams(*kb, "comune-aosta", "stampanti") == std::vector<std::string>{printer});
  // Several documents match "file", "password", "portale": the one that matches most words
  // ranks first.
  auto ranked = Streams(*kb, "comune-aosta", "password dimenticata del portale");
  REQUIRE(ranked.size() >= 2);
  CHECK(ranked.front() == password);
  CHECK(std::find(ranked.begin(), ranked.end(), upload) != ranked.end());
  CHECK(Streams(*kb, "comune-aosta", "allegati troppo grandi").front() == upload);
  CHECK(Streams(*kb, "comune-aosta", "biblioteca").empty());

  // What the API answers: the number, the solution and a snippet of it around the words.
  auto hits = kb->Search(Query("driver stampante"));
  REQUIRE(hits.ok());
  REQUIRE(!hits->empty());
  const KbHit& top = hits->front();
  CHECK(top.doc.number.starts_with("TCK-2026-"));
  CHECK(top.doc.subject == "La stampante non stampa la ricevuta");
  CHECK(top.doc.solution.find("driver") != std::string::npos);
  CHECK(top.snippet.find("driver") != std::string::npos);
  CHECK(!top.doc.closed_at.empty());
  CHECK(top.percent > 0);
  (void)open;
}

TEST_CASE("another tenant's solutions never appear", "[projections][kb]") {
  KbFixture f;
  const auto aosta = f.Archive("comune-aosta", "La stampante non stampa", "Driver aggiornato.");
  const auto forli = f.Archive("comune-forli", "La stampante non stampa",
                               "Driver aggiornato dal tecnico di Forlì.");
  auto kb = f.Open();
  CHECK(Streams(*kb, "comune-aosta", "stampante driver") == std::vector<std::string>{aosta});
  CHECK(Streams(*kb, "comune-forli", "stampante driver") == std::vector<std::string>{forli});
  CHECK(Streams(*kb, "comune-torino", "stampante driver").empty());
  CHECK(Streams(*kb, "comune-aosta", "Forlì").empty());
}

TEST_CASE("the requester's personal data is not indexed", "[projections][kb]") {
  KbFixture f;
  const auto t = f.Archive(
      "comune-aosta", "Non riesco ad accedere",
      "Sbloccata l'utenza; confermato a mario.rossi@example.it e al 333 1234567.",
      {{"contact", {{"email", "mario.rossi@example.it"}, {"phone", "+39 333 1234567"}}},
       {"description", "Sono Mario Rossi, codice fiscale RSSMRA80A01A326X, chiamatemi."}});
  auto kb = f.Open();
  REQUIRE(Streams(*kb, "comune-aosta", "accedere") == std::vector<std::string>{t});
  for (const char* q : {"mario.rossi@example.it", "mario", "rossi", "3331234567", "1234567",
                        "RSSMRA80A01A326X", "chiamatemi"}) {
    INFO(q);
    CHECK(Streams(*kb, "comune-aosta", q).empty());
  }
  // "utenza" is found inside "l'utenza": Italian elisions are split.
  auto hits = kb->Search(Query("utenza"));
  REQUIRE(hits.ok());
  REQUIRE(hits->size() == 1);
  CHECK(hits->front().doc.solution == "Sbloccata l'utenza; confermato a [e-mail] e al [telefono].");
}

TEST_CASE("scrubbing keeps numbers that are not phone numbers", "[projections][kb]") {
  using projections::ScrubPersonalData;
  CHECK(ScrubPersonalData("scrivere a anna@example.it.") == "scrivere a [e-mail].");
  CHECK(ScrubPersonalData("chiamare +39 0165 123456 oggi") == "chiamare [telefono] oggi");
  CHECK(ScrubPersonalData("il 04/12/2026 alle 10:30, versione 1.4.22") ==
        "il 04/12/2026 alle 10:30, versione 1.4.22");
  CHECK(ScrubPersonalData("vedi TCK-2026-000123") == "vedi TCK-2026-000123");
  CHECK(ScrubPersonalData("file di 20 MB") == "file di 20 MB");
}

TEST_CASE("the tickets most like one being taken in charge", "[projections][kb]") {
  KbFixture f;
  const auto printer = f.Archive("comune-aosta", "La stampante non stampa la ricevuta",
                                 "Reinstallare il driver della stampante.");
  f.Archive("comune-aosta", "Password dimenticata", "Reimpostare la password.");
  auto kb = f.Open();
  const json opened = {{"subject", "Stampa della ricevuta non riuscita"},
                       {"description", "Premo stampa e la stampante non fa nulla"}};
  const std::string text = projections::SimilarityText(opened);
  CHECK(text.find("la stampante non fa nulla") != std::string::npos);
  CHECK(Streams(*kb, "comune-aosta", text).front() == printer);
  // The ticket itself, once archived, is not its own most similar ticket.
  CHECK(Streams(*kb, "comune-aosta", "stampante ricevuta", printer).empty());
}

TEST_CASE("the knowledge base is a view: a restart resumes, a rebuild gives the same answers",
          "[projections][kb]") {
  KbFixture f;
  f.Archive("comune-aosta", "La stampante non stampa", "Driver della stampante aggiornato.");
  f.Archive("comune-aosta", "Stampa lenta del modulo", "Svuotata la cache del browser.");
  std::vector<std::string> live;
  uint64_t position = 0;
  {
    auto kb = f.Open();
    live = Streams(*kb, "comune-aosta", "stampante stampa");
    position = kb->position();
    CHECK(position == f.logf.log->LastPosition());
  }
  REQUIRE(live.size() == 2);
  {
    // The checkpoint was committed with the documents: a restart starts where it stopped.
    auto again = KnowledgeBase::Open(*f.logf.log, f.logf.dir.sub("kb"));
    REQUIRE(again.ok());
    CHECK((*again)->position() == position);
    CHECK(Streams(**again, "comune-aosta", "stampante stampa") == live);
  }
  // Dropped and folded again from position 0.
  REQUIRE(KbIndex::Remove(f.logf.dir.sub("kb")).ok());
  auto rebuilt = f.Open();
  CHECK(rebuilt->position() == position);
  CHECK(Streams(*rebuilt, "comune-aosta", "stampante stampa") == live);

  // Archived while it follows the log: found once it has caught up.
  REQUIRE(rebuilt->Start().ok());
  const auto later = f.Archive("comune-aosta", "Stampante offline", "Riacceso lo spooler.");
  CHECK(rebuilt->WaitFor(f.logf.log->LastPosition(), std::chrono::seconds(10)));
  CHECK(Streams(*rebuilt, "comune-aosta", "spooler") == std::vector<std::string>{later});
  rebuilt->Stop();
}

TEST_CASE("an index ahead of its log is dropped and folded again", "[projections][kb]") {
  KbFixture f;
  const auto real = f.Archive("comune-aosta", "La stampante non stampa", "Driver aggiornato.");
  {
    // As if the data directory had been restored with an older log: the index names a ticket
    // the log does not hold, at a checkpoint the log never reached.
    auto index = KbIndex::Open(f.logf.dir.sub("kb"));
    REQUIRE(index.ok());
    KbDocument ghost;
    ghost.tenant = "comune-aosta";
    ghost.stream = "ticket-ghost";
    ghost.subject = "stampante";
    REQUIRE((*index)->Put(ghost).ok());
    REQUIRE((*index)->Commit(f.logf.log->LastPosition() + 1000).ok());
  }
  auto kb = f.Open();
  CHECK(Streams(*kb, "comune-aosta", "stampante") == std::vector<std::string>{real});
}

}  // namespace
}  // namespace procedo::testing
