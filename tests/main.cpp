#define BOOST_TEST_MODULE cano_actor tests
#include <boost/test/unit_test.hpp>
