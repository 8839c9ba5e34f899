#!/bin/sh
# the C unit tests (harness/t/unit.c), built by make test
top=$(cd "$(dirname "$0")/../.." && pwd)
exec "${VKCI_BUILD:-$top/build}/t/unit"
