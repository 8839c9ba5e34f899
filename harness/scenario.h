/* scenario.h - a console scenario (suites/SUITE/NAME.py: a Python script
 * that drives throwaway `vkci boot` consoles through harness/vkciconsole.py)
 * run as one attempt of a test, like instance_run() for a C test, so that
 * retries, quarantine and result.json treat both alike.
 *
 * The script runs under VKCI_PYTHON (default /usr/bin/python3) with the
 * run's settings in its environment (VKCI, VKCI_KERNEL, VKCI_IMAGE,
 * VKCI_PAYLOAD, VKCI_RUNDIR, VKCI_LOG_DIR, VKCI_TEST, VKCI_TIMEOUT,
 * VKCI_BACKEND). Its stdout is its TAP, relayed line by line through emit;
 * its stderr stays vkci's; on fd 3 (VKCI_RESULT_FD) it writes one JSON
 * object about itself (RESULT.md), which fills the result; its exit status
 * is 0 passed, 1 failed, 3 could not run. */
#ifndef VKCI_SCENARIO_H
#define VKCI_SCENARIO_H

#include "instance.h"

int scenario_run(const struct instance_config *cfg, verdict_emit emit, void *ctx,
		 struct vkci_result *res);

#endif
