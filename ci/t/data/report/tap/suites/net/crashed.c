ok 1 - first
ok 2 - second
not ok 3 - kernel panic while the test ran: Kernel panic - not syncing: sysrq triggered crash
# console (kernel panic):
#   Kernel panic - not syncing: sysrq triggered crash
1..3
