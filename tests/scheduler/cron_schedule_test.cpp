// Cron expressions as cano's `cron` crate reads them: the next fire time from fixed instants
// (expected values computed independently, by a day-by-day brute force over the same rules),
// and invalid expressions with their exact messages.
#include <cstdio>
#include <ctime>
#include <string>

#include <boost/test/unit_test.hpp>

#include "cano/cron.hpp"

namespace {

using time_point = std::chrono::system_clock::time_point;

/// "2024-02-29T00:00:00" or "2024-01-31T23:59:59.999", UTC; through libc's timegm.
time_point utc(const std::string& text) {
  std::tm tm{};
  int ms = 0;
  int n = std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%d.%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                      &tm.tm_min, &tm.tm_sec, &ms);
  BOOST_REQUIRE(n >= 6);
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return std::chrono::system_clock::from_time_t(timegm(&tm)) + std::chrono::milliseconds(ms);
}

std::string show(const std::optional<time_point>& t) {
  if (!t) {
    return "none";
  }
  auto secs = std::chrono::system_clock::to_time_t(*t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  return buf;
}

struct fire_case {
  const char* expression;
  const char* from;
  const char* next; // nullptr: never fires again
};

const fire_case fire_table[] = {
  // every second, sub-second start, year rollover
  {"* * * * * *", "2024-01-01T00:00:00", "2024-01-01T00:00:01"},
  {"* * * * * *", "2024-01-01T00:00:00.500", "2024-01-01T00:00:01"},
  {"* * * * * *", "2023-12-31T23:59:59", "2024-01-01T00:00:00"},
  {"0 * * * * *", "2024-01-01T00:00:00", "2024-01-01T00:01:00"},
  {"0 0 * * * *", "2024-03-10T10:59:59", "2024-03-10T11:00:00"},
  {"0 */5 * * * *", "2024-05-05T12:03:17", "2024-05-05T12:05:00"},
  // strictly after: a start on a fire time gets the next one
  {"0 0 9 * * MON", "2024-01-01T09:00:00", "2024-01-08T09:00:00"},
  {"0 0 9 * * MON", "2024-01-01T08:59:59", "2024-01-01T09:00:00"},
  // Feb 29 in leap and common years, month ends
  {"0 0 0 * * *", "2024-02-28T12:00:00", "2024-02-29T00:00:00"},
  {"0 0 0 29 2 *", "2023-03-01T00:00:00", "2024-02-29T00:00:00"},
  {"0 0 0 29 2 *", "2024-02-29T00:00:00", "2028-02-29T00:00:00"},
  {"0 0 0 29 2 *", "2096-03-01T00:00:00", nullptr}, // 2100 is not a leap year
  {"0 0 0 31 * *", "2024-04-15T00:00:00", "2024-05-31T00:00:00"},
  {"0 0 0 31 * *", "2024-01-31T00:00:00", "2024-03-31T00:00:00"},
  {"0 0 0 30 2 *", "2024-01-01T00:00:00", nullptr},
  {"0 0 0 28-31 2 *", "2023-02-28T00:00:00", "2024-02-28T00:00:00"},
  {"0 0 0 28-31 2 *", "2024-02-28T00:00:00", "2024-02-29T00:00:00"},
  {"0 0 0 */10 * *", "2024-02-21T00:00:00", "2024-03-01T00:00:00"},
  {"0 0 0 1 * *", "2024-12-15T00:00:00", "2025-01-01T00:00:00"},
  {"0 0 0 1 * *", "2024-01-31T23:59:59.999", "2024-02-01T00:00:00"},
  // shorthands
  {"@yearly", "2024-06-01T00:00:00", "2025-01-01T00:00:00"},
  {"@monthly", "2024-01-31T23:59:59", "2024-02-01T00:00:00"},
  {"@weekly", "2024-01-01T00:00:00", "2024-01-07T00:00:00"},
  {"@daily", "2024-01-01T00:00:00", "2024-01-02T00:00:00"},
  {"@hourly", "2024-01-01T00:30:00", "2024-01-01T01:00:00"},
  // both day fields must match
  {"0 0 0 13 * FRI", "2024-01-01T00:00:00", "2024-09-13T00:00:00"},
  {"0 0 0 1 * MON", "2024-01-02T00:00:00", "2024-04-01T00:00:00"},
  {"0 0 0 1-7 * MON", "2024-01-02T00:00:00", "2024-02-05T00:00:00"},
  {"0 0 0 29 2 MON", "2024-03-01T00:00:00", "2044-02-29T00:00:00"},
  {"0 0 12 31 DEC SAT", "2024-01-01T00:00:00", "2033-12-31T12:00:00"},
  {"0 0 0 ? * SUN", "2024-01-01T00:00:00", "2024-01-07T00:00:00"},
  {"0 0 0 15 * ?", "2024-01-16T00:00:00", "2024-02-15T00:00:00"},
  // day-of-week: 1 = Sunday, 7 = Saturday, names in any case
  {"0 0 12 * * 1", "2024-01-01T00:00:00", "2024-01-07T12:00:00"},
  {"0 0 12 * * 7", "2024-01-01T00:00:00", "2024-01-06T12:00:00"},
  {"0 0 12 * * sat,sun", "2024-01-01T00:00:00", "2024-01-06T12:00:00"},
  {"0 30 9 * * MON-FRI", "2024-01-05T09:30:00", "2024-01-08T09:30:00"},
  {"0 0 0 * * SUN", "2024-12-29T00:00:00", "2025-01-05T00:00:00"},
  // months by name, named ranges with steps
  {"0 0 0 1 JAN-MAR/2 *", "2024-02-01T00:00:00", "2024-03-01T00:00:00"},
  {"0 0 0 1 FEB,aug *", "2024-03-01T00:00:00", "2024-08-01T00:00:00"},
  // lists, ranges with steps, N/K = N to the maximum
  {"15,45 * * * * *", "2024-01-01T00:00:20", "2024-01-01T00:00:45"},
  {"10-20/5 * * * * *", "2024-01-01T00:00:16", "2024-01-01T00:00:20"},
  {"10/20 * * * * *", "2024-01-01T00:00:31", "2024-01-01T00:00:50"},
  {"10/20 * * * * *", "2024-01-01T00:00:50", "2024-01-01T00:01:10"},
  {"0 0 */6 * * *", "2024-01-01T18:00:00", "2024-01-02T00:00:00"},
  // year field, sparse schedules, the end of 2100
  {"0 0 0 1 1 * 2030", "2024-05-01T00:00:00", "2030-01-01T00:00:00"},
  {"0 0 0 1 1 * 2020", "2024-05-01T00:00:00", nullptr},
  {"0 0 0 1 1 * 2025-2040/5", "2025-01-01T00:00:00", "2030-01-01T00:00:00"},
  {"59 59 23 31 12 *", "2024-06-01T00:00:00", "2024-12-31T23:59:59"},
  {"59 59 23 31 12 *", "2024-12-31T23:59:59", "2025-12-31T23:59:59"},
  {"0 0 0 31 12 * 2100", "2099-01-01T00:00:00", "2100-12-31T00:00:00"},
  {"* * * * * * 2100", "2100-12-31T23:59:59", nullptr},
  {"0 0 0 1 1 *", "1960-06-01T00:00:00", "1970-01-01T00:00:00"},
  // whitespace around and between fields
  {"  0 0 0 * * *  ", "2024-01-01T00:00:00", "2024-01-02T00:00:00"},
  {"0\t0\t0\t*\t*\t*", "2024-01-01T00:00:00", "2024-01-02T00:00:00"},
  // our 5-field extension: seconds 0, the same field rules
  {"30 9 * * MON", "2024-01-01T09:30:00", "2024-01-08T09:30:00"},
  {"*/15 * * * *", "2024-01-01T00:07:00", "2024-01-01T00:15:00"},
};

struct invalid_case {
  const char* expression;
  const char* message; // after "Invalid cron expression: "
};

const invalid_case invalid_table[] = {
  {"", "\"\" has 0 fields; expected 6 or 7 (seconds minutes hours day-of-month month day-of-week "
       "[year]) or 5 "
       "(minutes hours day-of-month month day-of-week)"},
  {"* * * *", "\"* * * *\" has 4 fields; expected 6 or 7 (seconds minutes hours day-of-month month "
              "day-of-week "
              "[year]) or 5 (minutes hours day-of-month month day-of-week)"},
  {"invalid cron", "\"invalid cron\" has 2 fields; expected 6 or 7 (seconds minutes hours day-of-month month "
                   "day-of-week [year]) or 5 (minutes hours day-of-month month day-of-week)"},
  {"* * * * * * * *", "\"* * * * * * * *\" has 8 fields; expected 6 or 7 (seconds minutes hours day-of-month "
                      "month day-of-week [year]) or 5 (minutes hours day-of-month month day-of-week)"},
  {"60 * * * * *", "seconds \"60\": 60 is outside 0-59"},
  {"* 60 * * * *", "minutes \"60\": 60 is outside 0-59"},
  {"* * 24 * * *", "hours \"24\": 24 is outside 0-23"},
  {"* * * 0 * *", "day-of-month \"0\": 0 is outside 1-31"},
  {"* * * 32 * *", "day-of-month \"32\": 32 is outside 1-31"},
  {"* * * * 13 *", "month \"13\": 13 is outside 1-12"},
  {"* * * * * 0", "day-of-week \"0\": 0 is outside 1-7"},
  {"* * * * * 8", "day-of-week \"8\": 8 is outside 1-7"},
  {"0 0 0 1 1 * 1969", "year \"1969\": 1969 is outside 1970-2100"},
  {"0-65 * * * * *", "seconds \"0-65\": 65 is outside 0-59"},
  {"99999999999 * * * * *", "seconds \"99999999999\": 99999999999 is outside 0-59"},
  {"* * * * * MON,TURTLE", "day-of-week \"MON,TURTLE\": \"TURTLE\" is not a day of the week (SUN … SAT)"},
  {"* * * * FOO *", "month \"FOO\": \"FOO\" is not a month (JAN … DEC)"},
  {"JAN * * * * *", "seconds \"JAN\": names are only allowed in month and day-of-week, not \"JAN\""},
  {"*/0 * * * * *", "seconds \"*/0\": step 0 is outside 1-59"},
  {"*/60 * * * * *", "seconds \"*/60\": step 60 is outside 1-59"},
  {"* * */24 * * *", "hours \"*/24\": step 24 is outside 1-23"},
  {"1,2,3/60 * * * * *", "seconds \"1,2,3/60\": step 60 is outside 1-59"},
  {"0 0 0 1 1 ? 2020-2040/2200", "year \"2020-2040/2200\": step 2200 is outside 1-2100"},
  {"*/x * * * * *", "seconds \"*/x\": step \"x\" is not a number"},
  {"* * * * * TUES/2", "day-of-week \"TUES/2\": a step needs \"*\", a range or a number before \"/\", not \"TUES\""},
  {"? * * * * *", "seconds \"?\": \"?\" is only allowed in day-of-month and day-of-week"},
  {"* * * * ? *", "month \"?\": \"?\" is only allowed in day-of-month and day-of-week"},
  {"30-10 * * * * *", "seconds \"30-10\": range 30-10 ends before it starts"},
  {"* * * * * FRI-MON", "day-of-week \"FRI-MON\": range FRI-MON ends before it starts"},
  {"* * * * * 3-THURS", "day-of-week \"3-THURS\": \"3-THURS\" is not a range of two numbers or two names"},
  {"1,,2 * * * * *", "seconds \"1,,2\": empty item in the list"},
  {"* * * * * MON#2", "day-of-week \"MON#2\": \"MON#2\" is not a number, a name, a range or a step"},
  {"@daly", "unknown shorthand \"@daly\" (known: @yearly, @monthly, @weekly, @daily, @hourly)"},
  {"*/15 * * * 0", "day-of-week \"0\": 0 is outside 1-7"}, // 5-field form: cano's day numbers
};

} // namespace

