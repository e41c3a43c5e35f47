"""The HTTP layer: owns the vendor's wire format (form bodies, SIDs, meta, error JSON, URLs)."""
