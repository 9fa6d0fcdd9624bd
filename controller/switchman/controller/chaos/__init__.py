"""Chaos on the controller side (SPEC 4.7): ad hoc faults forwarded to
agents (:mod:`.faults`) and drills (:mod:`.drills`)."""
