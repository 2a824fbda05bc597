"""The sanctions service (placeholder: the app factory arrives with shared.web)."""
