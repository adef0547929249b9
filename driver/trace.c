// SPDX-License-Identifier: GPL-2.0
/*
 * The one place the tracepoints are instantiated.
 *
 * Defining CREATE_TRACE_POINTS before including trace.h makes
 * <trace/define_trace.h> emit the event bodies and their format
 * descriptions.  Every other file includes trace.h without it and only
 * gets the inline trace_tnvme_*() calls.  Doing this in two .c files
 * would define each event twice.
 */
#define CREATE_TRACE_POINTS
#include "trace.h"
