/* SPDX-License-Identifier: MIT */
/* virtrpc: the umbrella header. */
#ifndef VIRTRPC_VIRTRPC_H
#define VIRTRPC_VIRTRPC_H

#include <virtrpc/types.h>
#include <virtrpc/conn.h>
#include <virtrpc/consts.h>
#include <virtrpc/protocol.h>
#include <virtrpc/events.h>
#include <virtrpc/simple.h>
#include <virtrpc/stream.h>
#include <virtrpc/typedparams.h>

#endif
