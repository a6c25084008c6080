"""Data loaders: each returns the same in-memory form whatever the source."""
