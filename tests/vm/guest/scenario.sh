#!/bin/bash
# Runs one scenario file (runner.sh starts it under a deadline): the helpers
# of lib.sh, and any command that fails unexpectedly fails the scenario with
# its line and text as the reason.
set -eEuo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
trap 'fail "line $LINENO of $(basename "$1"): \"$BASH_COMMAND\" failed"' ERR
log "scenario $(basename "$1" .sh): GPU $GPU ($(driver "$GPU")), NIC $NIC, audio $AUDIO"
# shellcheck source=/dev/null
source "$1"
log "scenario $(basename "$1" .sh) done"
