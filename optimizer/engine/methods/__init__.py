"""Solution methods the engine chooses among per block: greedy, matching, aggregation, column generation."""
