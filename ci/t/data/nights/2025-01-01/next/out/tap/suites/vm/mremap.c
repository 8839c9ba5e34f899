ok 1 - first
ok 2 - second
ok 3 - third
1..3
