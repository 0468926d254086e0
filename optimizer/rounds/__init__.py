"""Weekly allocation rounds: the ledger's database (:mod:`.ledger`) and the round workflow (:mod:`.workflow`)."""
