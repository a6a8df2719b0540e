/*
 * deploy/deploy-int.h - internals of the deploy layer.
 * Not installed; see docs/architecture.md.
 */
#ifndef TIERCA_DEPLOY_INT_H
#define TIERCA_DEPLOY_INT_H

#include "tierca/layer.h"

#if !defined(TIERCA_LAYER) || TIERCA_LAYER < 6 || TIERCA_LAYER >= TIERCA_LAYER_TOOL
#error "deploy/deploy-int.h is internal to libca's deploy layer and those above it"
#endif

#include "auto/auto-int.h"
#include "tierca/deploy.h"



#endif
