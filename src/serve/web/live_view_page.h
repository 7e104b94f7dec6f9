// The live view's page: one HTML document with its script and style inside, so that it works with no network.
#pragma once
#include <string_view>

namespace crowdrt::serve {

std::string_view live_view_page();

}  // namespace crowdrt::serve
