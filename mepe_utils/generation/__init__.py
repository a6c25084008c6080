"""Phase 5C: replies that follow the controls (prompt format, control measurement, retrieval and T5 backends)."""
