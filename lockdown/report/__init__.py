"""Human- and machine-readable reports of what lockdown found or did."""
