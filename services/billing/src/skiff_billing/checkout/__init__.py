"""Buying credits: a hosted checkout at Stripe or Polar, and the providers' customer portals."""
