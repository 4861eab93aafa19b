"""Purchases of credits: pending until the provider says paid; refunds and disputes after."""
