"""Delivery guarantees: receipts, answers kept for redelivered requests, reply expiry, what was sent."""
