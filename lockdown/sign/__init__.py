"""Signing and verifying lock files: Sigstore keyless, and ECDSA keys for air-gapped sites."""
