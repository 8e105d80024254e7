// Everything a DSL application includes: StreamsBuilder, KStream, the config objects and the Processor API.
#pragma once

#include "eddy/core/serde.h"
#include "eddy/dsl/kgrouped_stream.h"
#include "eddy/dsl/kstream.h"
#include "eddy/dsl/ktable.h"
#include "eddy/dsl/materialized.h"
#include "eddy/dsl/named.h"
#include "eddy/dsl/streams_builder.h"
#include "eddy/dsl/windowed_serde.h"
#include "eddy/dsl/windows.h"
#include "eddy/runtime/key_value.h"
#include "eddy/runtime/processor.h"
#include "eddy/runtime/topology.h"
#include "eddy/state/stores.h"
