"""Target environments: interpreters and installed files, read without importing them."""
