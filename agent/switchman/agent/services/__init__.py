"""Services on blue/green slots (SPEC 3.4): drivers run slots, routers flip
traffic, the manager switches, rolls back and reconciles after a crash."""
