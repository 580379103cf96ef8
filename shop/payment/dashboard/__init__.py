"""Platform staff's payment pages (/dashboard/payments/): refunds and the
online payments that need someone to look at them."""
