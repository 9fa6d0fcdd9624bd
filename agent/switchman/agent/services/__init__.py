"""Services on blue/green slots (SPEC 3.4): drivers run slots (picked by
:mod:`.drivers.registry`), routers flip traffic, the manager switches, rolls
back and reconciles after a crash, :mod:`.view` tells what each slot is doing."""
