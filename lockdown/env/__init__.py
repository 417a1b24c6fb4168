"""Target environments: their interpreters and installed files, read without importing their code."""
