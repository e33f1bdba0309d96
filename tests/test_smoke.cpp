#include <catch2/catch.hpp>

#include "models/supernet.h"

TEST_CASE("spaces load", "[models]") {
  for (const char* f : {"ofa_mbv3", "ofa_resnet50", "compofa_mbv3", "fmnist_tiny"}) {
    auto s = sushi::SupernetSpace::load(std::string("workloads/supernets/") + f + ".yaml");
    REQUIRE(!s.tensors().empty());
  }
}
