"""Auto top-up: below a threshold, charge the saved card for a package, within limits."""
