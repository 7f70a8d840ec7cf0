// Everything a generated CPU model library includes.
#pragma once

#include "attention.h"
#include "binding.h"
#include "elementwise.h"
#include "encoder_attention.h"
#include "int4_tiles.h"
#include "int4_tiles_vnni.h"
#include "layer_norm.h"
#include "linear.h"
#include "positions.h"
#include "quantized.h"
#include "rms_norm.h"
#include "rows.h"
