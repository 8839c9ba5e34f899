/* commands.h - the vkci commands that run no instance of their own: build
 * (harness/build.c through its options) and bisect (ci/bisect.py). Each
 * returns the exit status vkci exits with. */
#ifndef VKCI_COMMANDS_H
#define VKCI_COMMANDS_H

int cmd_build(int argc, char **argv);
int cmd_bisect(int argc, char **argv);

#endif
