"""Training runs: shared checkpoint/resume and history pieces, one module per model."""
