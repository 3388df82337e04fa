// A PostgreSQL connection string's password never reaches an error text (issue 10, item 5),
// whichever form the DSN takes (key/value or URI, quoted, percent-encoded) and even when libpq
// cannot parse it: its parse errors quote the DSN, or the token that failed, as written.
// Only the last case needs a server; the others fail before any connection is made, or on a
// port where nothing listens.
#include <regex>
#include <string>
#include <vector>

// boost::function (behind Boost.Test preconditions) trips a false -Wuninitialized in GCC 12.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/test/unit_test.hpp>

#include "cano/postgres_checkpoint_store.hpp"
#include "support/postgres.hpp"

using namespace test;

namespace {

/// The error text of opening a store on `dsn`; the open must fail with checkpoint_store.
std::string open_error(const std::string& dsn) {
  cano::PostgresOptions options;
  options.dsn = dsn;
  auto r = cano::PostgresCheckpointStore::open(options);
  BOOST_REQUIRE_MESSAGE(!r.has_value(), "opening " << dsn << " succeeded");
  BOOST_TEST(r.error().category() == std::string("checkpoint_store"));
  return r.error().to_string();
}

/// No piece of the password (any of `pieces`) is in `text`, and `text` says `what`.
void check_hidden(const std::string& text, const std::vector<std::string>& pieces, const std::string& what) {
  for (const auto& p : pieces) {
    BOOST_TEST(text.find(p) == std::string::npos, "\"" << p << "\" leaked in: " << text);
  }
  BOOST_TEST(text.find(what) != std::string::npos, "\"" << what << "\" missing in: " << text);
}

} // namespace

BOOST_AUTO_TEST_SUITE(dsn_secrets_test)

BOOST_AUTO_TEST_CASE(a_uri_with_a_malformed_host_hides_its_password) {
  auto text = open_error("postgresql://u:Hunter2-Secret@[::1:5432/x");
  check_hidden(text, {"Hunter2", "Secret"}, "IPv6 host address");
}

BOOST_AUTO_TEST_CASE(a_bad_percent_escape_in_the_user_info_hides_the_password) {
  check_hidden(open_error("postgresql://u:Hunter2%zzSecret@127.0.0.1:1/x"), {"Hunter2", "Secret"},
               "invalid percent-encoded token");
  check_hidden(open_error("postgresql://u:Hunter2%00Secret@127.0.0.1:1/x"), {"Hunter2", "Secret"},
               "forbidden value %00");
}

BOOST_AUTO_TEST_CASE(a_bad_percent_escape_in_a_query_password_hides_it) {
  check_hidden(open_error("postgresql://u@127.0.0.1:1/x?password=Hunter2%zzSecret"), {"Hunter2", "Secret"},
               "invalid percent-encoded token");
}

BOOST_AUTO_TEST_CASE(an_unparseable_key_value_dsn_hides_every_piece_of_its_password) {
  check_hidden(open_error("host=127.0.0.1 port=1 password='Hunter2 Secret"), {"Hunter2", "Secret"},
               "unterminated quoted string");
  // Unquoted, the space ends the password and libpq quotes the rest as a keyword.
  check_hidden(open_error("host=127.0.0.1 port=1 password=Hunter2 Secret"), {"Hunter2", "Secret"}, "missing \"=\"");
}

BOOST_AUTO_TEST_CASE(a_uri_password_holding_a_slash_or_an_at_sign_is_hidden) {
  // libpq reads "u:Hu/nter2" as host and port, and quotes the port it cannot use.
  check_hidden(open_error("postgresql://u:Hu/nter2@127.0.0.1:1/x"), {"\"Hu\"", "nter2"}, "port");
  // With two '@', libpq takes the first and quotes the rest as a host name.
  check_hidden(open_error("postgresql://u:Hu@nter2@127.0.0.1:1/x?connect_timeout=5"), {"nter2"},
               "could not translate host name");
}

BOOST_AUTO_TEST_CASE(a_parsed_uri_hides_its_password_in_every_spelling) {
  auto text = open_error("postgresql://u:Hunter2%40Secret@127.0.0.1:1/x?connect_timeout=5");
  check_hidden(text, {"Hunter2", "Secret", "%40"}, "Connection refused");
  auto quoted = open_error("host=127.0.0.1 port=1 connect_timeout=5 password='Hunter2 \\'Secret'");
  check_hidden(quoted, {"Hunter2", "Secret"}, "Connection refused");
}

BOOST_AUTO_TEST_CASE(masking_a_dsn_hides_an_escaped_quote_and_a_query_password) {
  auto escaped = "host=h user=u password='SECRET\\'Q5' dbname=d";
  BOOST_TEST(cano::mask_dsn_password(escaped, escaped) == "host=h user=u password=*** dbname=d");
  auto uri = "postgres://u:SECRETQ7@h:5/d?password=SECRETQ8&sslmode=disable";
  BOOST_TEST(cano::mask_dsn_password(uri, uri) == "postgres://u:***@h:5/d?password=***&sslmode=disable");
  auto encoded = "postgresql://h/d?sslmode=disable&pass%77ord=SECRET%41Q9";
  BOOST_TEST(cano::mask_dsn_password(encoded, std::string("saw SECRETAQ9 and SECRET%41Q9")) == "saw *** and ***");
}

BOOST_AUTO_TEST_CASE(an_unknown_option_is_named_and_only_the_password_hidden) {
  auto text = open_error("host=127.0.0.1 port=1 bogusopt=1 password=Hunter2Secret");
  check_hidden(text, {"Hunter2"}, "invalid connection option \"bogusopt\"");
  BOOST_TEST(text.find("could not be parsed") == std::string::npos, text);
  // Masked twice (a tool scrubs the store's message again), a message says so once.
  const std::string spaced = "host=127.0.0.1 port=1 password=Hunter2 Secret";
  auto unparsed = open_error(spaced);
  BOOST_TEST(unparsed.find("could not be parsed") != std::string::npos, unparsed);
  BOOST_TEST(cano::mask_dsn_password(spaced, unparsed) == unparsed);
}

BOOST_AUTO_TEST_CASE(a_wrong_uri_password_is_refused_by_the_server_and_hidden,
                     *boost::unit_test::precondition(postgres_configured())) {
  auto auth = env_or_empty("CANO_PG_AUTH_DSN");
  BOOST_REQUIRE_MESSAGE(!auth.empty(), "CANO_PG_AUTH_DSN is not set (scripts/test.sh sets it)");
  std::smatch port;
  BOOST_REQUIRE(std::regex_search(auth, port, std::regex("port=([0-9]+)")));
  auto uri = "postgresql://cano_auth:Wrong%2FHunter2@127.0.0.1:" + port[1].str() + "/cano_auth";
  check_hidden(open_error(uri), {"Hunter2", "Wrong"}, "password authentication failed");
}

BOOST_AUTO_TEST_SUITE_END()
