"""Settings: read and validated once, then handed to each component (only what it needs)."""
