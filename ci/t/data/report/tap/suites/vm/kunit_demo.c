this TAP must not be read: result.json has the subtests
ok 1 - wrong
1..1
