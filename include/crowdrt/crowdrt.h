// crowdrt's public C++ API in one include: Engine, Builder, FrameSource, Preprocessor, zones, Error.
// Link with the imported target crowdrt::crowdrt (find_package(crowdrt)) or `pkg-config --libs crowdrt`.
#pragma once

#include "crowdrt/builder.h"
#include "crowdrt/engine.h"
#include "crowdrt/error.h"
#include "crowdrt/frames.h"
#include "crowdrt/tensor.h"
#include "crowdrt/version.h"
#include "crowdrt/zones.h"
