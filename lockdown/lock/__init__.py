"""Lock files: PEP 751 pylock.toml (read, write, validate) and exports."""
