"""Response and request schemas of the v2 API (field names and enums as MGnify's public API)."""
