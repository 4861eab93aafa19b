"""The payment providers Skiff calls (Stripe, Polar), each through its real SDK."""
