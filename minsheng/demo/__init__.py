"""Generated demo data (never imported by production code)."""
