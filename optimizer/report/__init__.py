"""The round report: one self-contained HTML page (:mod:`.html`) and the terminal summary (:mod:`.summary`)."""
