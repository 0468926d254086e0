"""The engine: from a validated instance to an optimal plan (data, pairs, model, methods, backends, solve)."""