BOOST_AUTO_TEST_SUITE(cron_schedule_test)

BOOST_AUTO_TEST_CASE(next_fire_times_from_fixed_instants_match_the_table) {
  BOOST_TEST(std::size(fire_table) >= 40u);
  for (const auto& c : fire_table) {
    auto s = cano::CronSchedule::parse(c.expression);
    BOOST_TEST_REQUIRE(s.has_value(), c.expression << ": " << (s ? "" : s.error().to_string()));
    auto next = s->next_after(utc(c.from));
    std::optional<time_point> want;
    if (c.next != nullptr) {
      want = utc(c.next);
    }
    BOOST_TEST(show(next) == show(want), "\"" << c.expression << "\" after " << c.from);
    BOOST_TEST((next == want), "\"" << c.expression << "\" after " << c.from << " is a whole second");
    if (next) {
      BOOST_TEST(s->includes(*next), c.expression);
    }
  }
}

BOOST_AUTO_TEST_CASE(invalid_expressions_are_configuration_errors_naming_field_and_value) {
  BOOST_TEST(std::size(invalid_table) >= 10u);
  for (const auto& c : invalid_table) {
    auto s = cano::CronSchedule::parse(c.expression);
    BOOST_TEST_REQUIRE(!s.has_value(), "\"" << c.expression << "\" was accepted");
    BOOST_TEST(s.error().code() == cano::errc::configuration);
    BOOST_TEST(s.error().message() == std::string("Invalid cron expression: ") + c.message);
  }
}

