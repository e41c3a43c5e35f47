"""The rules of the Plugin Service: entities, validation and invariants; no HTTP, no SQL."""
