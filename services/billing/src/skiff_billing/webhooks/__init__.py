"""Stripe and Polar webhooks: verified by the providers' libraries, each effect applied once."""
