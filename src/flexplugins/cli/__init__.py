"""The `flexplugins` command line."""