BOOST_AUTO_TEST_CASE(every_fire_time_of_a_day_is_found_in_order) {
  // "*/7 */13 3-5 * * *": walking next_after through one day visits exactly the matching seconds.
  auto s = cano::CronSchedule::parse("*/7 */13 3-5 * * *");
  BOOST_TEST_REQUIRE(s.has_value());
  auto t = utc("2024-07-01T00:00:00");
  const auto end = utc("2024-07-02T00:00:00");
  int fires = 0;
  for (auto next = s->next_after(t); next && *next < end; next = s->next_after(*next)) {
    BOOST_TEST(s->includes(*next));
    BOOST_TEST((*next > t));
    t = *next;
    ++fires;
  }
  BOOST_TEST(fires == 9 * 5 * 3); // seconds 0,7,…,56 × minutes 0,13,26,39,52 × hours 3,4,5
}

BOOST_AUTO_TEST_CASE(includes_needs_every_field_to_match) {
  auto s = cano::CronSchedule::parse("0 0 12 13 * FRI");
  BOOST_TEST_REQUIRE(s.has_value());
  BOOST_TEST(s->includes(utc("2024-09-13T12:00:00")));  // Friday the 13th
  BOOST_TEST(!s->includes(utc("2024-10-13T12:00:00"))); // a Sunday
  BOOST_TEST(!s->includes(utc("2024-09-20T12:00:00"))); // a Friday, not the 13th
  BOOST_TEST(!s->includes(utc("2024-09-13T12:00:01")));
  BOOST_TEST(s->expression() == "0 0 12 13 * FRI");
}

BOOST_AUTO_TEST_SUITE_END()
