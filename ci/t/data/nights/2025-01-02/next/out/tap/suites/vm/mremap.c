ok 1 - first
ok 2 - second
ok 3 # SKIP not here tonight
1..3
