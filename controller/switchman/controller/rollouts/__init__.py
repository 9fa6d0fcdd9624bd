"""Fleet rollouts (SPEC 4.6): a pure state machine (:mod:`.machine`) over a
persisted document (:mod:`.model`, :mod:`.store`), driven by a thin executor
(:mod:`.executor`) that talks to the agents."""
